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
import pyarrow as pa

from .model import Issue, RecordRows, Submission, WorkbookResult
from .reference import CAMPAIGN_END_PERIOD, CAMPAIGN_START_PERIOD, INDICATOR_BY_KEY, PART_WHOLE_PAIRS
from .identity import link_rewordings, shared_values
from .resends import Candidate, filing_date_usable, in_campaign_window, resolve, statistics_date
from .values import normalize_text

HAZARD_COLUMNS = (
    "hazard_id", "unit", "unit_type", "enterprise", "sector", "sector_raw", "description", "measures",
    "supervision_level", "supervision_doc", "deadline", "deadline_raw", "progress_raw", "status", "period",
    "source_file", "source_sheet", "source_row", "deadline_cell", "sector_cell",
)
# gap_periods: the months (comma-joined) an increment spans without a report of that key by that unit.
INDICATOR_COLUMNS = ("unit", "unit_type", "period", "key", "cumulative", "increment", "gap_periods",
                     "source_file", "source_sheet", "cell")
SUBMISSION_COLUMNS = (
    "kind", "unit", "unit_type", "period", "layout", "reported_on", "source_file", "source_sheet", "records", "active",
    "superseded_by", "state", "batch", "correction", "supplement", "held_aside",
)

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

    @property
    def received_periods(self) -> list[str]:
        """The campaign periods (YYYY-MM) some counting submission covers, oldest first: held-aside
        submissions (outside the window) are left out."""
        if self.submissions.empty:
            return []
        counting = self.submissions[self.submissions["active"].astype(bool)]
        return sorted(p for p in set(counting["period"].dropna()) if in_campaign_window(p))

    def statistics_date(self, today: dt.date | None = None) -> dt.date:
        """The contract's statistics date (统计日期) on ``today`` (default: the calendar's)."""
        return statistics_date(self.received_periods, today or dt.date.today())

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
        frame = self.indicators
        # Columns as lists: iterating rows of Arrow-backed text cost ~0.2 s on the sample.
        for unit, period, key, cumulative in zip(frame["unit"].tolist(), frame["period"].tolist(), frame["key"].tolist(),
                                                 frame["cumulative"].tolist()):
            indicators.setdefault(unit, {}).setdefault(period, {})[key] = _json_value(cumulative, key)
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


_KIND_WORDS = {"ledger": "隐患台账", "county_form": "调度表", "department_form": "调度表", "registry": "公示牌"}


def _fingerprint(sub: Submission) -> object:
    if sub.kind in ("county_form", "department_form"):
        rows = sub.record_rows
        if rows is not None and rows.columns[:2] == ("key", "value"):
            return tuple(sorted((row[0], float(row[1])) for row in rows.rows))
        return tuple(sorted((k, float(v)) for k, v in zip(sub.records["key"], sub.records["value"])))
    # The frame is not kept on the submission: one with its records as a frame is stacked slowly (_stack).
    records = rows.frame() if (rows := sub.record_rows) is not None else sub.records
    cols = [c for c in records.columns if c not in ("source_row",)]
    return pd.util.hash_pandas_object(records[cols].astype(str), index=False).sum()


def _why_newer(older: Candidate, newer: Candidate) -> str:
    """Which of the contract's resend rules made ``newer`` win, in the officer's words."""
    if newer.batch != older.batch:
        return "后收到"
    if newer.correction and not older.correction:
        return "标为更正"
    if newer.order[2] != older.order[2]:
        return "填报时间较晚"
    return "文件名排在后面"


