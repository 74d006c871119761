"""Every figure of a briefing pack (简报), computed once for one period, scope and filter.

A pack is the dashboard printed: its figures are the dashboard's for the same period, scope
and filters. So they come from the same functions (``overview.kpis``, ``overview.ranking``,
``overview.quarter_progress``, ``dispatch.stalled_supervised`` …) applied to the filter the
dashboard would hold with its period end set to the pack's period. Every writer (Word, PDF,
Excel, slides) reads a ``BriefingFigures``; none computes a figure of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from loaders import Campaign
from loaders.reference import COUNTIES, DEPARTMENTS, SECTOR_KEYS, ZONES, canonical_unit
from metrics import dispatch, overview
from metrics.filters import HazardFilter, filter_hazards

# 执法: the enforcement keys of 附件3/附件4, in the forms' order.
ENFORCEMENT_KEYS = ("penalties", "fines_wan", "dual_penalties", "judicial_transfers", "suspensions",
                    "exposures", "typical_cases", "dangerous_op_cases", "accountability")
# 培训与领导: what leaders and committees did (studies, research, on-site supervision, lectures,
# training of enforcement staff, assistance, interviews, inspections).
TRAINING_KEYS = ("study_sessions", "leader_research", "onsite_supervision", "lectures", "enforcer_training",
                 "assist_areas", "assist_enterprises", "interviews", "inspections")
LOCAL_TYPES = ("county", "zone")
DEPARTMENT_TYPES = ("department",)
UNIT_ORDER = {unit: i for i, unit in enumerate((*COUNTIES, *ZONES, *DEPARTMENTS))}


class BriefingScopeError(ValueError):
    """The period or unit asked for is not in the dataset (message in Chinese)."""


@dataclass(frozen=True)
class BriefingFigures:
    """The figures of one pack. Frames are in a stable order, so the same inputs give the same pack."""

    period: str                       # YYYY-MM the pack reports on
    previous_period: str | None       # the period before it with forms, for "比上月"
    as_of: dt.date                    # the statistics date (overdue and supervision clocks)
    unit: str | None                  # None: 全市
    spec: HazardFilter                # the filter applied: the page's, with period_end = period
    kpis: overview.OverviewKpis
    previous_kpis: overview.OverviewKpis | None
    hazards: pd.DataFrame             # the unique hazards in scope
    county_ranking: pd.DataFrame      # 通报排名 of counties and zones by hazards found (overview.ranking)
    department_ranking: pd.DataFrame  # the same for city departments
    unit_progress: pd.DataFrame       # per unit: found, rectified, rate (forms, latest cumulative)
    quarter: str | None
    quota: pd.DataFrame               # overview.quarter_progress for the period's quarter, units in scope
    sectors: pd.DataFrame             # per sector: hazards, rectified, in_progress, not_started, overdue, supervised
    enforcement: pd.DataFrame         # per unit: latest cumulative of ENFORCEMENT_KEYS
    enforcement_totals: pd.DataFrame  # per key: cumulative, increment (in the period), units_reporting
    training: pd.DataFrame            # per unit: latest cumulative of TRAINING_KEYS
    training_totals: pd.DataFrame
    overdue: pd.DataFrame             # overdue hazards in scope, most days overdue first
    supervised: pd.DataFrame          # hazards in scope under province/city/county supervision
    stalled: pd.DataFrame             # supervised hazards past their 30/60-day clock without progress
    annotations: pd.DataFrame         # officers' annotations whose subject is in scope
    # overview.latest_cumulative up to the period, units in scope: every key of 附件3/附件4 (the 汇总表)
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def scope_label(self) -> str:
        return self.unit or "全市"

    @property
    def is_empty(self) -> bool:
        return self.kpis.units_reporting == 0 and self.hazards.empty


def resolve_unit(campaign: Campaign, unit: str | None) -> str | None:
    """The canonical name of ``unit`` (an alias is fine) if the dataset knows it; None for 全市."""
    if unit is None or not str(unit).strip():
        return None
    name = canonical_unit(unit) or str(unit).strip()
    known = set(campaign.submissions["unit"]) if not campaign.submissions.empty else set()
    known |= set(campaign.unique_hazards["unit"]) | set(campaign.indicators["unit"])
    if name not in known:
        raise BriefingScopeError(f"没有“{unit}”报送的数据，无法按该单位生成简报。")
    return name


def resolve_period(campaign: Campaign, period: str | None) -> str:
    """``period`` if forms or ledgers were received for it; None means the latest received."""
    received = campaign.received_periods
    if not received:
        raise BriefingScopeError("数据库中还没有任何报送数据，无法生成简报。")
    if period is None:
        return received[-1]
    if period not in received:
        raise BriefingScopeError(f"没有 {period} 期的报送数据；已收到的期次：{'、'.join(received)}。")
    return period


def briefing_figures(campaign: Campaign, period: str | None = None, unit: str | None = None,
                     spec: HazardFilter = HazardFilter(), annotations: pd.DataFrame | None = None) -> BriefingFigures:
    """The pack's figures for ``period`` (default: latest), ``unit`` (default: 全市) and a page's filter."""
    period = resolve_period(campaign, period)
    unit = resolve_unit(campaign, unit)
    spec = replace(spec, period_end=period, units=(unit,) if unit else spec.units)
    indicators = campaign.indicators
    periods = sorted(indicators["period"].unique()) if not indicators.empty else []
    previous = dispatch.previous_period(periods, period) if period in periods else None
    hazards = _ordered_hazards(filter_hazards(campaign.unique_hazards, spec))
    kpis = overview.kpis(indicators, hazards, spec, period)
    previous_kpis = None
    if previous:
        previous_spec = replace(spec, period_end=previous)
        previous_kpis = overview.kpis(indicators, filter_hazards(campaign.unique_hazards, previous_spec),
                                      previous_spec, previous)
    latest = overview.filter_units(overview.latest_cumulative(indicators, period), spec)
    quarter = overview.quarter_of(period)
    quota = overview.quarter_progress(indicators, quarter) if quarter and not indicators.empty else pd.DataFrame()
    if not quota.empty:
        quota = overview.filter_units(quota, spec).reset_index(drop=True)
    in_period = overview.filter_units(indicators[indicators["period"] == period], spec)
    review = dispatch.stalled_supervised(campaign.hazards, campaign.unique_hazards, campaign.as_of)
    return BriefingFigures(
        period=period, previous_period=previous, as_of=campaign.as_of, unit=unit, spec=spec,
        kpis=kpis, previous_kpis=previous_kpis, hazards=hazards,
        county_ranking=overview.ranking(indicators, LOCAL_TYPES, overview.HAZARDS_FOUND, period),
        department_ranking=overview.ranking(indicators, DEPARTMENT_TYPES, overview.HAZARDS_FOUND, period),
        unit_progress=unit_progress(latest),
        quarter=quarter, quota=quota,
        sectors=sector_counts(hazards),
        enforcement=_per_unit(latest, ENFORCEMENT_KEYS),
        enforcement_totals=_totals(latest, in_period, ENFORCEMENT_KEYS),
        training=_per_unit(latest, TRAINING_KEYS),
        training_totals=_totals(latest, in_period, TRAINING_KEYS),
        overdue=hazards[hazards["overdue"].astype(bool)].sort_values(
            ["days_to_deadline", "unit", "enterprise"], kind="stable").reset_index(drop=True),
        supervised=hazards[hazards["supervision_level"].isin(("province", "city", "county"))].reset_index(drop=True),
        stalled=review[review["hazard_id"].isin(hazards["hazard_id"])].reset_index(drop=True),
        annotations=annotations_in_scope(annotations, unit, campaign.unique_hazards),
        latest=latest.reset_index(drop=True),
    )


def _ordered_hazards(hazards: pd.DataFrame) -> pd.DataFrame:
    order = hazards["unit"].map(UNIT_ORDER).fillna(len(UNIT_ORDER))
    return (hazards.assign(_order=order).sort_values(["_order", "unit", "enterprise", "hazard_id"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def unit_progress(latest: pd.DataFrame) -> pd.DataFrame:
    """Per unit: hazards found and rectified by its forms, and the rectification rate (0..1, missing if none found)."""
    keys = ("self_found", "dept_found", "self_rectified", "dept_rectified")
    wide = overview.wide_values(latest, keys)
    found = overview.hazards_found(wide)
    rectified = wide[["self_rectified", "dept_rectified"]].sum(axis=1, min_count=1).where(
        wide["unit_type"] != "department", wide["dept_rectified"])
    frame = pd.DataFrame({"unit": wide.index, "unit_type": wide["unit_type"].to_numpy(),
                          "found": found.to_numpy(), "rectified": rectified.to_numpy()})
    frame["rate"] = (frame["rectified"] / frame["found"]).where(frame["found"] > 0)
    return _by_unit_order(frame)


def sector_counts(hazards: pd.DataFrame) -> pd.DataFrame:
    """Per sector (in the contract's order, then unknown spellings): hazards, by status, overdue, supervised."""
    columns = ["sector", "hazards", "rectified", "in_progress", "not_started", "overdue", "supervised"]
    if hazards.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({
        "sector": hazards["sector"].fillna("").astype(str),
        "rectified": hazards["status"] == "rectified",
        "in_progress": hazards["status"] == "in_progress",
        "not_started": hazards["status"] == "not_started",
        "overdue": hazards["overdue"].astype(bool),
        "supervised": hazards["supervision_level"].isin(("province", "city", "county")),
    })
    counts = frame.groupby("sector").sum().astype(int)
    counts.insert(0, "hazards", frame.groupby("sector").size())
    order = {key: i for i, key in enumerate(SECTOR_KEYS)}
    counts = counts.reset_index()
    counts["_order"] = counts["sector"].map(order).fillna(len(order))
    return counts.sort_values(["_order", "sector"]).drop(columns="_order").reset_index(drop=True)[columns]


def _per_unit(latest: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    wide = overview.wide_values(latest, keys).reset_index()
    wide = wide.dropna(subset=list(keys), how="all")
    return _by_unit_order(wide)


def form_summary(latest: pd.DataFrame, unit_types: tuple[str, ...],
                 keys: tuple[str, ...]) -> tuple[pd.DataFrame, dict[str, float | None]]:
    """A 汇总表 (附件3/附件4 consolidated): one row per unit of ``unit_types`` in ``latest`` (columns
    unit, unit_type and one per key: its latest cumulative value, missing when not reported), in the
    contract's unit order; and the 合计 per key: the sum over the units that reported it (None if none)."""
    rows = latest[latest["unit_type"].isin(unit_types)] if not latest.empty else latest
    if rows.empty:
        return pd.DataFrame(columns=["unit", "unit_type", *keys]), {key: None for key in keys}
    wide = _by_unit_order(overview.wide_values(rows, keys).reset_index())
    totals = {key: (float(wide[key].sum()) if wide[key].notna().any() else None) for key in keys}
    return wide, totals


def _totals(latest: pd.DataFrame, in_period: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Per key: the sum of units' latest cumulative values, the sum of the period's increments, units reporting."""
    rows = []
    for key in keys:
        values = latest.loc[latest["key"] == key, "cumulative"].dropna()
        increments = in_period.loc[in_period["key"] == key, "increment"].dropna()
        rows.append({"key": key, "cumulative": float(values.sum()) if len(values) else None,
                     "increment": float(increments.sum()) if len(increments) else None,
                     "units_reporting": int(len(values))})
    return pd.DataFrame(rows, columns=["key", "cumulative", "increment", "units_reporting"])


def _by_unit_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = frame["unit"].map(UNIT_ORDER).fillna(len(UNIT_ORDER))
    return frame.assign(_order=order).sort_values(["_order", "unit"]).drop(columns="_order").reset_index(drop=True)


def annotations_in_scope(annotations: pd.DataFrame | None, unit: str | None,
                         unique_hazards: pd.DataFrame | None = None) -> pd.DataFrame:
    """The annotations a pack carries: all for 全市, a unit's own (its hazards, figures, the unit) otherwise.

    A hazard annotation is stored by ``hazard_id`` alone: its unit is the hazard's, looked up here
    (an orphaned hazard's stays empty, so a unit's pack cannot place it; the 全市 pack lists it)."""
    if annotations is None:
        return pd.DataFrame()
    annotations = annotations.reset_index(drop=True)
    if annotations.empty or "unit" not in annotations.columns:
        return annotations
    if unique_hazards is not None and "hazard_id" in annotations.columns:
        hazard_units = unique_hazards.drop_duplicates("hazard_id").set_index("hazard_id")["unit"]
        missing = annotations["unit"].isna() & annotations["hazard_id"].notna()
        annotations.loc[missing, "unit"] = annotations.loc[missing, "hazard_id"].map(hazard_units)
    if unit is None:
        return annotations
    return annotations[annotations["unit"] == unit].reset_index(drop=True)


def change(current: float | None, before: float | None) -> float | None:
    """``current - before`` when both are known."""
    if current is None or before is None or pd.isna(current) or pd.isna(before):
        return None
    return current - before
