"""Property-based tests (hypothesis) of the loaders on real .xlsx bytes written the way clerks write them.

(A) The same small ledgers laid out differently (grouped under sector headings or with a sector
    column, one or two header rows, unit names spaced with ASCII or full-width spaces, the
    deadline spelled as an Excel date, "2023.8.30", "2023年8月30日", "2023-8-30前" or "8月30日")
    give the same hazard summary.
(B) A small campaign's forms, several versions each, sent as random subsets in random order and
    random batches: the figures that count follow the contract's resend rules ("Periods, resends
    and corrections"): the latest batch wins; within a batch a 更正 file, else the later 时间
    date, else the later file name.

The examples are derandomized and no example database is kept, so CI runs the same examples.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import build_campaign, load_workbook
from sample_data import writers

PROFILE = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _xlsx(write) -> bytes:
    workbook = openpyxl.Workbook()
    write(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- (A) ledger layouts -------------------------------------------------------------

PERIOD = "2023-08"
AS_OF = dt.date(2023, 10, 15)
UNITS = ("章贡区", "南康区", "信丰县")
# sector key -> (the spelling in a sector column, the spelling of a heading row)
SECTORS = {
    "fire": ("消防", "消防安全"),
    "construction": ("建筑施工", "房屋市政工程"),
    "urban_gas": ("燃气", "城镇燃气"),
    "road_traffic": ("道路交通", "道路交通安全"),
    "hazardous_chemicals": ("危化品", "危险化学品"),
}
ENTERPRISES = ("宏达商贸城", "鑫源燃气有限公司", "恒通运输有限公司", "华泰化工有限公司", "远航小区建设项目")
# Texts far apart, so that no two read as one hazard reworded.
PROBLEMS = ("消防车通道被占用堵塞", "危大工程未编制专项施工方案", "燃气管道被违规占压", "驾驶人疲劳驾驶未纠正",
            "重大危险源未实现在线监测", "安全出口锁闭", "深基坑未按方案支护")
PROGRESS = {"rectified": "已整改", "in_progress": "整改中", "not_started": "未整改"}
SUPERVISION = ("无", "县级督办", "市级挂牌督办 赣市安办字〔2023〕12号", None)
# Deadlines from the report month on, so "8月30日" reads in the report's year (the year rule).
DEADLINES = st.dates(min_value=dt.date(2023, 8, 1), max_value=dt.date(2023, 12, 31))
DEADLINE_SPELLINGS = ("excel", "dotted", "chinese", "dash_before", "month_day")


@dataclass(frozen=True)
class LedgerHazard:
    unit: str
    enterprise: str
    sector: str
    problem: str
    deadline: dt.date | None
    status: str
    supervision: str | None


@dataclass(frozen=True)
class Layout:
    grouped: str | None  # None: a sector column; "numbered" / "bracketed" headings
    header_rows: int
    spacing: str  # plain | ascii | fullwidth
    spellings: tuple[str, ...]  # one per hazard


hazard_strategy = st.builds(
    LedgerHazard,
    unit=st.sampled_from(UNITS),
    enterprise=st.sampled_from(ENTERPRISES),
    sector=st.sampled_from(sorted(SECTORS)),
    problem=st.sampled_from(PROBLEMS),
    deadline=st.one_of(st.none(), DEADLINES),
    status=st.sampled_from(sorted(PROGRESS)),
    supervision=st.sampled_from(SUPERVISION),
)
ledgers = st.lists(hazard_strategy, min_size=1, max_size=7, unique_by=lambda h: (h.unit, h.enterprise, h.problem))


def _spaced(name: str, spacing: str) -> str:
    if spacing == "ascii":
        return " ".join(name)
    if spacing == "fullwidth":
        return "\u3000".join(name)
    return name


def _spell_deadline(deadline: dt.date | None, spelling: str) -> object:
    if deadline is None:
        return "长期"
    return {
        "excel": deadline,
        "dotted": f"{deadline.year}.{deadline.month}.{deadline.day}",
        "chinese": f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "dash_before": f"{deadline.year}-{deadline.month}-{deadline.day}前",
        "month_day": f"{deadline.month}月{deadline.day}日",
    }[spelling]


def _ledger_files(hazards: list[LedgerHazard], layout: Layout) -> list[tuple[str, bytes]]:
    """One ledger file per unit, named without the unit (it must come from the sheet)."""
    files = []
    spelling = dict(zip(hazards, layout.spellings))
    for number, unit in enumerate(sorted({h.unit for h in hazards})):
        own = sorted((h for h in hazards if h.unit == unit), key=lambda h: sorted(SECTORS).index(h.sector))
        label = _spaced(unit, layout.spacing)
        rows = [{
            "unit": label, "enterprise": h.enterprise,
            "sector": SECTORS[h.sector][1 if layout.grouped else 0],
            "description": h.problem, "measures": "限期整改", "supervision": h.supervision,
            "deadline": _spell_deadline(h.deadline, spelling[h]), "progress": PROGRESS[h.status],
        } for h in own]
        content = _xlsx(lambda ws: writers.write_ledger(
            ws, rows, unit_label=label, title=f"{label}重大事故隐患排查整治台账（2023年8月）",
            header_rows=layout.header_rows, grouped=layout.grouped))
        files.append((f"台账{number + 1}.xlsx", content))
    return files


def _hazard_summary(hazards: list[LedgerHazard], layout: Layout) -> dict:
    results = [load_workbook(data, name) for name, data in _ledger_files(hazards, layout)]
    return build_campaign(results, AS_OF).summary()["hazards"]


@st.composite
def ledger_and_layout(draw):
    hazards = draw(ledgers)
    layout = Layout(
        grouped=draw(st.sampled_from((None, "numbered", "bracketed"))),
        header_rows=draw(st.sampled_from((1, 2))),
        spacing=draw(st.sampled_from(("plain", "ascii", "fullwidth"))),
        spellings=tuple(draw(st.lists(st.sampled_from(DEADLINE_SPELLINGS), min_size=len(hazards),
                                      max_size=len(hazards)))),
    )
    return hazards, layout


@PROFILE
@given(ledger_and_layout())
def test_ledger_layouts_give_the_same_hazard_summary(case):
    hazards, layout = case
    plain = Layout(grouped=None, header_rows=1, spacing="plain", spellings=("excel",) * len(hazards))
    expected = _hazard_summary(hazards, plain)
    # The plain layout itself reads back what was written.
    assert expected["unique"] == len(hazards)
    assert expected["by_unit"] == {u: sum(h.unit == u for h in hazards) for u in sorted({h.unit for h in hazards})}
    assert expected["overdue"] == sum(h.deadline is not None and h.deadline < AS_OF and h.status != "rectified"
                                      for h in hazards)
    assert _hazard_summary(hazards, layout) == expected


# --- (B) resends -----------------------------------------------------------------------

FORM_UNITS = ("章贡区", "南康区")
FORM_PERIODS = ("2023-07", "2023-08")


@dataclass(frozen=True)
class Version:
    """One sending of a unit's form for a period. Distinct figures identify the version."""

    unit: str
    period: str
    number: int
    filed_on: dt.date | None  # None: the template's blank 时间 line
    correction: bool
    letter: str  # orders the file names

    @property
    def file_name(self) -> str:
        month = int(self.period[5:])
        return f"{self.unit}2023年{month}月调度表{'（更正）' if self.correction else ''}{self.letter}.xlsx"

    @property
    def self_found(self) -> int:
        # Cumulative figures rise from period to period whatever versions count.
        return 100 * (FORM_PERIODS.index(self.period) + 1) + 10 * self.number + FORM_UNITS.index(self.unit)


