"""The overview figures: KPIs, quarterly quotas, the bulletin ranking and the campaign calendar.

Pure pandas over the campaign frames (``Campaign.indicators``, ``Campaign.unique_hazards``);
no Panel, so the dashboard and the briefing exports compute the same numbers.

Dispatch forms report cumulative figures since May 2023. Where a unit skipped a
month, its latest reported value stands for it ("latest reported value per unit and
key"); a value never reported is missing, not zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from loaders.reference import (
    CAMPAIGN_END_PERIOD,
    CAMPAIGN_START_PERIOD,
    QUOTA_COUNTY_HAZARDS,
    QUOTA_DEPARTMENT_HAZARDS,
    QUOTA_TYPICAL_CASES,
    REPORT_DAY,
    STAGES,
)
from metrics import dispatch, indicators as form_figures
from metrics.filters import HazardFilter

# Derived key: hazards a unit found. Counties and zones (附件3) report what enterprises found
# themselves and what departments found; city departments (附件4) only what they found.
HAZARDS_FOUND = "hazards_found"
FOUND_KEYS = ("self_found", "dept_found")
DEPARTMENT_FOUND_KEYS = ("dept_found",)

# Quarters of the campaign. It started in May, so its first quarter has two months.
QUARTERS = {
    "2023Q2": ("2023-05", "2023-06"),
    "2023Q3": ("2023-07", "2023-09"),
    "2023Q4": ("2023-10", "2023-12"),
}

# Dated milestones of the plan besides the monthly reports: key -> due date.
MILESTONES = {
    "notice_boards": dt.date(2023, 6, 30),  # 6月底前完成责任公示牌悬挂
    "final_summary": dt.date(2023, 12, 15),  # 12月15日前报送工作总结
}

# Form keys summed into the KPI cards.
_KPI_FORM_KEYS = (
    "self_found", "dept_found", "self_rectified", "dept_rectified", "supervised", "supervised_rectified",
    "penalties", "fines_wan", "dual_penalties", "suspensions", "exposures", "judicial_transfers", "accountability",
)


def latest_cumulative(indicators: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """The latest reported cumulative value per unit and key, up to ``period`` (YYYY-MM) inclusive.

    Returns one row per (unit, key) with columns unit, unit_type, key, period (the
    period that value was reported for) and cumulative.
    """
    rows = form_figures.restrict(indicators, period_end=period or "")
    latest = form_figures.latest_cumulative(rows, rows["key"].unique())
    return latest.sort_values(["unit", "key"]).reset_index(drop=True)


def wide_values(latest: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Wide table of ``latest_cumulative`` rows: one row per unit (index), column unit_type and one column per key."""
    wide = latest[latest["key"].isin(keys)].pivot(index="unit", columns="key", values="cumulative")
    wide = wide.reindex(columns=list(keys))
    types = latest.drop_duplicates("unit").set_index("unit")["unit_type"]
    wide.insert(0, "unit_type", types.reindex(wide.index))
    wide.columns.name = None
    return wide


def hazards_found(values: pd.DataFrame) -> pd.Series:
    """Hazards found per unit from a frame with unit_type and the found keys (missing when none reported)."""
    county_found = values[list(FOUND_KEYS)].sum(axis=1, min_count=1)
    department_found = values[list(DEPARTMENT_FOUND_KEYS)].sum(axis=1, min_count=1)
    return county_found.where(values["unit_type"] != "department", department_found)


def filter_units(frame: pd.DataFrame, spec: HazardFilter) -> pd.DataFrame:
    """Rows of ``frame`` (with unit and unit_type columns) whose unit passes the unit part of ``spec``."""
    return form_figures.restrict(frame, spec.units, spec.unit_type)


def forms_follow_filter(spec: HazardFilter) -> bool:
    """Whether form figures follow ``spec`` completely: forms know their unit and period, nothing else."""
    return replace(spec, units=(), unit_type="", period_start="", period_end="").is_empty