def _resolve(results: list[WorkbookResult], issues: list[Issue]) -> tuple[list[Submission], pd.DataFrame]:
    """Apply the resend rules (``loaders.resends``); every submission stays in the history frame.

    Returns the submissions that count, ordered as the rules order them (a key's winner last,
    a period's supplements after its ledger), and one history row per submission."""
    subs = [(r, s) for r in results for s in r.submissions]
    candidates = [
        Candidate(s.kind, s.unit, s.period, r.batch, s.correction, s.supplement, s.reported_on, s.source_file, n)
        for n, (r, s) in enumerate(subs)
    ]
    decisions = resolve(candidates)
    rows = []
    for (_, sub), candidate, decision in zip(subs, candidates, decisions):
        newer = subs[decision.by][1] if decision.by is not None else None
        rows.append({
            "kind": sub.kind, "unit": sub.unit, "unit_type": sub.unit_type, "period": sub.period,
            "layout": sub.layout, "reported_on": sub.reported_on, "source_file": sub.source_file,
            "source_sheet": sub.source_sheet, "records": sub.record_count, "active": decision.counts,
            "superseded_by": newer.source_file if newer is not None else None, "state": decision.state,
            "batch": candidate.batch, "correction": sub.correction, "supplement": sub.supplement,
            "held_aside": decision.state == "held_aside",
        })
        what = _KIND_WORDS[sub.kind]
        if decision.state != "held_aside" and sub.reported_on is not None and not filing_date_usable(sub.reported_on):
            issues.append(Issue(
                sub.source_file, sub.source_sheet, "", "warning",
                f"“时间”栏的日期{sub.reported_on.isoformat()}不在专项行动期间，判断先后时不采用。请核对年份。",
                "filing_date_outside_window",
            ))
        if decision.state == "held_aside":
            issues.append(Issue(
                sub.source_file, sub.source_sheet, "", "warning",
                f"{sub.unit}的{what}所属月份为{sub.period}，不在专项行动期间（{CAMPAIGN_START_PERIOD}至{CAMPAIGN_END_PERIOD}），"
                "已单独保存，不计入任何统计。请核对标题或“时间”栏的年月后重新报送。",
                "period_outside_campaign",
            ))
        elif decision.state == "added":
            issues.append(Issue(
                sub.source_file, sub.source_sheet, "", "info",
                f"{sub.unit}{sub.period}的补报台账：{sub.record_count}条隐患并入该月台账（不替代原台账）。",
                "supplement_added",
            ))
        elif newer is not None and _fingerprint(sub) != _fingerprint(newer):
            issues.append(Issue(
                newer.source_file, newer.source_sheet, "", "warning",
                f"{sub.unit}{sub.period or ''}的{what}报送了两次且数据不同：“{sub.source_file}”（{sub.source_sheet}）"
                f"与“{newer.source_file}”（{newer.source_sheet}），采用“{newer.source_file}”"
                f"（{_why_newer(candidate, candidates[decision.by])}）。请确认以哪一份为准。",
                "duplicate_submission",
            ))
    # The rows hold plain values only: a Submission in them (even in a dropped column) kept
    # every parsed sheet of every file alive as long as the campaign (~190 MB at province scale).
    frame = pd.DataFrame(rows, columns=list(SUBMISSION_COLUMNS))
    counting = sorted((n for n, d in enumerate(decisions) if d.counts),
                      key=lambda n: (candidates[n].supplement, candidates[n].order))
    return [subs[n][1] for n in counting], frame


def _merge_failed(sub: Submission, error: Exception) -> Issue:
    """A submission that could not be merged: reported on its file, the rest still load."""
    return Issue(sub.source_file, sub.source_sheet, "", "error",
                 f"{sub.unit}{sub.period or ''}的{_KIND_WORDS.get(sub.kind, '报送')}无法汇总，未计入统计"
                 f"（{type(error).__name__}: {str(error)[:80]}）。请检查表格后重新报送。", "merge_failed")


_LEDGER_FIELDS = frozenset(HAZARD_COLUMNS) - {"hazard_id", "unit_type", "period", "source_file", "source_sheet"}
_FORM_FIELDS = frozenset(("key", "value", "cell"))


