"""The weekly dispatch review (周调度): what changed, what is stuck, who has not reported.

Definitions (the plan's rules, made exact):
- A hazard is *new* in period P when P is the first period any ledger listed it.
- A hazard is *newly rectified* in P when its status in P is rectified and in the
  period it was last listed before P it was not.
- A hazard is *newly overdue* between two dates A < B when its deadline falls in
  [A, B) and it is not rectified at B. "At B" is the hazard as it stood then: its row
  of the latest period whose filing deadline is on or before B (a hazard no ledger had
  listed by then is not in that window); so a past window's list never changes when
  later ledgers arrive. A window ending on or after the as-of date (the current one)
  uses the latest status received.
- A supervised hazard is *stalled* when it is still supervised (its latest period's
  supervision level is county, city or province: supervision lifted, "none", stops the
  clock) and, counted from the filing deadline of the first period of its current
  continuous supervision at its current level (the run of its listed periods at that
  level up to the latest; a change of level, e.g. county → city, starts a new run),
  more than that level's limit (county 30 days, city and province 60) has passed by
  the as-of date and its status is still not_started with the same progress text as
  at the start of that run ("substantive progress" = a change of status or of the
  progress written).
- A unit is *missing* for period P when it has sent forms for earlier periods but no
  ledger or no dispatch form for P, counted once the 23rd of the following month has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loaders import Campaign
from loaders.reference import SUPERVISION_PROGRESS_DAYS
from loaders.resends import filing_deadline


def previous_period(periods: list[str], period: str) -> str | None:
    earlier = [p for p in periods if p < period]
    return earlier[-1] if earlier else None


def new_hazards(unique_hazards: pd.DataFrame, period: str) -> pd.DataFrame:
    return unique_hazards[unique_hazards["first_period"] == period]


def newly_rectified(hazards: pd.DataFrame, period: str) -> pd.DataFrame:
    """Rows of ``hazards`` (per period) rectified in ``period`` but not when last listed before it."""
    now = hazards[(hazards["period"] == period) & (hazards["status"] == "rectified")]
    # Two columns of the earlier rows, not all of them: at province scale they are most of the frame.
    earlier = hazards.loc[hazards["period"] < period, ["hazard_id", "status"]]
    was = earlier.drop_duplicates("hazard_id", keep="last").set_index("hazard_id")["status"]
    prior_status = now["hazard_id"].map(was)
    return now[prior_status.notna() & (prior_status != "rectified")]


SUPERVISED_LEVELS = ("city", "county", "province")


def _per_period(hazards: pd.DataFrame) -> pd.DataFrame:
    """One row per hazard and period (a hazard listed twice in a period keeps its last row), by hazard then period."""
    rows = hazards.drop_duplicates(["hazard_id", "period"], keep="last")
    return rows.sort_values(["hazard_id", "period"], kind="stable")


def status_as_of(hazards: pd.DataFrame, until: dt.date) -> pd.DataFrame:
    """Each hazard as it stood on ``until``: its row of the latest period whose filing deadline
    is on or before ``until`` (hazards first listed later are absent). Indexed by hazard_id."""
    periods = sorted(set(hazards["period"].dropna()))
    known = [p for p in periods if filing_deadline(p) <= until]
    rows = hazards[hazards["period"].isin(known)]
    return rows.sort_values("period", kind="stable").drop_duplicates("hazard_id", keep="last").set_index("hazard_id")


def newly_overdue(unique_hazards: pd.DataFrame, since: dt.date, until: dt.date,
                  hazards: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unique hazards whose deadline falls in [since, until) and that were not rectified at ``until``.

    With ``hazards`` (per period), deadline and status are those the hazard had on ``until``
    (``status_as_of``), and the rows returned carry them; without, the unique rows' own."""
    if hazards is not None:
        then = status_as_of(hazards, until)
        rows = unique_hazards[unique_hazards["hazard_id"].isin(then.index)].copy()
        for column in ("deadline", "status", "progress_raw", "deadline_raw"):
            if column in then.columns and column in rows.columns:
                rows[column] = rows["hazard_id"].map(then[column]).to_numpy()
        rows["deadline"] = pd.to_datetime(rows["deadline"])
        unique_hazards = rows
    deadline = unique_hazards["deadline"]
    return unique_hazards[
        deadline.notna() & (deadline >= pd.Timestamp(since)) & (deadline < pd.Timestamp(until))
        & (unique_hazards["status"] != "rectified")
    ]


