"""Fuzzing the loaders (issue 10, "Bad input") with hypothesis, starting from real workbooks of the
committed sample campaign.

Four families of cases, each generated from a handful of real files of different layouts (ledgers
with one or two header rows, grouped under sector headings, a merged unit column; county and
department dispatch forms in three pair styles; the consolidated wide layout of several units;
registry tables and notice boards; a legacy .xls):

(1) cell values: the workbook opened with openpyxl, chosen cells replaced by what clerks and tools
    write (full-width digits, "—", "无", text dates, two values in a cell, huge and negative numbers,
    long text, control characters, markup, formulas, floats, dates, booleans), rows and columns
    inserted and deleted, ranges merged and unmerged, sheets renamed, copied and removed;
(2) bytes of the .xlsx (or .xls) flipped, truncated, inserted, deleted;
(3) one part inside the .xlsx zip corrupted (XML tags, cell references, types, shared-string
    indexes, merged ranges; the zip rewritten with valid checksums so the XML reader sees it);
(4) random bytes named .xlsx/.xls/.et, also behind a zip or OLE2 signature.

For every case ``loaders.load_workbook`` must return a WorkbookResult within CASE_SECONDS (run in a
thread: a hang fails the case), never raise; the file has submissions or issues, every issue names
the file and says in Chinese what is wrong, and a rejected file carries an error. A file that
yields submissions is then merged with ``loaders.build_campaign`` next to a good workbook of another
unit: the good unit's hazards and indicator rows must be exactly those it has alone, and the
summary must serialise as strict JSON.

The files the fuzzing found taking the process down (a damaged .xls, cells far apart) are
regression tests run in a child process with 2 GB of address space: a regression fails them
instead of exhausting the machine. The fuzz cases themselves run in this process.

The examples are derandomized and no example database is kept, so CI runs the same cases. The
number of examples per test is FUZZ_EXAMPLES (CI) or the environment variable
HAZARDBOARD_FUZZ_EXAMPLES; the cases run are counted per family and written to
``tests/artifacts/fuzz_cases.txt`` (benchmarks/README.md, "Loader fuzzing", has the counts).
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import io
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from loaders import build_campaign, load_workbook
from loaders.model import KIND_LABELS, SEVERITIES, Issue, WorkbookResult
from tests.test_bad_files import replace_member

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "sample_data" / "campaign"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Examples per test: the defaults in the tests below (840 cases, ~45 s on the 2-core machine) or, for
# a local hunt, HAZARDBOARD_FUZZ_EXAMPLES for every test (2000: 8,000 cases, ~9 min).
FUZZ_EXAMPLES = int(os.environ.get("HAZARDBOARD_FUZZ_EXAMPLES", "0") or 0) or None
CASE_SECONDS = 10.0
AS_OF = dt.date(2023, 12, 31)

# Real workbooks of different layouts (see sample_data/campaign/manifest.json).
SEEDS = (
    "2023年08月/上犹县8月台账.xlsx",  # ledger, one header row, merged cells, unit from the file name
    "2023年05月/附件2（2）.xlsx",  # ledger, two header rows, merged unit column, total row
    "2023年10月/龙南市10月台账.xlsx",  # ledger grouped under bracketed sector headings
    "2023年09月/安远县_2023年9月_台账及调度表.xlsx",  # numbered grouped ledger + county form, two sheets
    "2023年08月/南康区8月调度表.xlsx",  # county form, values with units in one cell
    "2023年05月/市应急管理局5月调度表.xlsx",  # department form, pairs in two cells
    "2023年08月/市城管局调度表.xlsx",  # department form, wide layout (汇总表)
    "2023年10月/功能区调度汇总表.xlsx",  # wide layout, several units, total row
    "公示牌/章贡区公示牌.xlsx",  # registry as notice boards
    "公示牌/安全生产责任公示牌信息汇总表.xlsx",  # registry table, 150 rows
)
XLS_SEED = "2023年08月/南康区8月调度表.xls"  # SEEDS' county form written again by xlwt as a legacy .xls
# The good file loaded next to each fuzzed one: a ledger and a county form of a unit no seed names.
GOOD = "2023年08月/瑞金市8月台账及调度表.xlsx"
GOOD_UNIT = "瑞金市"

CASES: Counter = Counter()
# Copied sheets get titles past Excel's 31 characters: openpyxl warns, and the file is a case like any other.
pytestmark = pytest.mark.filterwarnings("ignore:Title is more than 31 characters:UserWarning")


# --- the seeds and the good file -------------------------------------------------------

def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _xls_from(xlsx: bytes) -> bytes:
    """The same sheets, values and merged ranges written by xlwt (BIFF8), as a legacy form would be."""
    source = openpyxl.load_workbook(io.BytesIO(xlsx))
    book = xlwt.Workbook(encoding="utf-8")
    for ws in source.worksheets:
        sheet = book.add_sheet(ws.title)
        merged = {}
        for rng in ws.merged_cells.ranges:
            merged[(rng.min_row, rng.min_col)] = rng
        covered = {(r, c) for rng in ws.merged_cells.ranges for r, c in rng.cells if (r, c) != (rng.min_row, rng.min_col)}
        for row in ws.iter_rows():
            for cell in row:
                if (cell.row, cell.column) in covered:
                    continue
                value = cell.value
                if isinstance(value, (dt.datetime, dt.date)):
                    value = value.isoformat()[:10]
                if (cell.row, cell.column) in merged:
                    rng = merged[(cell.row, cell.column)]
                    sheet.write_merge(rng.min_row - 1, rng.max_row - 1, rng.min_col - 1, rng.max_col - 1, value)
                elif value is not None:
                    sheet.write(cell.row - 1, cell.column - 1, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@lru_cache(maxsize=None)
def seed_bytes(path: str) -> bytes:
    if path == XLS_SEED:
        return _xls_from(seed_bytes(path[:-4] + ".xlsx"))
    return (CAMPAIGN / path).read_bytes()


@lru_cache(maxsize=None)
def good_result() -> WorkbookResult:
    return load_workbook(seed_bytes(GOOD), _name(GOOD))


GOOD_COLUMNS = {
    "hazards": ("hazards", ["hazard_id", "unit", "enterprise", "sector", "description", "measures", "deadline", "status",
                            "period", "supervision_level", "source_file", "source_row"]),
    "unique hazards": ("unique_hazards", ["hazard_id", "status", "first_period", "periods_reported", "overdue", "deadline"]),
    "indicators": ("indicators", ["unit", "period", "key", "cumulative", "increment", "gap_periods", "source_file", "cell"]),
}


def _good_rows(campaign) -> dict[str, list[tuple[str, ...]]]:
    """The good unit's rows of each frame, as sorted text tuples (a multiset: order is no property)."""
    rows = {}
    for what, (attribute, columns) in GOOD_COLUMNS.items():
        frame = getattr(campaign, attribute)
        frame = frame.loc[frame["unit"] == GOOD_UNIT, columns]
        rows[what] = sorted(tuple(map(str, row)) for row in frame.itertuples(index=False))
    return rows


