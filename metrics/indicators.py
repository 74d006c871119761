"""Figures from the dispatch forms (附件3 counties and zones, 附件4 departments), as plain pandas.

Every function takes the campaign's long ``indicators`` frame (unit, unit_type, period,
key, cumulative, increment, …) and returns a small frame ready to plot or export. A
value a unit did not report is absent from that frame and stays absent (NaN) here:
"not reported" is never 0. A cumulative value that falls from one period to the next
gives a negative increment, which is kept as is and flagged as ``decrease``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.reference import INDICATOR_BY_KEY

ENFORCEMENT_KEYS = (
    "penalties", "fines_wan", "dual_penalties", "judicial_transfers", "suspensions", "exposures",
    "typical_cases", "dangerous_op_cases", "accountability", "interviews",
)
TRAINING_KEYS = (
    "enforcer_training", "lectures", "study_sessions", "leader_research", "onsite_supervision",
    "inspections", "tech_inspectors", "rewards_wan", "anonymous_rewards_wan",
)
SPOT_CHECK_KEYS = (
    "chk_head_no_study", "chk_head_no_inspection", "chk_no_duty_list", "chk_no_safety_staff",
    "chk_unlicensed_welding", "chk_outsourcing_chaos", "chk_no_drill",
)
CHECKED_KEY = "checked_enterprises"
MEDIA_COLUMN_KEY = "media_column"

# Which unit types fill in which form: 附件3 counties and functional zones, 附件4 city departments.
FORM_UNIT_TYPES = {3: ("county", "zone"), 4: ("department",)}


def unit_types_reporting(key: str) -> tuple[str, ...]:
    """Unit types whose form carries ``key``."""
    return tuple(t for form in INDICATOR_BY_KEY[key].forms for t in FORM_UNIT_TYPES[form])


def restrict(
    indicators: pd.DataFrame,
    units: tuple[str, ...] | list[str] = (),
    unit_type: str = "",
    period_start: str = "",
    period_end: str = "",
) -> pd.DataFrame:
    """The rows of the chosen units, unit type and period range (empty: all)."""
    mask = pd.Series(True, index=indicators.index)
    if units:
        mask &= indicators["unit"].isin(units)
    if unit_type:
        mask &= indicators["unit_type"] == unit_type
    if period_start:
        mask &= indicators["period"] >= period_start
    if period_end:
        mask &= indicators["period"] <= period_end
    return indicators[mask]


def latest_cumulative(indicators: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The most recent reported cumulative value per unit and key: unit, unit_type, key, period, cumulative."""
    rows = indicators[indicators["key"].isin(keys)]
    latest = rows.sort_values("period", kind="stable").drop_duplicates(["unit", "key"], keep="last")
    return latest[["unit", "unit_type", "key", "period", "cumulative"]].reset_index(drop=True)