@dataclass(frozen=True)
class OverviewKpis:
    """Headline figures for the units (and hazards) in a filter.

    Form figures are sums of each unit's latest cumulative value; ledger figures count
    unique hazards. ``units_reporting`` is the number of units whose forms are summed.
    """

    units_reporting: int
    period: str | None  # latest form period included
    self_found: float
    dept_found: float
    self_rectified: float
    dept_rectified: float
    supervised: float
    supervised_rectified: float
    penalties: float
    fines_wan: float
    dual_penalties: float
    suspensions: float
    exposures: float
    judicial_transfers: float
    accountability: float
    ledger_hazards: int
    ledger_supervised_city: int
    ledger_supervised_county: int
    ledger_supervised_province: int
    overdue: int
    forms_follow_filter: bool

    @property
    def hazards_found(self) -> float:
        return self.self_found + self.dept_found

    @property
    def rectified(self) -> float:
        return self.self_rectified + self.dept_rectified

    @property
    def rectification_rate(self) -> float | None:
        """Share of found hazards rectified (0..1), None when none were found."""
        return self.rectified / self.hazards_found if self.hazards_found else None


def kpis(
    indicators: pd.DataFrame,
    hazards: pd.DataFrame,
    spec: HazardFilter = HazardFilter(),
    period: str | None = None,
    latest: pd.DataFrame | None = None,
) -> OverviewKpis:
    """KPIs for a filter.

    ``hazards`` are the unique hazards the filter leaves (``metrics.filters.filter_hazards``):
    the ledger figures (supervision levels, overdue at the campaign's as-of date)
    count them. Form figures follow only the unit and unit-type part of ``spec``
    (forms have no sector) and use each unit's latest value up to ``period``
    (default: the period end of ``spec``, else everything); ``latest`` may pass a
    precomputed ``latest_cumulative(indicators, period)``.
    """
    period = period or spec.period_end or None
    latest = latest if latest is not None else latest_cumulative(indicators, period)
    latest = filter_units(latest, spec)
    sums = latest[latest["key"].isin(_KPI_FORM_KEYS)].groupby("key")["cumulative"].sum()
    levels = hazards["supervision_level"].value_counts()
    return OverviewKpis(
        units_reporting=int(latest["unit"].nunique()),
        period=latest["period"].max() if not latest.empty else None,
        **{key: float(sums.get(key, 0.0)) for key in _KPI_FORM_KEYS},
        ledger_hazards=len(hazards),
        ledger_supervised_city=int(levels.get("city", 0)),
        ledger_supervised_county=int(levels.get("county", 0)),
        ledger_supervised_province=int(levels.get("province", 0)),
        overdue=int(hazards["overdue"].astype(bool).sum()),
        forms_follow_filter=forms_follow_filter(spec),
    )


def quarter_of(period: str) -> str | None:
    """The campaign quarter ("2023Q3") a period (YYYY-MM) falls in, None outside the campaign."""
    for quarter, (first, last) in QUARTERS.items():
        if first <= period <= last:
            return quarter
    return None


def quarter_periods(quarter: str) -> list[str]:
    first, last = QUARTERS[quarter]
    return [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]


def hazard_quota(unit_type: pd.Series) -> pd.Series:
    """Hazards each unit must find per quarter: departments 10, counties and zones (各地) 30."""
    return pd.Series(QUOTA_COUNTY_HAZARDS, index=unit_type.index).where(unit_type != "department", QUOTA_DEPARTMENT_HAZARDS)


def _split_periods(text: object) -> list[str]:
    """The months of a ``gap_periods`` cell ("2023-06,2023-07"; "" or missing: none)."""
    if not isinstance(text, str):
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def join_periods(periods) -> str:
    """Months (YYYY-MM) sorted and comma-joined, the form ``gap_periods`` and ``missing_periods`` use."""
    return ",".join(sorted(set(periods)))