def _stack(subs: list[Submission], kinds: tuple[str, ...], fields: frozenset, with_columns: tuple[str, ...],
           issues: list[Issue]) -> pd.DataFrame | None:
    """The records of ``subs`` of ``kinds`` in one frame, plus the submission attributes
    ``with_columns`` repeated over each one's rows (added once, not per submission: per-part
    column work cost ~15 s at province scale). A submission whose records lack a field is a
    finding and is left out; None when nothing is left."""
    meta: list[Submission] = []
    lengths: list[int] = []
    for sub in subs:
        if sub.kind not in kinds:
            continue
        rows = sub.record_rows
        if rows is not None:
            if not len(rows):
                continue
            columns = rows.columns
        else:
            if sub.records.empty:
                continue
            columns = sub.records.columns
        if missing := fields - set(columns):
            issues.append(_merge_failed(sub, ValueError(f"missing columns {sorted(missing)}")))
            continue
        meta.append(sub)
        lengths.append(sub.record_count)
    if not meta:
        return None
    frame = _stacked_rows(meta, lengths)
    if frame is None:
        frame = pd.concat([sub.records for sub in meta], ignore_index=True)
    for column in with_columns:
        per_sub = [getattr(sub, column) for sub in meta]
        if set(map(type, per_sub)) == {str}:  # the same texts as below, without pandas' conversion of each row's
            rows_of_sub = pa.array(np.repeat(np.arange(len(meta)), lengths))
            texts = pa.array(per_sub, type=pa.large_string()).take(rows_of_sub)
            frame[column] = pd.Series(pd.arrays.ArrowStringArray(texts, dtype=_TEXT_DTYPE), index=frame.index)
            continue
        values = np.repeat(np.array(per_sub, dtype=object), lengths)
        frame[column] = pd.Series(values, index=frame.index, dtype="str")  # all text: Arrow-backed, as elsewhere
    return frame


# The dtype pandas gives a column of texts (Arrow-backed "str", missing values NaN).
_TEXT_DTYPE = pd.Series(["-"]).dtype


def _stacked_rows(subs: list[Submission], lengths: list[int]) -> pd.DataFrame | None:
    """``pd.concat`` of the submissions' record frames, built in one go from the parsers' rows
    (one frame of all rows, not a frame per submission in the parsers and their concatenation).
    None when that could differ from the concatenation, which the caller then makes: when some
    submission's records are a frame already or have other columns, or when a column that is not
    object overall is empty (all None) in one submission and not in all (that submission's frame
    would type it object, and so would the concatenation)."""
    parts = [sub.record_rows for sub in subs]
    if any(part is None or part.columns != parts[0].columns for part in parts):
        return None
    columns = parts[0].columns
    if all(part.packed for part in parts):
        frame = _stacked_columns(parts, columns)
    else:
        frame = pd.DataFrame([row for part in parts for row in part.rows], columns=list(columns))
    starts = np.cumsum([0, *lengths[:-1]])
    for column in frame.columns:
        if frame[column].dtype == object:
            continue  # object in each submission's frame too (the parsers write one type, or None, per column)
        missing = frame[column].isna().to_numpy()
        if missing.any() and not missing.all() and np.logical_and.reduceat(missing, starts).any():
            return None
    return frame


def _stacked_columns(parts: list[RecordRows], columns: tuple[str, ...]) -> pd.DataFrame:
    """``pd.DataFrame`` of packed parts' rows: a column of texts in every part is their Arrow
    arrays joined (pandas would type it text: texts and None only, some text), any other column
    is typed by pandas from its values as there (each column is inferred on its own)."""
    data: dict[str, object] = {}
    others: list[str] = []
    for i, name in enumerate(columns):
        pieces = [part.column(i) for part in parts]
        if all(isinstance(piece, pa.Array) for piece in pieces):
            data[name] = pd.arrays.ArrowStringArray(pa.concat_arrays(pieces), dtype=_TEXT_DTYPE)
        else:
            data[name] = [v for piece in pieces for v in (piece.to_pylist() if isinstance(piece, pa.Array) else piece)]
            others.append(name)
    if others:
        rest = pd.DataFrame(list(zip(*(data[name] for name in others))), columns=others)
        data.update((name, rest[name]) for name in others)
    return pd.DataFrame(data, columns=list(columns))