def _versions() -> list[Version]:
    """Per unit and period: v0 filed on the 18th, named A; v1 on the 10th, named C; v2 on the 10th,
    named B; v3 a correction without a date, named D. Only the correction is undated, and each
    unit-period has one correction, so the contract's words order any two of them."""
    out = []
    for unit in FORM_UNITS:
        for period in FORM_PERIODS:
            year, month = 2023, int(period[5:]) + 1
            out += [
                Version(unit, period, 0, dt.date(year, month, 18), False, "A"),
                Version(unit, period, 1, dt.date(year, month, 10), False, "C"),
                Version(unit, period, 2, dt.date(year, month, 10), False, "B"),
                Version(unit, period, 3, None, True, "D"),
            ]
    return out


VERSIONS = _versions()


@lru_cache(maxsize=None)
def _read(version: Version):
    values = {"enterprises": 500, "self_found": version.self_found, "self_rectified": 1, "dept_found": 5,
              "dept_rectified": 1, "checked_enterprises": 20}
    filed = f"{version.filed_on.year}年{version.filed_on.month}月{version.filed_on.day}日" if version.filed_on else None
    data = _xlsx(lambda ws: writers.write_form(ws, values, form=3, unit_label=version.unit, filed_on_text=filed))
    return load_workbook(data, version.file_name)


def _winner(sent: list[tuple[Version, int]]) -> Version:
    """The contract: a later batch replaces an earlier one; within one batch a 更正 file wins,
    otherwise the later 时间 date, otherwise the later file name."""
    last_batch = max(batch for _, batch in sent)
    latest = [v for v, batch in sent if batch == last_batch]
    corrections = [v for v in latest if v.correction]
    if corrections:
        return corrections[0]  # one correction per unit-period here
    return max(latest, key=lambda v: (v.filed_on, v.file_name))


@st.composite
def deliveries(draw):
    chosen = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=len(VERSIONS), unique=True))
    batches = draw(st.lists(st.integers(0, 3), min_size=len(chosen), max_size=len(chosen)))
    order = draw(st.permutations(list(zip(chosen, batches))))
    return order


@PROFILE
@given(deliveries())
def test_resends_follow_the_contract(sent):
    results = []
    for version, batch in sent:
        result = copy.deepcopy(_read(version))
        assert result.accepted, version.file_name
        result.batch = batch
        results.append(result)
    campaign = build_campaign(results, dt.date(2023, 12, 1))
    indicators = campaign.summary()["indicators"]

    groups: dict[tuple[str, str], list[tuple[Version, int]]] = {}
    for version, batch in sent:
        groups.setdefault((version.unit, version.period), []).append((version, batch))
    expected = {unit: {period: _winner(group).self_found for (u, period), group in groups.items() if u == unit}
                for unit in {u for u, _ in groups}}
    got = {unit: {period: values.get("self_found") for period, values in by_period.items()}
           for unit, by_period in indicators.items()}
    assert got == expected

    # Exactly the winner's file is active for each unit-period; the others stay in history.
    subs = campaign.submissions
    for (unit, period), group in groups.items():
        rows = subs[(subs["unit"] == unit) & (subs["period"] == period)]
        assert len(rows) == len(group)
        assert list(rows.loc[rows["active"], "source_file"]) == [_winner(group).file_name]