@lru_cache(maxsize=None)
def good_alone() -> dict[str, list[tuple[str, ...]]]:
    return _good_rows(build_campaign([good_result()], AS_OF))


def assert_good_rows_kept(campaign, file_name: str) -> None:
    for what, rows in _good_rows(campaign).items():
        alone = good_alone()[what]
        if rows != alone:
            missing = sorted(set(alone) - set(rows))[:3]
            extra = sorted(set(rows) - set(alone))[:3]
            raise AssertionError(f"{GOOD_UNIT} {what} next to {file_name}: {len(rows)} rows instead of {len(alone)}; "
                                 f"missing {missing}, changed or added {extra}")


def test_seeds_and_good_file_load_as_expected():
    """The starting points are real, accepted workbooks, and the good unit is no seed's unit."""
    for path in (*SEEDS, XLS_SEED):
        result = load_workbook(seed_bytes(path), _name(path))
        assert result.accepted, (path, result.issues)
        assert GOOD_UNIT not in {sub.unit for sub in result.submissions}, path
    rows = good_alone()
    assert len(rows["hazards"]) >= 20 and len(rows["unique hazards"]) == len(rows["hazards"])
    assert len(rows["indicators"]) >= 30


# --- running one case --------------------------------------------------------------------

def _bounded(what: str, function, *args):
    """``function(*args)`` in a daemon thread, failing the case when it takes over CASE_SECONDS."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"fuzz-{what}", daemon=True)
    started = time.perf_counter()
    # The join below cannot return while native code (the Rust reader) holds the GIL forever:
    # then this watchdog, which needs no GIL, prints every thread's stack and ends the process.
    faulthandler.dump_traceback_later(2 * CASE_SECONDS + 5, exit=True)
    try:
        thread.start()
        thread.join(CASE_SECONDS)
    finally:
        faulthandler.cancel_dump_traceback_later()
    if thread.is_alive():
        pytest.fail(f"{what} hung: still running after {CASE_SECONDS:.0f} s")
    if "error" in box:
        error = box["error"]
        raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from error
    assert time.perf_counter() - started < CASE_SECONDS
    return box["value"]


CJK = re.compile(r"[\u4e00-\u9fff]")
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_case(family: str, data: bytes, file_name: str, good_first: bool = True) -> WorkbookResult:
    """Every property of the module for one fuzzed file; counts the case."""
    CASES[family] += 1
    result = _bounded(f"load_workbook({file_name!r})", load_workbook, data, file_name)
    assert isinstance(result, WorkbookResult)
    assert result.file == file_name
    assert result.submissions or result.issues, "a file with neither records nor an issue was passed over silently"
    for issue in result.issues:
        assert issue.severity in SEVERITIES, issue
        assert issue.file == file_name, issue
        assert issue.message.strip() and CJK.search(issue.message), issue
    if not result.accepted:
        assert any(issue.severity == "error" for issue in result.issues), result.issues
        return result
    for sub in result.submissions:
        assert sub.kind in KIND_LABELS and sub.source_file == file_name
        assert isinstance(sub.unit, str) and sub.unit.strip()
        assert sub.period is None or PERIOD.match(sub.period), sub.period
        assert isinstance(sub.records, pd.DataFrame)
        if sub.kind in ("county_form", "department_form"):
            for value in sub.records["value"]:
                assert isinstance(value, (bool, int, float)) and math.isfinite(float(value)), (sub.unit, value)
    if GOOD_UNIT in {sub.unit for sub in result.submissions}:
        CASES[f"{family}: claims the good unit (batch not compared)"] += 1
        return result
    # A file without submissions adds only its issues to a campaign: the batch can differ only here.
    batch = [good_result(), result] if good_first else [result, good_result()]
    campaign = _bounded("build_campaign", build_campaign, batch, AS_OF)
    CASES[f"{family}: merged with the good file"] += 1
    assert_good_rows_kept(campaign, file_name)
    json.dumps(campaign.summary(), ensure_ascii=False, allow_nan=False)
    return result


def _profile(default: int):
    return settings(max_examples=FUZZ_EXAMPLES or default, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
                    print_blob=False)


def _run(family: str, test, default: int) -> None:
    """Run a @given test and check that it ran the cases it was meant to (no silent filtering)."""
    before = CASES[family]
    settings(_profile(default))(test)()
    ran = CASES[family] - before
    assert ran >= (FUZZ_EXAMPLES or default), f"{family}: only {ran} cases ran"


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request):
    started = time.perf_counter()
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    lines = [f"loader fuzzing, {dt.datetime.now().isoformat(timespec='seconds')}, "
             f"{time.perf_counter() - started:.1f} s, examples per test: {FUZZ_EXAMPLES or 'CI default'}"
             + (f", worker {worker}" if worker else "")]
    lines += [f"{count:7d}  {family}" for family, count in sorted(CASES.items())]
    lines.append(f"{sum(count for family, count in CASES.items() if ':' not in family):7d}  cases in all")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fuzz_cases{'-' + worker if worker else ''}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:  # (xdist workers have no terminal: the file only)
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)


# --- (1) cell values, rows, merges and sheets ----------------------------------------------

CLERK_TEXTS = (
    "１２家", "１２", "12家", " 8 ", "35.6万元", "3次 35.6万元", "3/5", "12/35.6", "12（其中3）", "3（其中重大1）", "—", "——",
    "无", "/", "／", "-", "暂无", "不详", "0", "０", "2023年8月30日", "2023.8.30", "2023-8-30前", "8.30", "8月底前", "8月30日",
    "长期", "立即整改", "2023年13月45日", "时间：2023 年 9 月 20 日", "时间：2032年9月20日", "（2023年8月）", "2023年5月",
    "填报单位：", "填报单位：章贡区", "市城管局", "赣州经开区", "合计", "总计", "注：", "填表说明", "已整改", "整改中",
    "未整改", "是", "否", "县级督办", "市级挂牌督办 赣市安办字〔2023〕12号", "消防", "燃气", "其他", "序号", "企业名称",
    "隐患描述", "整改期限", "一、消防安全", "（二）燃气", "<script>alert(1)</script>", "<b>x</b>&amp;", "=SUM(A1:A3)",
    "=1/0", "+1", "-5", "@SUM(1)", "=HYPERLINK(\"http://x\",\"y\")", "#DIV/0!", "#N/A", "\u3000", " ", "\t", "\n\n",
    "1e308", "1e999", "-0", "NaN", "inf", "9" * 400, "重大隐患" * 2000,
)
CONTROL_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1, max_size=8)
CELL_VALUES = st.one_of(
    st.none(),
    st.sampled_from(CLERK_TEXTS),
    st.text(max_size=40),
    CONTROL_TEXT,
    st.tuples(st.sampled_from(CLERK_TEXTS), CONTROL_TEXT).map("".join),
    st.integers(min_value=1, max_value=40_000).map(lambda n: "隐" * n),
    st.integers(min_value=-10**20, max_value=10**20),
    st.sampled_from((0, -1, 2**53 + 1, 10**15, -10**15, 1e308, -1e308, 5e-324, 1e16)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.times(),
    st.booleans(),
)
SHEET_NAMES = st.one_of(
    st.sampled_from(("Sheet1", "台账", "调度表", "汇总表", "附件3", "公示牌", "填表说明", "章贡区", "市城管局", "2023年8月", "x" * 31)),
    # (openpyxl cannot write control characters in a sheet name; the zip mutations put odd names in.)
    st.text(alphabet=st.characters(blacklist_characters="[]:*?/\\'", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=31),
)


@st.composite
def sheet_operation(draw, size: tuple[int, int, int]):
    """One edit of a workbook with ``size`` = (sheets, rows, columns) of its largest sheet."""
    sheets, rows, cols = size
    sheet = draw(st.integers(0, sheets - 1))
    row = st.integers(1, rows + 2)
    col = st.integers(1, cols + 2)
    kind = draw(st.sampled_from(("set", "set", "set", "set", "set", "insert_rows", "delete_rows", "insert_cols",
                                 "delete_cols", "merge", "unmerge", "rename", "copy_sheet", "remove_sheet")))
    if kind == "set":
        return ("set", sheet, draw(row), draw(col), draw(CELL_VALUES))
    if kind in ("insert_rows", "delete_rows"):
        return (kind, sheet, draw(row), draw(st.integers(1, 5)))
    if kind in ("insert_cols", "delete_cols"):
        return (kind, sheet, draw(col), draw(st.integers(1, 3)))
    if kind == "merge":
        r0, c0 = draw(row), draw(col)
        return ("merge", sheet, r0, c0, r0 + draw(st.integers(0, 4)), c0 + draw(st.integers(0, 4)))
    if kind == "unmerge":
        return ("unmerge", sheet, draw(st.integers(0, 60)))
    if kind == "rename":
        return ("rename", sheet, draw(SHEET_NAMES))
    return (kind, sheet)


def _set(ws, row: int, col: int, value: object) -> None:
    cell = ws.cell(row, col)
    if type(cell).__name__ == "MergedCell":  # inside a merged range: openpyxl writes only its top-left cell
        return
    try:
        cell.value = value
    except IllegalCharacterError:
        # Control characters are stored the way Excel stores them (_x0001_); the reader decodes them.
        cell.value = "".join(f"_x{ord(ch):04X}_" if ord(ch) < 0x20 and ch not in "\t\n\r" else ch for ch in value)


def apply_operation(wb, op: tuple) -> None:
    kind, index = op[0], op[1]
    ws = wb.worksheets[min(index, len(wb.worksheets) - 1)]
    if kind == "set":
        _set(ws, op[2], op[3], op[4])
    elif kind == "insert_rows":
        ws.insert_rows(op[2], op[3])
    elif kind == "delete_rows":
        ws.delete_rows(op[2], op[3])
    elif kind == "insert_cols":
        ws.insert_cols(op[2], op[3])
    elif kind == "delete_cols":
        ws.delete_cols(op[2], op[3])
    elif kind == "merge":
        ws.merge_cells(start_row=op[2], start_column=op[3], end_row=op[4], end_column=op[5])
    elif kind == "unmerge":
        ranges = sorted(ws.merged_cells.ranges, key=str)
        if ranges:
            # Not unmerge_cells: after rows were inserted it fails on openpyxl's own bookkeeping.
            ws.merged_cells.remove(ranges[op[2] % len(ranges)])
    elif kind == "rename":
        if op[2] not in wb.sheetnames:
            ws.title = op[2]
    elif kind == "copy_sheet":
        wb.copy_worksheet(ws)
    elif kind == "remove_sheet" and len(wb.worksheets) > 1:
        wb.remove(ws)


@lru_cache(maxsize=None)
def seed_size(path: str) -> tuple[int, int, int]:
    wb = openpyxl.load_workbook(io.BytesIO(seed_bytes(path)))
    return len(wb.worksheets), max(ws.max_row for ws in wb.worksheets), max(ws.max_column for ws in wb.worksheets)


@st.composite
def cell_mutation(draw):
    path = draw(st.sampled_from(SEEDS))
    ops = draw(st.lists(sheet_operation(seed_size(path)), min_size=1, max_size=12))
    return path, ops


def _mutated_workbook(path: str, ops: list[tuple]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(seed_bytes(path)))
    try:
        for op in ops:
            apply_operation(wb, op)
        out = io.BytesIO()
        wb.save(out)
    except Exception as exc:  # noqa: BLE001 - openpyxl could not make this file: no case (counted)
        CASES[f"cell values, rows, merges, sheets: openpyxl could not write ({type(exc).__name__})"] += 1
        reject()
    return out.getvalue()


def test_cell_value_mutations_of_real_workbooks():
    @given(cell_mutation(), st.booleans())
    def case(mutation, good_first):
        path, ops = mutation
        check_case("cell values, rows, merges, sheets", _mutated_workbook(path, ops), _name(path), good_first)

    _run("cell values, rows, merges, sheets", case, 90)


def test_the_checks_catch_a_crash_a_hang_a_silent_file_and_a_dropped_row(monkeypatch):
    """The properties are not tautologies: each fails on a loader that breaks it."""
    module = globals()
    form = seed_bytes("2023年08月/南康区8月调度表.xlsx")
    assert check_case("self-check", form, "南康区8月调度表.xlsx").accepted

    def crash(data, name):
        raise KeyError("boom")

    monkeypatch.setitem(module, "load_workbook", crash)
    with pytest.raises(AssertionError, match="raised KeyError"):
        check_case("self-check", form, "南康区8月调度表.xlsx")

    monkeypatch.setitem(module, "load_workbook", lambda data, name: WorkbookResult(name, ""))
    with pytest.raises(AssertionError, match="passed over silently"):
        check_case("self-check", form, "南康区8月调度表.xlsx")

    def refused_without(severity: str, message: str):
        return lambda data, name: WorkbookResult(name, "", issues=[Issue(name, "", "", severity, message, "x")])

    for severity, message in (("warning", "文件未导入：已损坏。"), ("error", "file refused"), ("error", "")):
        monkeypatch.setitem(module, "load_workbook", refused_without(severity, message))
        with pytest.raises(AssertionError):
            check_case("self-check", form, "南康区8月调度表.xlsx")
    monkeypatch.setitem(module, "load_workbook", refused_without("error", "文件未导入：已损坏。"))
    assert not check_case("self-check", form, "南康区8月调度表.xlsx").accepted

    def hang(data, name):
        time.sleep(2)

    monkeypatch.setitem(module, "CASE_SECONDS", 0.2)
    monkeypatch.setitem(module, "load_workbook", hang)
    with pytest.raises(pytest.fail.Exception, match="hung"):
        check_case("self-check", form, "南康区8月调度表.xlsx")
    monkeypatch.undo()

    real_build = build_campaign

    def drop_first_hazard(results, as_of):
        campaign = real_build(results, as_of)
        first = campaign.hazards.index[campaign.hazards["unit"] == GOOD_UNIT][0]
        campaign.hazards = campaign.hazards.drop(index=first)
        return campaign

    monkeypatch.setitem(module, "build_campaign", drop_first_hazard)
    with pytest.raises(AssertionError, match="hazards next to"):
        check_case("self-check", form, "南康区8月调度表.xlsx")
    for family in [family for family in CASES if family.startswith("self-check")]:
        del CASES[family]  # not fuzzing cases


# --- (2) bytes of the file ------------------------------------------------------------------

@st.composite
def byte_edit(draw, size: int):
    """One edit of a byte string of ``size`` bytes: (kind, position, argument)."""
    position = draw(st.integers(0, max(size - 1, 0)))
    kind = draw(st.sampled_from(("flip", "flip", "set", "truncate", "insert", "delete", "duplicate")))
    if kind == "flip":
        return ("flip", position, 1 << draw(st.integers(0, 7)))
    if kind == "set":
        return ("set", position, draw(st.integers(0, 255)))
    if kind == "insert":
        return ("insert", position, draw(st.binary(min_size=1, max_size=64)))
    if kind in ("delete", "duplicate"):
        return (kind, position, draw(st.integers(1, 256)))
    return ("truncate", position, None)


def apply_byte_edit(data: bytes, edit: tuple) -> bytes:
    kind, position, argument = edit
    position = min(position, len(data))
    if kind == "flip" and position < len(data):
        return data[:position] + bytes([data[position] ^ argument]) + data[position + 1:]
    if kind == "set" and position < len(data):
        return data[:position] + bytes([argument]) + data[position + 1:]
    if kind == "truncate":
        return data[:position]
    if kind == "insert":
        return data[:position] + argument + data[position:]
    if kind == "delete":
        return data[:position] + data[position + argument:]
    if kind == "duplicate":
        return data[:position + argument] + data[position:]
    return data


@st.composite
def byte_mutation(draw):
    path = draw(st.sampled_from((*SEEDS, XLS_SEED)))
    edits = draw(st.lists(byte_edit(len(seed_bytes(path))), min_size=1, max_size=6))
    return path, edits


def test_byte_mutations_of_real_workbooks():
    @given(byte_mutation())
    def case(mutation):
        path, edits = mutation
        data = seed_bytes(path)
        for edit in edits:
            data = apply_byte_edit(data, edit)
        check_case("bytes of the file", data, _name(path))

    _run("bytes of the file", case, 300)


def _patched(data: bytes, *edits: tuple[int, bytes]) -> bytes:
    out = bytearray(data)
    for offset, value in edits:
        out[offset:offset + len(value)] = value
    return bytes(out)


def load_in_child(files: dict[str, bytes]) -> list[tuple[bool, list[str], list[str], float]]:
    """``load_workbook`` on each file in a child process with 2 GB of address space, so that a
    file that makes the reader allocate without bound fails the test instead of exhausting the
    machine: (accepted, issue codes, messages, seconds) per file."""
    folder = ARTIFACTS / "fuzz-child"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (name, data) in enumerate(files.items()):
        paths.append(folder / f"{n}{Path(name).suffix}")
        paths[-1].write_bytes(data)
    script = (
        "import json, resource, sys, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from loaders import load_workbook\n"
        "out = []\n"
        "for path, name in json.loads(sys.argv[1]):\n"
        "    started = time.perf_counter()\n"
        "    result = load_workbook(open(path, 'rb').read(), name)\n"
        "    out.append([result.accepted, [i.code for i in result.issues], [i.message for i in result.issues],\n"
        "                time.perf_counter() - started])\n"
        "print(json.dumps(out))\n"
    )
    arguments = json.dumps([[str(path), name] for path, name in zip(paths, files)])
    child = subprocess.run([sys.executable, "-c", script, arguments], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, f"the child loading {list(files)} ended with {child.returncode}: {child.stderr[-1500:]}"
    return [tuple(row) for row in json.loads(child.stdout)]


def test_damaged_xls_containers_are_refused_within_memory_and_time():
    """What the byte fuzzing found: calamine follows an .xls container's sector chains as written.
    A sector past the end made it zero-fill memory to that offset (24 GB, killed by the kernel), a
    looping chain reads forever, a declared size is allocated first."""
    xls = seed_bytes(XLS_SEED)
    dir_start = int.from_bytes(xls[48:52], "little")
    first_fat = int.from_bytes(xls[76:80], "little")
    damaged = {
        "directory sector past the end.xls": _patched(xls, (48, (0x7FFFFFF0).to_bytes(4, "little"))),
        "directory chain looping.xls": _patched(xls, ((first_fat + 1) * 512 + dir_start * 4, dir_start.to_bytes(4, "little"))),
        "mini FAT of 16M sectors.xls": _patched(xls, (64, (0x00FFFFFF).to_bytes(4, "little"))),
        "first DIFAT sector past the end.xls": _patched(xls, (68, (0x7FFFFFF0).to_bytes(4, "little"))),
        "FAT sector past the end.xls": _patched(xls, (76, (0x7FFFFFF0).to_bytes(4, "little"))),
        "Workbook stream of 4 GB.xls": _patched(xls, (xls.index("Workbook".encode("utf-16-le")) + 120, b"\xff\xff\xff\xff")),
        "南康区8月调度表.xls": xls,
    }
    results = dict(zip(damaged, load_in_child(damaged)))
    assert results.pop("南康区8月调度表.xls")[0], "the undamaged .xls is read"
    for what, (accepted, codes, messages, seconds) in results.items():
        assert not accepted and codes == ["xls_damaged"], (what, codes, messages)
        assert "损坏" in messages[0] and seconds < 1, (what, messages, seconds)


def _with_sheet_xml(rows: bytes, namespaces: bytes = b"") -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "x"
    out = io.BytesIO()
    workbook.save(out)
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' + namespaces + b">"
           b"<sheetData>" + rows + b"</sheetData></worksheet>")
    return replace_member(out.getvalue(), "xl/worksheets/sheet1.xml", xml)


def test_cells_far_apart_are_refused_before_the_reader_makes_the_grid():
    """What the zip fuzzing found: calamine makes a sheet's grid dense from its first to its last cell
    before any limit is checked, so a value in A1 and one in XFD1048576 asked for 550 GB and the
    process was aborted. However the tags are written, the workbook is refused first; a lone far
    value is still only that sheet's finding (test_bad_files)."""
    far = b'<is><t>y</t></is></c></row>'
    near = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    files = {
        "两角.xlsx": _with_sheet_xml(near + b'<row r="1048576"><c r="XFD1048576" t="inlineStr">' + far),
        "属性顺序.xlsx": _with_sheet_xml(near + b'<row r="1048576"><c t="inlineStr" r="XFD1048576">' + far),
        "换行.xlsx": _with_sheet_xml(near + b'<row r="1048576"><c\n r="XFD1048576" t="inlineStr">' + far),
        "前缀.xlsx": _with_sheet_xml(near + b'<row r="1048576"><x:c r="XFD1048576" t="inlineStr">' + far.replace(b"</c>", b"</x:c>"),
                                   b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'),
        "无引用.xlsx": _with_sheet_xml(near + b'<row r="1048576">' + b'<c t="inlineStr"><is><t>z</t></is></c>' * 16384 + b"</row>"),
        "行号.xlsx": _with_sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c><c r="XFD1" t="inlineStr"><is><t>y</t></is></c></row>'
                                   b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>z</t></is></c></row>'),
    }
    for name, (accepted, codes, messages, seconds) in zip(files, load_in_child(files)):
        assert not accepted and codes == ["sheet_too_large"], (name, codes, messages)
        assert re.search(r"1048576行×1638[45]列", messages[0]) and seconds < 2, (name, messages, seconds)


# --- (3) one part inside the zip --------------------------------------------------------------

XML_EDITS = (
    # (pattern, replacement strategy): a regex match in the part replaced by a drawn text
    (rb' r="[A-Z]+[0-9]+"', st.sampled_from((b' r="A0"', b' r="XFD1048576"', b' r="ZZZZ1"', b' r="A99999999999"', b' r=""',
                                               b' r="B2"', b' r="AAA3"', b' r="1A"'))),
    (rb' t="[a-zA-Z]+"', st.sampled_from((b' t="n"', b' t="s"', b' t="str"', b' t="b"', b' t="e"', b' t="d"', b' t="inlineStr"', b' t="x"'))),
    (rb"<v>[^<]*</v>", st.sampled_from((b"<v></v>", b"<v>-1</v>", b"<v>99999999</v>", b"<v>1e999</v>", b"<v>NaN</v>", b"<v>abc</v>",
                                         b"<v>2023-08-30T00:00:00</v>", b"<v>3.5</v>", b"<v>1</v>", b"<v>\xe4\xb8\x8d</v>"))),
    (rb'<mergeCell ref="[^"]*"/>', st.sampled_from((b'<mergeCell ref="A1:XFD1048576"/>', b'<mergeCell ref="C5:A1"/>',
                                                     b'<mergeCell ref="A1"/>', b'<mergeCell ref="A1:A1048576"/>',
                                                     b'<mergeCell ref="B2:Z200"/>', b'<mergeCell ref="junk"/>', b""))),
    (rb'<dimension ref="[^"]*"/>', st.sampled_from((b'<dimension ref="A1:XFD1048576"/>', b'<dimension ref="Z"/>', b""))),
    (rb'name="[^"]*"', st.sampled_from((b'name=""', b'name="Sheet1"', b'name="\xe5\x8f\xb0\xe8\xb4\xa6"', b'name="&lt;x&gt;"'))),
    (rb"<si>.*?</si>", st.sampled_from((b"", b"<si><t></t></si>", b"<si><t>&#1;</t></si>", b"<si><r><t>\xe6\x97\xa0</t></r></si>", b"<si>"))),
    (rb"</[a-zA-Z:]+>", st.sampled_from((b"", b"</x>", b"</row></row>"))),
    (rb"<[a-zA-Z:]+", st.sampled_from((b"<", b"<zz", b"<row"))),
    (rb'(?:count|uniqueCount|sheetId|r:id|s)="[^"]*"', st.sampled_from((b'count="-1"', b'uniqueCount="99999999999"', b'sheetId="0"',
                                                                       b'r:id="rId99"', b's="9999"'))),
)


@lru_cache(maxsize=None)
def zip_members(path: str) -> tuple[tuple[str, bytes], ...]:
    with zipfile.ZipFile(io.BytesIO(seed_bytes(path))) as archive:
        return tuple((info.filename, archive.read(info.filename)) for info in archive.infolist())


@st.composite
def zip_mutation(draw):
    path = draw(st.sampled_from(SEEDS))
    members = zip_members(path)
    # Sheets and shared strings most often: that is where the data and the merged ranges live.
    names = [name for name, _ in members]
    weighted = names + [n for n in names if n.startswith(("xl/worksheets/", "xl/sharedStrings"))] * 3
    member = draw(st.sampled_from(weighted))
    content = dict(members)[member]
    how = draw(st.sampled_from(("xml", "xml", "xml", "bytes", "drop", "rename")))
    if how == "xml":
        edits = []
        for _ in range(draw(st.integers(1, 4))):
            pattern, replacement = draw(st.sampled_from(XML_EDITS))
            edits.append((pattern, draw(st.integers(0, 10_000)), draw(replacement)))
        return path, member, how, edits
    if how == "bytes":
        return path, member, how, draw(st.lists(byte_edit(len(content)), min_size=1, max_size=4))
    return path, member, how, draw(SHEET_NAMES).encode() if how == "rename" else None


def mutate_zip(path: str, member: str, how: str, argument) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in zip_members(path):
            if name == member:
                if how == "drop":
                    continue
                if how == "rename":
                    name = "xl/" + argument.decode()
                elif how == "bytes":
                    for edit in argument:
                        content = apply_byte_edit(content, edit)
                else:
                    for pattern, which, replacement in argument:
                        matches = list(re.finditer(pattern, content, re.S))
                        if matches:
                            m = matches[which % len(matches)]
                            content = content[:m.start()] + replacement + content[m.end():]
            archive.writestr(name, content)
    return out.getvalue()


def test_corrupted_parts_inside_real_xlsx():
    @given(zip_mutation())
    def case(mutation):
        path, member, how, argument = mutation
        check_case("one part inside the zip", mutate_zip(path, member, how, argument), _name(path))

    _run("one part inside the zip", case, 150)


# --- (4) random bytes -------------------------------------------------------------------------

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RANDOM_NAMES = st.sampled_from(("章贡区8月台账.xlsx", "附件3.xls", "调度表.et", "新建 Microsoft Excel 工作表.xlsx", "报送材料.xlsm"))


@st.composite
def random_file(draw):
    head = draw(st.sampled_from((b"", b"PK\x03\x04", OLE2_MAGIC, b"PK\x05\x06", b"<html>", b"\xef\xbb\xbf")))
    body = draw(st.binary(max_size=4096))
    if draw(st.booleans()) and head == OLE2_MAGIC:
        # A real legacy header with the rest random: calamine's BIFF reader gets further.
        body = seed_bytes(XLS_SEED)[8:8 + draw(st.integers(0, 2048))] + body
    return head + body, draw(RANDOM_NAMES)


@st.composite
def random_zip(draw):
    """A zip that claims to be a workbook (xl/workbook.xml present) with random or foreign parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", draw(st.one_of(st.binary(max_size=512), st.sampled_from(
            [content for name, content in zip_members(SEEDS[0]) if name == "xl/workbook.xml"]))))
        for name in draw(st.lists(st.sampled_from(("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
                                                   "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml")),
                                  unique=True, max_size=6)):
            real = dict(zip_members(SEEDS[0])).get(name, b"")
            archive.writestr(name, draw(st.one_of(st.binary(max_size=512), st.just(real))))
    return out.getvalue(), draw(RANDOM_NAMES)


def test_random_bytes_named_as_workbooks():
    @given(st.one_of(random_file(), random_zip()))
    def case(file):
        data, name = file
        check_case("random bytes", data, name)

    _run("random bytes", case, 300)