def _hazards_frame(subs: list[Submission], issues: list[Issue]) -> pd.DataFrame:
    """One row per hazard per period. ``subs`` come in the resend rules' order (a period's
    supplements after its ledger), which the stable sort keeps within each period and unit."""
    hazards = _stack(subs, ("ledger",), _LEDGER_FIELDS, ("unit_type", "period", "source_file", "source_sheet"), issues)
    if hazards is None:
        return pd.DataFrame(columns=list(HAZARD_COLUMNS))
    # A hazard listed again in later months has the same key: each distinct key is hashed once.
    ids: dict[tuple, str] = {}
    hazards["hazard_id"] = [ids[key] if key in ids else ids.setdefault(key, hazard_id(*key))
                            for key in zip(*(shared_values(hazards[name]) for name in ("unit", "enterprise", "description")))]
    del ids  # its keys hold every distinct text until the function ends otherwise
    hazards["deadline"] = pd.to_datetime(hazards["deadline"], errors="coerce")
    hazards = hazards[list(HAZARD_COLUMNS)].sort_values(["period", "unit"], kind="stable").reset_index(drop=True)
    hazards = link_rewordings(hazards, issues)
    # A deadline written without a year is read against its ledger's period; the same text
    # repeated by later ledgers keeps the date it had when first written (docs/RULES.md):
    # August's "8月底前" copied into December is still 2023-08-31, not 2024-08-31.
    hazards["deadline"] = hazards.groupby(["hazard_id", "deadline_raw"], sort=False, dropna=False)["deadline"].transform("first")
    return hazards


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
    frame = _stack(subs, ("county_form", "department_form"), _FORM_FIELDS,
                   ("unit", "unit_type", "period", "source_file", "source_sheet"), issues)
    if frame is None:
        return pd.DataFrame(columns=list(INDICATOR_COLUMNS))
    frame = frame.rename(columns={"value": "cumulative"})
    frame["cumulative"] = frame["cumulative"].astype(float)
    # A key read twice from one sheet (a column pasted twice; the parser reports it): the first counts.
    frame = frame.drop_duplicates(["unit", "period", "key", "source_file", "source_sheet"], keep="first")
    # A unit's forms for one period from two sheets both counting (e.g. a 汇总表 row and a form): the later counts.
    frame = frame.drop_duplicates(["unit", "period", "key"], keep="last")
    frame = frame.sort_values(["unit", "key", "period"], kind="stable").reset_index(drop=True)
    previous = frame.groupby(["unit", "key"], sort=False)["cumulative"].shift(1)
    previous_period = frame.groupby(["unit", "key"], sort=False)["period"].shift(1)
    # Yes/no answers (media_column) are states, not running totals: no increment, never "falls".
    cumulative_kind = ~frame["key"].isin([key for key, ind in INDICATOR_BY_KEY.items() if ind.kind == "bool"])
    # The first reported period's increment is its cumulative value (figures start in May).
    frame["increment"] = np.where(previous.isna(), frame["cumulative"], frame["cumulative"] - previous)
    frame.loc[~cumulative_kind, "increment"] = np.nan
    frame["gap_periods"] = _gap_periods(frame["period"], previous_period)
    frame.loc[~cumulative_kind, "gap_periods"] = ""
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