def quarter_progress(indicators: pd.DataFrame, quarter: str) -> pd.DataFrame:
    """Progress of every unit against the quarterly quotas.

    Hazards found in the quarter are the summed monthly increments of self_found and
    dept_found (departments: dept_found) over the quarter's periods; typical cases
    likewise from typical_cases. Units that filed no form in the quarter have missing
    figures and count as behind.

    Gaps (a month a unit did not report is missing, not zero): a month of the quarter
    counts as reported for a figure only when the unit reported every key the figure
    sums that month ("—" on the form is not reported). A figure is *provisional* when
    it depends on a missing month: a month of the quarter the unit did not report for
    one of its keys (only months up to the latest period anyone reported: later months
    are not due yet), or a month an increment inside the quarter spans without a report
    (``gap_periods`` of the loader; July's increment after a missing June includes June).
    ``missing_periods`` / ``cases_missing_periods`` name those months, comma-joined.

    Columns: unit, unit_type, periods_reported, periods_in_quarter, hazards_found,
    hazards_quota, provisional, missing_periods, typical_cases, cases_quota,
    cases_provisional, cases_missing_periods, behind_hazards, behind_cases, behind.
    """
    periods = quarter_periods(quarter)
    known = indicators[indicators["period"] <= periods[-1]].drop_duplicates("unit")[["unit", "unit_type"]]
    in_quarter = indicators[indicators["period"].isin(periods)]
    latest_received = indicators["period"].max() if not indicators.empty else None
    due = [p for p in periods if latest_received is not None and p <= latest_received]
    counted = in_quarter["key"].isin(FOUND_KEYS) & (
        (in_quarter["unit_type"] != "department") | in_quarter["key"].isin(DEPARTMENT_FOUND_KEYS)
    )
    found_rows = in_quarter[counted]
    case_rows = in_quarter[in_quarter["key"] == "typical_cases"]
    found = found_rows.groupby("unit")["increment"].sum(min_count=1)
    cases = case_rows.groupby("unit")["increment"].sum(min_count=1)

    progress = known.set_index("unit")
    found_keys = {unit: (DEPARTMENT_FOUND_KEYS if unit_type == "department" else FOUND_KEYS)
                  for unit, unit_type in progress["unit_type"].items()}
    found_gaps, found_reported = _quarter_gaps(found_rows, found_keys, due)
    case_gaps, _ = _quarter_gaps(case_rows, {unit: ("typical_cases",) for unit in progress.index}, due)

    progress["periods_reported"] = pd.Series(found_reported).reindex(progress.index).fillna(0).astype(int)
    progress["periods_in_quarter"] = len(periods)
    progress["hazards_found"] = found.reindex(progress.index)
    progress["hazards_quota"] = hazard_quota(progress["unit_type"])
    progress["missing_periods"] = pd.Series(found_gaps, dtype=object).reindex(progress.index).fillna("").astype(str)
    progress["provisional"] = progress["hazards_found"].notna() & (progress["missing_periods"] != "")
    progress["typical_cases"] = cases.reindex(progress.index)
    progress["cases_quota"] = QUOTA_TYPICAL_CASES
    progress["cases_missing_periods"] = pd.Series(case_gaps, dtype=object).reindex(progress.index).fillna("").astype(str)
    progress["cases_provisional"] = progress["typical_cases"].notna() & (progress["cases_missing_periods"] != "")
    # A missing figure compares False with the quota, so "not below" is tested positively.
    progress["behind_hazards"] = ~(progress["hazards_found"] >= progress["hazards_quota"])
    progress["behind_cases"] = ~(progress["typical_cases"] >= progress["cases_quota"])
    progress["behind"] = progress["behind_hazards"] | progress["behind_cases"]
    return progress.reset_index().sort_values(["unit_type", "hazards_found", "unit"], ascending=[True, False, True],
                                              na_position="last").reset_index(drop=True)


