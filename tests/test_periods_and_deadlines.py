"""Which month a submission covers, when it was filed, whether it is a resend, and the
deadlines and noted values inside it — read from .xlsx files written the way clerks write them.

Reference: shared/spec/data-contract.md, "Periods, resends and corrections", the 整改期限
paragraph of 附件2 and the value rules of 附件3/附件4.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.xlsx_builders import form_values, hazard, issues, load, new_workbook, to_bytes

from loaders.context import explicit_period, filing_date_in_text, read_context, resend_flags
from loaders.workbook import open_workbook, read_grids
from sample_data.writers import COUNTY_FORM_TITLE, LEDGER_TITLE, write_form, write_ledger

VALUES = {"self_found": 7, "penalties": 2, "fines_wan": 1.5}


# --- pure functions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2023年8月", "2023-08"),
        ("章贡区8月调度表", "2023-08"),
        ("章贡区8月份调度表", "2023-08"),
        ("2023-08", "2023-08"),
        ("2023.8", "2023-08"),
        ("章贡区台账2023.8.xlsx", "2023-08"),
        ("2023-8调度表", "2023-08"),
        ("2023_08", "2023-08"),
        ("202308台账", "2023-08"),
        ("1-8月", "2023-08"),
        ("2023年1-8月", "2023-08"),
        ("5月-8月", "2023-08"),
        # A month without a year is in the campaign's year, even January–April (held aside later).
        ("1月", "2023-01"),
        ("兴国县调度表（3月）", "2023-03"),
        ("2024年1月", "2024-01"),
        # A month named beside a full date: the month wins, the date is only a filing date.
        ("2023年8月调度表（2023.9.20）", "2023-08"),
        ("8月台账（2023年9月20日报）", "2023-08"),
    ],
)
def test_a_named_month_is_the_period(text, period):
    assert explicit_period(text) == period


@pytest.mark.parametrize(
    "text",
    [
        "章贡区台账（2023.09.20）.xlsx",  # was 2023-09: the numeric year-month inside the date
        "章贡区台账（2023.9.20）.xlsx",  # was 2023-08: the date read as a filing date
        "章贡区台账(2023-09-20).xlsx",
        "2023-9-20",
        "2023_9_20",
        "2023/9/20",
        "2023年9月20日",
        "截至2023年8月31日",
        "20230920台账",
        "2023年8月1日至8月31日",
        "调度表",
        "8月30日",  # a month and day without a year: neither a period nor a filing date
    ],
)
def test_a_full_date_is_never_a_period_by_itself(text):
    assert explicit_period(text) is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("章贡区台账（2023.09.20）.xlsx", dt.date(2023, 9, 20)),
        ("章贡区台账（2023.9.20）.xlsx", dt.date(2023, 9, 20)),
        ("２０２３年９月２０日", dt.date(2023, 9, 20)),
        ("截至2023年8月31日重大事故隐患排查整治台账", dt.date(2023, 8, 31)),
        ("20230920台账", dt.date(2023, 9, 20)),
        # A range: its end is the date the figures run to.
        ("（2023.8.1-2023.8.31）", dt.date(2023, 8, 31)),
        ("（2023年8月1日至8月31日）", dt.date(2023, 8, 31)),
        ("2023年1-8月", None),  # a month range, not 2023-01-08
        ("2023.2.30", None),  # no such day
        ("2023年8月", None),
        ("8月30日", None),
    ],
)
def test_the_filing_date_written_in_a_title_or_file_name(text, date):
    assert filing_date_in_text(text) == date


@pytest.mark.parametrize(
    ("texts", "flags"),
    [
        (("重大事故隐患排查整治台账", "章贡区8月台账.xlsx"), (False, False)),
        ((COUNTY_FORM_TITLE, "章贡区8月调度表.xlsx"), (False, False)),
        (("重大事故隐患排查整治台账（更正）", "章贡区8月台账.xlsx"), (True, False)),
        (("", "章贡区8月台账（修改后）.xlsx"), (True, False)),
        (("", "章贡区8月调度表修订版.xlsx"), (True, False)),
        (("", "章贡区12月台账（补报）.xlsx"), (False, True)),
        (("章贡区12月重大事故隐患补充台账", "x.xlsx"), (False, True)),
        (("更正补报", ""), (True, True)),
        (("", "章 贡 区 更 正 .xlsx"), (True, False)),
    ],
)
def test_resend_flags_from_the_title_or_the_file_name(texts, flags):
    assert resend_flags(*texts) == flags


# --- periods and filing dates from real workbooks --------------------------------------


def _form_workbook(*, unit="兴国县", period_text=None, filed=None, title=None):
    wb, (ws,) = new_workbook("Sheet1")
    write_form(ws, VALUES, unit_label=unit, title_period_text=period_text, filed_on_text=filed)
    if title is not None:
        ws["A1"] = title
    return wb


def _context(wb, file_name: str, header_text: str):
    """read_context of the first sheet, with the table starting at the first row holding
    ``header_text`` (the 附件2 header or the form's first label)."""
    grids, _ = read_grids(open_workbook(to_bytes(wb), file_name), file_name)
    grid = grids[0]
    header_row = next(r for r in range(grid.height) if any(header_text in grid.text(r, c) for c in range(grid.width)))
    return read_context(grid, header_row, file_name)


def _form_context(wb, file_name: str):
    return _context(wb, file_name, "辖区企业")


@pytest.mark.parametrize("file_name", ["兴国县调度表（2023.09.20）.xlsx", "兴国县调度表（2023.9.20）.xlsx"])
def test_a_full_date_in_the_file_name_is_the_filing_date_both_ways_of_writing_it(file_name):
    wb = _form_workbook()
    (sub,) = load(wb, file_name).submissions
    assert (sub.period, sub.reported_on) == ("2023-08", dt.date(2023, 9, 20))
    ctx = _form_context(wb, file_name)
    assert (ctx.reported_on_source, ctx.period_source) == ("文件名", "文件名日期")


def test_a_month_named_in_the_file_name_wins_over_a_date_beside_it():
    wb = _form_workbook()
    (sub,) = load(wb, "兴国县2023年9月调度表（2023.10.20）.xlsx").submissions
    assert (sub.period, sub.reported_on) == ("2023-09", dt.date(2023, 10, 20))


@pytest.mark.parametrize(("file_name", "period"), [
    ("兴国县调度表2023.8.xlsx", "2023-08"),
    ("兴国县调度表2023-8.xlsx", "2023-08"),
    ("兴国县1月调度表.xlsx", "2023-01"),  # was 2024-01: a month without a year is the campaign's year
])
def test_year_month_spellings_in_the_file_name(file_name, period):
    (sub,) = load(_form_workbook(), file_name).submissions
    assert sub.period == period


def test_an_as_of_date_in_the_title_is_a_filing_date_that_decides_the_period():
    wb = _form_workbook(title="兴国县重大事故隐患专项排查整治进展情况调度表（截至2023年8月31日）")
    (sub,) = load(wb, "调度表.xlsx").submissions
    assert (sub.period, sub.reported_on) == ("2023-08", dt.date(2023, 8, 31))
    ctx = _form_context(wb, "调度表.xlsx")
    assert (ctx.reported_on_source, ctx.period_source) == ("标题", "标题日期")


def test_the_time_line_is_the_filing_date_before_any_date_in_the_title_or_file_name():
    wb = _form_workbook(title="兴国县调度表（2023.9.1）", filed="2023年9月20日")
    (sub,) = load(wb, "兴国县调度表（2023.9.2）.xlsx").submissions
    assert (sub.period, sub.reported_on) == ("2023-08", dt.date(2023, 9, 20))
    ctx = _form_context(wb, "兴国县调度表（2023.9.2）.xlsx")
    assert (ctx.reported_on_source, ctx.period_source) == ("时间栏", "时间栏")


def test_a_title_date_comes_before_a_file_name_date():
    wb = _form_workbook(title="兴国县调度表（2023年8月28日）")
    (sub,) = load(wb, "兴国县调度表（2023.9.20）.xlsx").submissions
    assert (sub.period, sub.reported_on) == ("2023-08", dt.date(2023, 8, 28))


def test_a_month_in_the_title_keeps_the_title_as_period_source_and_the_time_line_as_filing_date():
    wb = _form_workbook(period_text="（2023年8月）", filed="2023 年 9 月 20 日")
    ctx = _form_context(wb, "兴国县.xlsx")
    assert (ctx.period, ctx.period_source) == ("2023-08", "标题")
    assert (ctx.reported_on, ctx.reported_on_source) == (dt.date(2023, 9, 20), "时间栏")


def test_no_date_and_no_month_leaves_the_period_unknown_and_says_so():
    wb = _form_workbook()  # template 时间：2023 年 　月 　日 left blank
    result = load(wb, "兴国县调度表.xlsx")
    assert not result.submissions
    ctx = _form_context(wb, "兴国县调度表.xlsx")
    assert (ctx.period, ctx.reported_on, ctx.reported_on_source, ctx.period_source) == (None, None, "", "")
    assert [i.severity for i in issues(result, "period_unknown")] == ["error"]


@pytest.mark.parametrize(("filed", "reported_on"), [
    ("2023.9.20", dt.date(2023, 9, 20)),
    ("2023-09-20", dt.date(2023, 9, 20)),
    ("2023年9.20", dt.date(2023, 9, 20)),  # mixed separators: only on the 时间 line, which holds a date
    ("2023 年 9 月 20 日", dt.date(2023, 9, 20)),
])
def test_time_line_spellings(filed, reported_on):
    ctx = _form_context(_form_workbook(filed=filed), "兴国县调度表.xlsx")
    assert (ctx.reported_on, ctx.reported_on_source, ctx.period) == (reported_on, "时间栏", "2023-08")


# --- resend flags from real workbooks ---------------------------------------------------


def _ledger_workbook(title: str = LEDGER_TITLE, rows=None, *, unit_label="章贡区"):
    wb, (ws,) = new_workbook("Sheet1")
    write_ledger(ws, rows or [hazard()], unit_label=unit_label, title=title)
    return wb, ws


def _ledger_context(wb, file_name: str):
    return _context(wb, file_name, "重大隐患描述")


@pytest.mark.parametrize(("title", "file_name", "correction", "supplement"), [
    ("2023年12月重大事故隐患排查整治台账", "章贡区12月台账.xlsx", False, False),
    ("2023年12月重大事故隐患排查整治台账（更正）", "章贡区12月台账.xlsx", True, False),
    ("2023年12月重大事故隐患排查整治台账", "章贡区12月台账（修订）.xlsx", True, False),
    ("2023年12月重大事故隐患排查整治台账", "章贡区12月台账-修改.xlsx", True, False),
    ("2023年12月重大事故隐患排查整治台账（补报）", "章贡区12月台账.xlsx", False, True),
    ("2023年12月重大事故隐患排查整治台账", "章贡区12月补充台账.xlsx", False, True),
])
def test_ledger_resend_flags(title, file_name, correction, supplement):
    wb, _ = _ledger_workbook(title)
    ctx = _ledger_context(wb, file_name)
    assert (ctx.period, ctx.correction, ctx.supplement) == ("2023-12", correction, supplement)


def test_flag_words_below_the_title_do_not_make_a_resend():
    # "补充" in a hazard row and "修改" in the note under the table are not the title.
    wb, ws = _ledger_workbook("2023年12月重大事故隐患排查整治台账",
                              [hazard(measures="补充安装报警装置，修改应急预案", progress="整改中")])
    ws.append(["注：请勿修改表格格式；更正请在文件名中注明。"])
    ctx = _ledger_context(wb, "章贡区12月台账.xlsx")
    assert (ctx.correction, ctx.supplement) == (False, False)


def test_a_note_line_above_the_table_is_not_a_title():
    # Old code took "5月份" from the note as the period (2023-05) over the file name's 8月.
    wb, (ws,) = new_workbook("Sheet1")
    write_ledger(ws, [hazard()], title="注：本表如需更正请补报，从5月份开始上报", filler_line=False)
    ctx = _ledger_context(wb, "章贡区8月台账.xlsx")
    assert (ctx.period, ctx.period_source, ctx.correction, ctx.supplement) == ("2023-08", "文件名", False, False)
    (sub,) = load(wb, "章贡区8月台账.xlsx").submissions
    assert (sub.unit, sub.period) == ("章贡区", "2023-08")


def test_form_resend_flag_from_the_file_name():
    wb = _form_workbook(period_text="（2023年8月）")
    assert _form_context(wb, "兴国县8月调度表（更正）.xlsx").correction is True
    assert _form_context(wb, "兴国县8月调度表.xlsx").correction is False


# --- deadlines in real ledgers --------------------------------------------------------


def _ledger_deadlines(title: str, deadlines: list[object]) -> dict[str, object]:
    rows = [hazard(enterprise=f"企业{i}", description=f"隐患{i}", deadline=d) for i, d in enumerate(deadlines)]
    wb, _ = _ledger_workbook(title, rows)
    result = load(wb, "章贡区台账.xlsx")
    (sub,) = result.submissions
    frame = sub.records
    got = {raw: (None if value is None or value != value else value)
           for raw, value in zip(frame["deadline_raw"], frame["deadline"])}
    got["_issues"] = [(i.cell, i.code) for i in issues(result, "bad_deadline")]
    return got


def test_a_december_ledger_reads_next_year_deadlines_as_next_year():
    got = _ledger_deadlines("2023年12月重大事故隐患排查整治台账", ["2月底前", "1月15日前", "1.15", "12月31日", "2023年11月30日"])
    assert got == {
        "2月底前": dt.date(2024, 2, 29),
        "1月15日前": dt.date(2024, 1, 15),
        "1.15": dt.date(2024, 1, 15),
        "12月31日": dt.date(2023, 12, 31),
        "2023年11月30日": dt.date(2023, 11, 30),
        "_issues": [],
    }


def test_an_august_ledger_reads_the_new_spellings():
    got = _ledger_deadlines("2023年8月重大事故隐患排查整治台账",
                            ["8.30", "8月30日", "9月中旬", "9月上旬", "9月下旬", "45168", "2023-8-30前", "长期"])
    assert got == {
        "8.30": dt.date(2023, 8, 30),
        "8月30日": dt.date(2023, 8, 30),
        "9月中旬": dt.date(2023, 9, 20),
        "9月上旬": dt.date(2023, 9, 10),
        "9月下旬": dt.date(2023, 9, 30),
        "45168": dt.date(2023, 8, 30),
        "2023-8-30前": dt.date(2023, 8, 30),
        "长期": None,
        "_issues": [],
    }


def test_a_number_typed_as_month_dot_day_stays_an_error_on_its_cell():
    got = _ledger_deadlines("2023年8月重大事故隐患排查整治台账", [8.3, "2023年9月30日"])
    assert got["8.3"] is None
    assert got["2023年9月30日"] == dt.date(2023, 9, 30)
    assert got["_issues"] == [("H4", "bad_deadline")]


# --- form values with a bracketed note ---------------------------------------------------


def test_form_values_with_a_bracketed_note_are_read_as_the_leading_number():
    wb, (ws,) = new_workbook("Sheet1")
    write_form(ws, {"self_found": "3（其中重大1）", "dept_found": "5(含复查2)", "enterprises": "3 (含1家复查)",
                    "self_rectified": "12（其中3）"},
               unit_label="兴国县", title_period_text="（2023年8月）")
    result = load(wb, "兴国县.xlsx")
    values = form_values(result)
    assert (values["self_found"], values["dept_found"], values["enterprises"]) == (3, 5, 3)
    # A bare number in brackets in a one-value cell is still two numbers where one belongs.
    bad = [i for i in issues(result, "bad_value") if "两个" in i.message]
    assert len(bad) == 1 and "企业自查发现重大事故隐患中已完成整治的" in bad[0].message