def unit_values(indicators: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per unit that sent a form carrying ``key``: unit, unit_type, period, value.

    ``value`` is the latest cumulative figure, NaN when the unit sent forms but never
    filled in this one. Sorted by value, largest first, not reported last.
    """
    reporting_types = unit_types_reporting(key)
    senders = indicators.loc[indicators["unit_type"].isin(reporting_types), ["unit", "unit_type"]].drop_duplicates("unit")
    latest = latest_cumulative(indicators, [key])[["unit", "period", "cumulative"]]
    values = senders.merge(latest, on="unit", how="left").rename(columns={"cumulative": "value"})
    return values.sort_values(["value", "unit"], ascending=[False, True], na_position="last").reset_index(drop=True)


def indicator_totals(indicators: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Per key: the sum of the units' latest cumulative figures and how many units reported it.

    A key nobody reported has total NaN and 0 units, so it reads "未报送" rather than 0.
    """
    latest = latest_cumulative(indicators, keys)
    grouped = latest.groupby("key")["cumulative"].agg(total="sum", units="count")
    return grouped.reindex(list(keys)).fillna({"units": 0}).astype({"units": int}).rename_axis("key").reset_index()


def monthly_increments(indicators: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Month-by-month increments per unit and key, with ``decrease`` set where a cumulative fell.

    ``gap_periods`` (the loader's: months the increment spans without a report from the
    unit, comma-joined, "" when none) is kept, and ``spans_gap`` is set where it names any:
    such an increment is not one month's work."""
    columns = ["unit", "unit_type", "period", "key", "cumulative", "increment", "source_file", "source_sheet", "cell"]
    if "gap_periods" in indicators.columns:
        columns.append("gap_periods")
    rows = indicators.loc[indicators["key"].isin(keys), columns]
    rows = rows.sort_values(["unit", "key", "period"], kind="stable").reset_index(drop=True)
    if "gap_periods" not in rows.columns:
        rows["gap_periods"] = ""
    rows["gap_periods"] = rows["gap_periods"].fillna("").astype(str)
    rows["decrease"] = rows["increment"] < 0
    rows["spans_gap"] = rows["gap_periods"] != ""
    return rows


def increments_by_period(indicators: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per period and unit type: the summed monthly increment, units reporting, decreases found and
    ``gaps`` (units whose increment that month spans months they did not report)."""
    rows = monthly_increments(indicators, [key])
    if rows.empty:
        return pd.DataFrame(columns=["period", "unit_type", "increment", "units", "decreases", "gaps"])
    grouped = rows.groupby(["period", "unit_type"], sort=True).agg(
        increment=("increment", "sum"), units=("unit", "nunique"), decreases=("decrease", "sum"), gaps=("spans_gap", "sum"),
    )
    return grouped.astype({"decreases": int, "gaps": int}).reset_index()


def decreases(indicators: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The data-quality findings: every unit, period and key whose cumulative value fell."""
    rows = monthly_increments(indicators, keys)
    return rows[rows["decrease"]].drop(columns="decrease").reset_index(drop=True)


def comparison(indicators: pd.DataFrame, key: str, units: list[str], value: str = "increment") -> pd.DataFrame:
    """``value`` ("increment" or "cumulative") of ``key`` per period for each chosen unit, in the order given.

    Periods a unit did not report stay NaN so the chart shows a gap, not a zero.
    """
    rows = indicators[(indicators["key"] == key) & indicators["unit"].isin(units)]
    periods = sorted(indicators["period"].unique())
    grid = pd.MultiIndex.from_product([periods, units], names=["period", "unit"])
    table = rows.set_index(["period", "unit"])[value].reindex(grid)
    return table.rename("value").reset_index()


def spot_check_matrix(indicators: pd.DataFrame) -> pd.DataFrame:
    """Unit × failure category of the spot checks, latest cumulative figures.

    Columns: unit, unit_type, category, count, checked (enterprises checked by that unit,
    NaN when not reported) and per_100 (failures per 100 checked enterprises, NaN when
    there is nothing to divide by).
    """
    latest = latest_cumulative(indicators, [*SPOT_CHECK_KEYS, CHECKED_KEY])
    wide = latest.pivot_table(index=["unit", "unit_type"], columns="key", values="cumulative", aggfunc="last")
    wide = wide.reindex(columns=[*SPOT_CHECK_KEYS, CHECKED_KEY])
    checked = wide[CHECKED_KEY]
    counts = wide[list(SPOT_CHECK_KEYS)]
    rates = counts.div(checked.where(checked > 0), axis=0) * 100
    matrix = pd.DataFrame({"count": counts.stack(future_stack=True), "per_100": rates.stack(future_stack=True)})
    matrix = matrix.rename_axis(["unit", "unit_type", "category"]).reset_index()
    matrix["checked"] = checked.reindex(pd.MultiIndex.from_frame(matrix[["unit", "unit_type"]])).to_numpy()
    return matrix


def spot_checks_by_period(indicators: pd.DataFrame) -> pd.DataFrame:
    """Per period and failure category: the summed monthly increment and the enterprises checked that month."""
    rows = monthly_increments(indicators, [*SPOT_CHECK_KEYS, CHECKED_KEY])
    sums = rows.pivot_table(index="period", columns="key", values="increment", aggfunc="sum")
    sums = sums.reindex(columns=[*SPOT_CHECK_KEYS, CHECKED_KEY])
    long = sums[list(SPOT_CHECK_KEYS)].stack(future_stack=True).rename("increment").rename_axis(["period", "category"])
    long = long.reset_index()
    long["checked"] = sums[CHECKED_KEY].reindex(long["period"]).to_numpy()
    return long


def media_columns(indicators: pd.DataFrame) -> pd.DataFrame:
    """Per county or zone: whether it has opened a safety column in the local media.

    Columns: unit, unit_type, opened (True/False, NaN when never reported) and since
    (the first period it reported "是").
    """
    values = unit_values(indicators, MEDIA_COLUMN_KEY)
    rows = indicators[(indicators["key"] == MEDIA_COLUMN_KEY) & (indicators["cumulative"] > 0)]
    since = rows.groupby("unit")["period"].min().rename("since")
    values = values.merge(since, left_on="unit", right_index=True, how="left")
    values["opened"] = (values["value"] > 0).astype(object).where(values["value"].notna(), np.nan)
    order = values["opened"].map({True: 0, False: 1}).fillna(2)
    values = values.assign(order=order).sort_values(["order", "unit"]).drop(columns=["order", "value"])
    return values[["unit", "unit_type", "opened", "since", "period"]].reset_index(drop=True)
