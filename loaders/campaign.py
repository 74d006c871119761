"""The campaign dataset: submissions merged into the canonical frames of the contract.

Takes the results of reading workbooks (in the order they were received) and
builds: hazards (one row per hazard per period), unique hazards (latest status),
indicators (long: cumulative and monthly increment), the registry, and the
data-quality findings. Findings are reported, never fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .model import Issue, Submission, WorkbookResult
from .reference import INDICATOR_BY_KEY, PART_WHOLE_PAIRS
from .values import normalize_text

HAZARD_COLUMNS = (
    "hazard_id", "unit", "unit_type", "enterprise", "sector", "sector_raw", "description", "measures",
    "supervision_level", "supervision_doc", "deadline", "deadline_raw", "progress_raw", "status", "period",
    "source_file", "source_sheet", "source_row", "deadline_cell", "sector_cell",
)
INDICATOR_COLUMNS = ("unit", "unit_type", "period", "key", "cumulative", "increment", "source_file", "source_sheet", "cell")
SUBMISSION_COLUMNS = ("kind", "unit", "unit_type", "period", "layout", "reported_on", "source_file", "source_sheet", "records", "active", "superseded_by")

# A ledger and its form "disagree" when the hazards listed differ from the hazards
# counted by more than this share and at least LEDGER_FORM_MIN_GAP hazards: the two
# are filled by different people and small gaps are routine.
LEDGER_FORM_TOLERANCE = 0.2
LEDGER_FORM_MIN_GAP = 3


def hazard_id(unit: str, enterprise: str, description: str) -> str:
    """Stable across months: same unit + enterprise + description after normalisation."""
    key = "\x1f".join((unit, normalize_text(enterprise), normalize_text(description)))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass
class Campaign:
    hazards: pd.DataFrame
    unique_hazards: pd.DataFrame
    indicators: pd.DataFrame
    registry: pd.DataFrame
    submissions: pd.DataFrame
    files: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    as_of: dt.date = field(default_factory=dt.date.today)

    def at(self, as_of: dt.date) -> Campaign:
        """The same dataset seen on another date: only the deadline-dependent columns change."""
        unique = self.unique_hazards.copy()
        if not unique.empty:
            _set_deadline_columns(unique, as_of)
        return replace(self, unique_hazards=unique, as_of=as_of)

    @property
    def issues_frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(i) for i in self.issues], columns=["file", "sheet", "cell", "severity", "message", "code"])

    def summary(self) -> dict:
        """The machine-readable summary object of the data contract."""
        unique = self.unique_hazards
        supervised = unique["supervision_level"].value_counts()
        indicators: dict[str, dict[str, dict[str, object]]] = {}
        for row in self.indicators.itertuples(index=False):
            indicators.setdefault(row.unit, {}).setdefault(row.period, {})[row.key] = _json_value(row.cumulative, row.key)
        return {
            "files": {"accepted": int(self.files["accepted"].sum()), "rejected": int((~self.files["accepted"]).sum())},
            "hazards": {
                "unique": int(len(unique)),
                "by_unit": {k: int(v) for k, v in unique["unit"].value_counts().sort_index().items()},
                # A hazard without a sector counts as "other" here (the contract's keys only);
                # the frames keep it empty and the findings name it.
                "by_sector": {k: int(v) for k, v in unique["sector"].fillna("other").value_counts().sort_index().items()},
                "by_status": {s: int((unique["status"] == s).sum()) for s in ("rectified", "in_progress", "not_started")},
                "overdue": int(unique["overdue"].sum()),
                "supervised": {level: int(supervised.get(level, 0)) for level in ("city", "county", "province")},
            },
            "indicators": indicators,
            "issues": [i.as_contract() for i in self.issues],
        }


def _json_value(value: object, key: str) -> object:
    if INDICATOR_BY_KEY[key].kind == "bool":
        return bool(value)
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def _order_submissions(results: list[WorkbookResult]) -> list[tuple[int, Submission]]:
    """Oldest first: by filing date (时间 line) when known, then by the order received."""
    ordered = [(i, s) for i, result in enumerate(results) for s in result.submissions]
    return sorted(ordered, key=lambda item: (item[1].reported_on or dt.date.min, item[0]))


def _fingerprint(sub: Submission) -> object:
    if sub.kind in ("county_form", "department_form"):
        return tuple(sorted((k, float(v)) for k, v in zip(sub.records["key"], sub.records["value"])))
    cols = [c for c in sub.records.columns if c not in ("source_row",)]
    return pd.util.hash_pandas_object(sub.records[cols].astype(str), index=False).sum()


def _resolve(results: list[WorkbookResult], issues: list[Issue]) -> tuple[list[Submission], pd.DataFrame]:
    """The newest submission for each (kind, unit, period) wins; older ones stay in history."""
    active: dict[tuple, Submission] = {}
    active_row: dict[tuple, int] = {}  # the row of the active submission of each key
    rows = []
    for _, sub in _order_submissions(results):
        previous = active.get(sub.key)
        if previous is not None:
            rows[active_row[sub.key]].update(active=False, superseded_by=sub.source_file)
            same_file = previous.source_file == sub.source_file and previous.source_sheet == sub.source_sheet
            if _fingerprint(previous) != _fingerprint(sub):
                what = "调度表" if sub.kind.endswith("form") else ("隐患台账" if sub.kind == "ledger" else "公示牌")
                issues.append(Issue(
                    sub.source_file, sub.source_sheet, "", "warning",
                    f"{sub.unit}{sub.period or ''}的{what}报送了两次且数据不同：“{previous.source_file}”（{previous.source_sheet}）"
                    f"与“{sub.source_file}”（{sub.source_sheet}），采用较新的“{sub.source_file}”。请确认以哪一份为准。",
                    "duplicate_submission",
                ))
            elif same_file:
                pass  # the same sheet read twice (re-ingest) changes nothing
        active[sub.key], active_row[sub.key] = sub, len(rows)
        rows.append({
            "kind": sub.kind, "unit": sub.unit, "unit_type": sub.unit_type, "period": sub.period,
            "layout": sub.layout, "reported_on": sub.reported_on, "source_file": sub.source_file,
            "source_sheet": sub.source_sheet, "records": len(sub.records), "active": True, "superseded_by": None,
        })
    # The rows hold plain values only: a Submission in them (even in a dropped column) kept
    # every parsed sheet of every file alive as long as the campaign (~190 MB at province scale).
    frame = pd.DataFrame(rows, columns=list(SUBMISSION_COLUMNS))
    return list(active.values()), frame


def _hazards_frame(subs: list[Submission]) -> pd.DataFrame:
    parts = []
    for sub in subs:
        if sub.kind != "ledger" or sub.records.empty:
            continue
        part = sub.records.drop(columns=["unit_raw"]).copy()
        part["unit_type"] = sub.unit_type
        part["period"] = sub.period
        part["source_file"] = sub.source_file
        part["source_sheet"] = sub.source_sheet
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(HAZARD_COLUMNS))
    hazards = pd.concat(parts, ignore_index=True)
    hazards["hazard_id"] = [hazard_id(u, e, d) for u, e, d in zip(hazards["unit"], hazards["enterprise"], hazards["description"])]
    hazards["deadline"] = pd.to_datetime(hazards["deadline"], errors="coerce")
    return hazards[list(HAZARD_COLUMNS)].sort_values(["period", "unit", "source_row"], kind="stable").reset_index(drop=True)


def _unique_hazards(hazards: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    if hazards.empty:
        frame = pd.DataFrame(columns=[*HAZARD_COLUMNS, "first_period", "periods_reported", "overdue", "days_to_deadline"])
        frame["overdue"] = frame["overdue"].astype(bool)
        return frame
    # Hazards arrive sorted by period; within one period a hazard listed twice keeps its last row.
    # (drop_duplicates rather than groupby().min(): string reductions are slow in pandas.)
    latest = hazards.drop_duplicates("hazard_id", keep="last").set_index("hazard_id")
    latest["first_period"] = hazards.drop_duplicates("hazard_id", keep="first").set_index("hazard_id")["period"]
    latest["periods_reported"] = hazards.drop_duplicates(["hazard_id", "period"])["hazard_id"].value_counts()
    latest = latest.reset_index()
    _set_deadline_columns(latest, as_of)
    return latest.sort_values(["unit", "first_period", "hazard_id"], kind="stable").reset_index(drop=True)


def _set_deadline_columns(unique: pd.DataFrame, as_of: dt.date) -> None:
    """Overdue on D: a deadline before D and not rectified. Days left are negative when overdue."""
    as_of_ts = pd.Timestamp(as_of)
    unique["overdue"] = unique["deadline"].notna() & (unique["deadline"] < as_of_ts) & (unique["status"] != "rectified")
    unique["days_to_deadline"] = (unique["deadline"] - as_of_ts).dt.days


def _indicators_frame(subs: list[Submission], issues: list[Issue]) -> pd.DataFrame:
    parts = []
    for sub in subs:
        if sub.kind not in ("county_form", "department_form") or sub.records.empty:
            continue
        part = sub.records.rename(columns={"value": "cumulative"}).copy()
        part["unit"], part["unit_type"], part["period"] = sub.unit, sub.unit_type, sub.period
        part["source_file"], part["source_sheet"] = sub.source_file, sub.source_sheet
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(INDICATOR_COLUMNS))
    frame = pd.concat(parts, ignore_index=True)
    frame["cumulative"] = frame["cumulative"].astype(float)
    frame = frame.sort_values(["unit", "key", "period"], kind="stable").reset_index(drop=True)
    previous = frame.groupby(["unit", "key"], sort=False)["cumulative"].shift(1)
    previous_period = frame.groupby(["unit", "key"], sort=False)["period"].shift(1)
    # Yes/no answers (media_column) are states, not running totals: no increment, never "falls".
    cumulative_kind = ~frame["key"].isin([key for key, ind in INDICATOR_BY_KEY.items() if ind.kind == "bool"])
    # The first reported period's increment is its cumulative value (figures start in May).
    frame["increment"] = np.where(previous.isna(), frame["cumulative"], frame["cumulative"] - previous)
    frame.loc[~cumulative_kind, "increment"] = np.nan
    falls = frame[cumulative_kind & previous.notna() & (frame["cumulative"] < previous)]
    for idx, row in falls.iterrows():
        label = INDICATOR_BY_KEY[row["key"]].label
        issues.append(Issue(
            row["source_file"], row["source_sheet"], row["cell"], "warning",
            f"{row['unit']}“{label}”为累计数，{row['period']}填报{_fmt(row['cumulative'])}，"
            f"比{previous_period[idx]}的{_fmt(previous[idx])}还少。请核实（累计数不应减少），数据按原样保留。",
            "cumulative_decrease",
        ))
    return frame[list(INDICATOR_COLUMNS)]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _part_whole_findings(indicators: pd.DataFrame, issues: list[Issue]) -> None:
    if indicators.empty:
        return
    wide = indicators.pivot_table(index=["unit", "period"], columns="key", values="cumulative", aggfunc="last")
    cells = indicators.set_index(["unit", "period", "key"])
    for part, whole in PART_WHOLE_PAIRS:
        if part not in wide or whole not in wide:
            continue
        bad = wide[wide[part] > wide[whole]]
        for (unit, period), row in bad.iterrows():
            source = cells.loc[(unit, period, part)]
            issues.append(Issue(
                source["source_file"], source["source_sheet"], source["cell"], "warning",
                f"{unit}{period}“{INDICATOR_BY_KEY[part].label}”为{_fmt(row[part])}，"
                f"大于“{INDICATOR_BY_KEY[whole].label}”的{_fmt(row[whole])}。请核实，数据按原样保留。",
                "part_exceeds_whole",
            ))


def _hazard_findings(hazards: pd.DataFrame, issues: list[Issue]) -> None:
    if hazards.empty:
        return
    latest = hazards.drop_duplicates("hazard_id", keep="last")
    no_deadline = latest[latest["deadline_raw"].fillna("").str.strip() == ""]
    no_sector = latest[latest["sector"].isna()]
    for rows, what, code, cell in ((no_deadline, "整改期限", "missing_deadline", "deadline_cell"),
                                   (no_sector, "所属行业领域", "missing_sector", "sector_cell")):
        for row in rows.itertuples(index=False):
            issues.append(Issue(
                row.source_file, row.source_sheet, getattr(row, cell) or f"第{row.source_row}行", "warning",
                f"隐患“{row.enterprise}：{str(row.description)[:20]}”未填写{what}，请补填。", code,
            ))


def _ledger_form_findings(unique: pd.DataFrame, hazards: pd.DataFrame, indicators: pd.DataFrame, issues: list[Issue]) -> None:
    """Hazards listed in the ledgers up to a period against the found counts of the forms."""
    if indicators.empty or hazards.empty:
        return
    found = indicators[indicators["key"].isin(["self_found", "dept_found"])]
    reported = found.groupby(["unit", "period"]).agg(counted=("cumulative", "sum"), source_file=("source_file", "last"),
                                                     source_sheet=("source_sheet", "last"))
    first_seen = unique.groupby(["unit", "first_period"]).size()
    ledger_periods = set(zip(hazards["unit"], hazards["period"]))
    for (unit, period), row in reported.iterrows():
        if (unit, period) not in ledger_periods:
            continue  # no ledger for this month: nothing to compare
        listed = int(first_seen.loc[unit][first_seen.loc[unit].index <= period].sum()) if unit in first_seen.index.get_level_values(0) else 0
        gap = abs(listed - row["counted"])
        if gap >= LEDGER_FORM_MIN_GAP and gap > LEDGER_FORM_TOLERANCE * max(listed, row["counted"]):
            issues.append(Issue(
                row["source_file"], row["source_sheet"], "", "warning",
                f"{unit}截至{period}台账列出重大隐患{listed}条，调度表填报发现{_fmt(row['counted'])}个（企业自查+部门检查），相差{_fmt(gap)}。请核对台账与调度表。",
                "ledger_form_mismatch",
            ))


def _registry_frame(subs: list[Submission]) -> pd.DataFrame:
    parts = []
    for sub in subs:
        if sub.kind == "registry":
            part = sub.records.copy()
            part["source_file"], part["source_sheet"] = sub.source_file, sub.source_sheet
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["enterprise", "responsible_unit", "head", "head_phone", "leader", "leader_phone",
                                     "cadre", "cadre_phone", "source_row", "source_file", "source_sheet"])
    return pd.concat(parts, ignore_index=True)


def build_campaign(results: list[WorkbookResult], as_of: dt.date | None = None) -> Campaign:
    """Merge workbook results (oldest received first) into the campaign dataset."""
    as_of = as_of or dt.date.today()
    issues: list[Issue] = [issue for result in results for issue in result.issues]
    active, submissions = _resolve(results, issues)
    hazards = _hazards_frame(active)
    unique = _unique_hazards(hazards, as_of)
    indicators = _indicators_frame(active, issues)
    _part_whole_findings(indicators, issues)
    _hazard_findings(hazards, issues)
    _ledger_form_findings(unique, hazards, indicators, issues)
    files = pd.DataFrame(
        [{"file": r.file, "sha256": r.sha256, "accepted": r.accepted, "submissions": len(r.submissions),
          "issues": len(r.issues)} for r in results],
        columns=["file", "sha256", "accepted", "submissions", "issues"],
    )
    files["accepted"] = files["accepted"].astype(bool)
    return Campaign(hazards, unique, indicators, _registry_frame(active), submissions, files, issues, as_of)