def _quarter_gaps(rows: pd.DataFrame, keys_of: dict[str, tuple[str, ...]], due: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Per unit: the months a quarter figure summing ``rows`` depends on but the unit did not report
    (comma-joined), and how many of the ``due`` months it reported for every key of the figure."""
    reported = set(zip(rows["unit"], rows["key"], rows["period"]))
    spanned: dict[str, set[str]] = {}
    if "gap_periods" in rows.columns:
        with_gaps = rows[rows["gap_periods"].fillna("").astype(str) != ""]
        for unit, text in zip(with_gaps["unit"], with_gaps["gap_periods"]):
            spanned.setdefault(unit, set()).update(_split_periods(text))
    gaps: dict[str, str] = {}
    months_reported: dict[str, int] = {}
    for unit, keys in keys_of.items():
        missing = {p for p in due for key in keys if (unit, key, p) not in reported}
        months_reported[unit] = sum(1 for p in due if p not in missing)
        gaps[unit] = join_periods(missing | spanned.get(unit, set()))
    return gaps, months_reported


def _ranked_values(indicators: pd.DataFrame, unit_types: tuple[str, ...], key: str, period: str) -> pd.DataFrame:
    latest = latest_cumulative(indicators[indicators["unit_type"].isin(unit_types)], period)
    if key == HAZARDS_FOUND:
        wide = wide_values(latest, FOUND_KEYS)
        values = hazards_found(wide)
    else:
        wide = wide_values(latest, (key,))
        values = wide[key]
    frame = pd.DataFrame({"unit": wide.index, "unit_type": wide["unit_type"].to_numpy(), "value": values.to_numpy()})
    frame = frame.dropna(subset=["value"])
    frame["rank"] = frame["value"].rank(method="min", ascending=False).astype(int)
    return frame


def ranking(indicators: pd.DataFrame, unit_type: str | tuple[str, ...], key: str, period: str | None = None) -> pd.DataFrame:
    """The bulletin ranking (通报排名) of units of ``unit_type`` by ``key`` at ``period``.

    ``key`` is an indicator key or ``HAZARDS_FOUND``; ``period`` defaults to the
    latest period reported. Values are each unit's latest cumulative value up to the
    period; ties share a rank (1, 2, 2, 4). Columns: rank, unit, unit_type, value,
    previous_rank (at the previous reported period, missing for units not ranked
    then), rank_change (positive: moved up), in rank order.
    """
    unit_types = (unit_type,) if isinstance(unit_type, str) else tuple(unit_type)
    columns = ["rank", "unit", "unit_type", "value", "previous_rank", "rank_change"]
    if indicators.empty:
        return pd.DataFrame(columns=columns)
    period = period or indicators["period"].max()
    current = _ranked_values(indicators, unit_types, key, period)
    before = dispatch.previous_period(sorted(indicators["period"].unique()), period)
    if before is None:
        current["previous_rank"] = pd.NA
    else:
        previous = _ranked_values(indicators, unit_types, key, before).set_index("unit")["rank"]
        current["previous_rank"] = current["unit"].map(previous).astype("Int64")
    current["previous_rank"] = current["previous_rank"].astype("Int64")
    current["rank_change"] = current["previous_rank"] - current["rank"]
    return current[columns].sort_values(["rank", "unit"]).reset_index(drop=True)


def rank_change_text(change: object) -> str:
    """"↑2", "↓1", "—" (unchanged) or "" (not ranked before) for a ``rank_change`` value."""
    if pd.isna(change):
        return ""
    change = int(change)
    return f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else "—"


def _month_start(period: str) -> pd.Timestamp:
    return pd.Timestamp(f"{period}-01")


def campaign_stages() -> pd.DataFrame:
    """The four stages of the plan: stage (Chinese name), start (first day), end (day after the last)."""
    return pd.DataFrame({
        "stage": [name for name, _, _ in STAGES],
        "start": [_month_start(first) for _, first, _ in STAGES],
        "end": [_month_start(last) + pd.offsets.MonthBegin(1) for _, _, last in STAGES],
    })


def reporting_deadlines() -> pd.DataFrame:
    """The monthly deadlines: forms for ``period`` are due on the 23rd of the following month."""
    periods = pd.period_range(CAMPAIGN_START_PERIOD, CAMPAIGN_END_PERIOD, freq="M")
    return pd.DataFrame({
        "period": periods.strftime("%Y-%m"),
        "due": [(p + 1).to_timestamp() + pd.Timedelta(days=REPORT_DAY - 1) for p in periods],
    })


def campaign_milestones() -> pd.DataFrame:
    """Dated milestones besides the monthly reports: milestone key and due date."""
    return pd.DataFrame({"milestone": list(MILESTONES), "due": [pd.Timestamp(d) for d in MILESTONES.values()]})