def _month_number(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _gap_periods(periods: pd.Series, previous: pd.Series) -> list[str]:
    """Months strictly between each row's previous reported period (for a unit's first report:
    the month before the campaign start) and its period; "" when the increment spans none."""
    start = _month_number(CAMPAIGN_START_PERIOD) - 1
    gaps = []
    for period, before in zip(periods, previous):
        last = _month_number(before) if isinstance(before, str) else start
        current = _month_number(period)
        gaps.append(",".join(f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(last + 1, current)))
    return gaps


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
    # Hazards first listed in each (unit, month), as plain values: a lookup per form row in the
    # grouped Series cost ~2 ms (0.8 s on the sample).
    first_seen: dict[str, list[tuple[str, int]]] = {}
    for (unit, first_period), count in unique.groupby(["unit", "first_period"]).size().items():
        first_seen.setdefault(unit, []).append((first_period, int(count)))
    pairs = hazards[["unit", "period"]].drop_duplicates()  # (iterating 400k Arrow-backed rows took ~3 s)
    ledger_periods = set(zip(pairs["unit"].tolist(), pairs["period"].tolist()))
    for (unit, period), counted, source_file, source_sheet in zip(
            reported.index, reported["counted"].tolist(), reported["source_file"].tolist(), reported["source_sheet"].tolist()):
        if (unit, period) not in ledger_periods:
            continue  # no ledger for this month: nothing to compare
        listed = sum(count for first_period, count in first_seen.get(unit, ()) if first_period <= period)
        gap = abs(listed - counted)
        if gap >= LEDGER_FORM_MIN_GAP and gap > LEDGER_FORM_TOLERANCE * max(listed, counted):
            issues.append(Issue(
                source_file, source_sheet, "", "warning",
                f"{unit}截至{period}台账列出重大隐患{listed}条，调度表填报发现{_fmt(counted)}个（企业自查+部门检查），相差{_fmt(gap)}。请核对台账与调度表。",
                "ledger_form_mismatch",
            ))


REGISTRY_COLUMNS = ("unit", "enterprise", "responsible_unit", "head", "head_phone", "leader", "leader_phone",
                    "cadre", "cadre_phone", "source_row", "source_file", "source_sheet")


def _registry_frame(subs: list[Submission], issues: list[Issue]) -> pd.DataFrame:
    """Every board counts: one entry per unit + enterprise, the latest board of an enterprise
    replacing that enterprise's entry only (``subs`` come oldest first)."""
    registry = _stack(subs, ("registry",), frozenset(("enterprise",)), ("unit", "source_file", "source_sheet"), issues)
    if registry is None:
        return pd.DataFrame(columns=list(REGISTRY_COLUMNS))
    enterprise_key = registry["enterprise"].fillna("").astype(str).map(normalize_text)
    latest = ~pd.DataFrame({"unit": registry["unit"], "key": enterprise_key}).duplicated(keep="last")
    return registry[latest].reindex(columns=list(REGISTRY_COLUMNS)).reset_index(drop=True)


def build_campaign(results: list[WorkbookResult], as_of: dt.date | None = None) -> Campaign:
    """Merge workbook results (oldest received first) into the campaign dataset, seen on
    ``as_of`` (default: the statistics date, today capped by the latest period received)."""
    issues: list[Issue] = [issue for result in results for issue in result.issues]
    active, submissions = _resolve(results, issues)
    if as_of is None:
        counted = submissions.loc[submissions["active"].astype(bool), "period"].dropna() if len(submissions) else []
        as_of = statistics_date(list(set(counted)), dt.date.today())
    hazards = _hazards_frame(active, issues)
    unique = _unique_hazards(hazards, as_of)
    indicators = _indicators_frame(active, issues)
    for check, frames in ((_part_whole_findings, (indicators,)), (_hazard_findings, (hazards,)),
                          (_ledger_form_findings, (unique, hazards, indicators))):
        try:
            check(*frames, issues)
        except Exception as error:  # noqa: BLE001 - a failed check must not take the figures down with it
            issues.append(Issue("", "", "", "error", f"数据核查“{check.__name__.strip('_')}”未完成（{type(error).__name__}: "
                                f"{str(error)[:80]}），其余统计不受影响。请将此提示告知系统管理员。", "check_failed"))
    files = pd.DataFrame(
        [{"file": r.file, "sha256": r.sha256, "accepted": r.accepted, "submissions": len(r.submissions),
          "issues": len(r.issues)} for r in results],
        columns=["file", "sha256", "accepted", "submissions", "issues"],
    )
    files["accepted"] = files["accepted"].astype(bool)
    registry = _registry_frame(active, issues)
    return Campaign(hazards, unique, indicators, registry, submissions, files, issues, as_of)