def stalled_supervised(hazards: pd.DataFrame, unique_hazards: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Supervised hazards past their progress window without substantive progress (see the module's definition).

    Returns the unique-hazard rows plus ``supervised_since`` (date: the filing deadline of
    the first period of the current supervision run), ``days_supervised`` and ``limit_days``
    (of the current level)."""
    empty = unique_hazards.iloc[0:0].assign(supervised_since=pd.NaT, days_supervised=0, limit_days=0)
    if hazards.empty:
        return empty
    ever = hazards.loc[hazards["supervision_level"].isin(SUPERVISED_LEVELS), "hazard_id"].unique()
    columns = ["hazard_id", "period", "supervision_level", "status", "progress_raw"]
    rows = _per_period(hazards.loc[hazards["hazard_id"].isin(ever), columns])
    if rows.empty:
        return empty
    level = rows["supervision_level"].fillna("none").to_numpy()
    hazard = rows["hazard_id"].to_numpy()
    # A run starts at a hazard's first row and wherever its level changes from the row before.
    starts = np.ones(len(rows), dtype=bool)
    starts[1:] = (hazard[1:] != hazard[:-1]) | (level[1:] != level[:-1])
    # Position of the first row of each row's run.
    run_first = np.flatnonzero(starts)[np.cumsum(starts) - 1]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = hazard[1:] != hazard[:-1]
    last &= np.isin(level, SUPERVISED_LEVELS)
    if not last.any():
        return empty
    latest = rows.iloc[np.flatnonzero(last)]
    start_rows = rows.iloc[run_first[last]]
    start = pd.DataFrame({
        "hazard_id": latest["hazard_id"].to_numpy(),
        "level": latest["supervision_level"].to_numpy(),
        "status": latest["status"].to_numpy(),
        "progress_now": latest["progress_raw"].fillna("").astype(str).to_numpy(),
        "since_period": start_rows["period"].to_numpy(),
        "progress_then": start_rows["progress_raw"].fillna("").astype(str).to_numpy(),
    }).set_index("hazard_id")
    start = start[start.index.isin(unique_hazards["hazard_id"])]
    since = pd.to_datetime(start["since_period"].map(filing_deadline))
    limit = start["level"].map(lambda lvl: SUPERVISION_PROGRESS_DAYS.get(lvl, SUPERVISION_PROGRESS_DAYS["city"]))
    days = (pd.Timestamp(as_of) - since).dt.days
    no_progress = (start["status"] == "not_started") & (start["progress_now"] == start["progress_then"])
    chosen = start.index[no_progress & (days > limit)]
    stalled = unique_hazards.set_index("hazard_id").loc[chosen].copy()
    stalled["supervised_since"] = since[chosen].dt.date
    stalled["days_supervised"] = days[chosen]
    stalled["limit_days"] = limit[chosen]
    return stalled.reset_index().sort_values("days_supervised", ascending=False, kind="stable")


def missing_reports(submissions: pd.DataFrame, period: str, as_of: dt.date) -> pd.DataFrame:
    """Units that reported before ``period`` but lack its ledger or form after the deadline.

    Columns: unit, unit_type, missing (Chinese: 台账 / 调度表 / 台账和调度表), deadline."""
    columns = ["unit", "unit_type", "missing", "deadline"]
    deadline = filing_deadline(period)
    if submissions.empty or as_of <= deadline:
        return pd.DataFrame(columns=columns)
    active = submissions[submissions["active"] & submissions["kind"].isin(["ledger", "county_form", "department_form"])]
    known = active[active["period"] < period].drop_duplicates("unit")[["unit", "unit_type"]]
    this_period = active[active["period"] == period]
    has_ledger = set(this_period.loc[this_period["kind"] == "ledger", "unit"])
    has_form = set(this_period.loc[this_period["kind"] != "ledger", "unit"])
    rows = []
    for unit, unit_type in known.itertuples(index=False):
        lacks = [name for name, present in (("台账", unit in has_ledger), ("调度表", unit in has_form)) if not present]
        if lacks:
            rows.append((unit, unit_type, "和".join(lacks), deadline))
    return pd.DataFrame(rows, columns=columns).sort_values(["unit_type", "unit"], kind="stable").reset_index(drop=True)


def open_findings(issues_frame: pd.DataFrame) -> pd.DataFrame:
    """Data-quality findings and errors an officer still has to chase (not the info notes)."""
    return issues_frame[issues_frame["severity"].isin(["error", "warning"])].reset_index(drop=True)


def review_periods(periods: list[str], period: str, since: dt.date | None = None) -> list[str]:
    """The periods a review of ``period`` covers: ``period`` alone, or with ``since`` every
    period up to ``period`` whose forms were due after that date."""
    if since is None:
        return [period]
    return [p for p in periods if p <= period and filing_deadline(p) > since]


def overdue_window(periods: list[str], period: str, as_of: dt.date, since: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """[since, until) for ``newly_overdue``: from ``since``, else from the previous period's filing
    deadline (the first day of ``period`` when it is the first), until the filing deadline of
    ``period`` or the as-of date, whichever comes first."""
    if since is None:
        previous = previous_period(periods, period)
        since = filing_deadline(previous) if previous else dt.date(int(period[:4]), int(period[5:7]), 1)
    return since, min(as_of, filing_deadline(period))


def rectified_in(hazards: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """``newly_rectified`` over several periods: one row per hazard, the latest period it was newly rectified in."""
    found = [newly_rectified(hazards, period) for period in periods]
    if not found:
        return hazards.iloc[0:0]
    return pd.concat(found).drop_duplicates("hazard_id", keep="last")


def findings_with_units(findings: pd.DataFrame, submissions: pd.DataFrame) -> pd.DataFrame:
    """Findings with the unit(s) whose submissions came from the finding's file.

    One row per finding and unit (a consolidated workbook holds several units); a finding
    of a file without any submission (a rejected file) has an empty unit. ``finding``
    numbers the findings so a view can show each once."""
    file_units = submissions[["source_file", "unit", "unit_type"]].drop_duplicates()
    numbered = findings.reset_index(drop=True).rename_axis("finding").reset_index()
    merged = numbered.merge(file_units, how="left", left_on="file", right_on="source_file", sort=False)
    return merged.drop(columns="source_file").fillna({"unit": "", "unit_type": ""})


@dataclass(frozen=True)
class WeeklyReview:
    """Everything the weekly dispatch shows for one review, before any session's filter."""

    period: str
    periods: tuple[str, ...]
    overdue_since: dt.date
    overdue_until: dt.date
    new: pd.DataFrame
    rectified: pd.DataFrame
    overdue: pd.DataFrame
    stalled: pd.DataFrame
    missing: pd.DataFrame
    findings: pd.DataFrame


def weekly_review(campaign: Campaign, periods: list[str], period: str, since: dt.date | None = None) -> WeeklyReview:
    """The review of ``period`` (changes since the previous period, or since ``since``) as of the campaign's date.

    Stalled supervision, missing reports and open findings are as they stand on the
    as-of date; the changes cover ``review_periods``. ``rectified`` holds the unique-hazard
    rows plus ``rectified_in`` (the period)."""
    covered = review_periods(periods, period, since)
    unique = campaign.unique_hazards
    overdue_since, overdue_until = overdue_window(periods, period, campaign.as_of, since)
    return WeeklyReview(
        period=period, periods=tuple(covered), overdue_since=overdue_since, overdue_until=overdue_until,
        new=unique[unique["first_period"].isin(covered)],
        rectified=unique.merge(rectified_in(campaign.hazards, covered)[["hazard_id", "period"]]
                               .rename(columns={"period": "rectified_in"}), on="hazard_id"),
        overdue=newly_overdue(unique, overdue_since, overdue_until,
                              campaign.hazards if overdue_until < campaign.as_of else None),
        stalled=stalled_supervised(campaign.hazards, unique, campaign.as_of),
        missing=missing_reports(campaign.submissions, period, campaign.as_of),
        findings=findings_with_units(open_findings(campaign.issues_frame), campaign.submissions),
    )


def dataset_figures(campaign: Campaign) -> dict[str, int]:
    """The key figures an upload can move: unique hazards, rectified, overdue, files accepted."""
    unique = campaign.unique_hazards
    return {
        "unique_hazards": len(unique),
        "rectified": int((unique["status"] == "rectified").sum()),
        "overdue": int(unique["overdue"].sum()),
        "files": int(campaign.files["accepted"].sum()),
    }
