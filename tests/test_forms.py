"""附件3/附件4 dispatch forms and consolidated 汇总表 sheets, written in the real layouts."""

from __future__ import annotations

import pytest
from tests.xlsx_builders import (
    assert_rows_accounted,
    form_cells,
    form_values,
    hazard,
    issues,
    load,
    new_workbook,
    write_unrelated_table,
)

from sample_data.writers import PAIR_STYLES, write_form, write_ledger, write_wide_form

PERIOD = "（2023年8月）"


def _form(values, *, form=3, unit="章贡区安委会（盖章）", file_name="调度表.xlsx", **options):
    wb, (ws,) = new_workbook("调度表")
    cells = write_form(ws, values, form=form, unit_label=unit, title_period_text=options.pop("period", PERIOD), **options)
    return ws, cells, load(wb, file_name)


@pytest.mark.parametrize("wrap_labels", [True, False])
def test_county_form_value_spellings(wrap_labels):
    values = {
        "enterprises": "１２", "sampled_enterprises": "12家", "self_found": " 12 ", "self_rectified": "—",
        "dept_found": "无", "dept_rectified": "/", "supervised": None, "supervised_rectified": "0",
        "checked_enterprises": 30, "chk_head_no_study": 2.0, "media_column": "是",
    }
    ws, cells, result = _form(values, wrap_labels=wrap_labels)
    assert ("\n" in ws["E4"].value) is wrap_labels  # the long labels are printed on two lines
    assert ws.merged_cells.ranges and "A3:A6" in {str(r) for r in ws.merged_cells.ranges}  # 总体\n情况
    (sub,) = result.submissions
    assert (sub.kind, sub.unit, sub.unit_type, sub.period, sub.layout) == ("county_form", "章贡区", "county", "2023-08", "form")
    got = form_values(result)
    assert got == {"enterprises": 12, "sampled_enterprises": 12, "self_found": 12, "supervised_rectified": 0,
                   "checked_enterprises": 30, "chk_head_no_study": 2, "media_column": True}
    for absent in ("self_rectified", "dept_found", "dept_rectified", "supervised"):
        assert absent not in got  # not reported is not zero
    assert form_cells(result)["supervised_rectified"] == cells["supervised_rectified"] == "F6"
    assert [i.severity for i in result.issues] == ["info"]  # only the 注 line
    not_reported_rows = (5, *range(7, 20))  # label rows whose values are all blank/无// on purpose
    assert_rows_accounted(ws, result, first_row=3, exempt=not_reported_rows)


def test_garbage_value_is_an_error_at_its_exact_cell_and_the_rest_is_read():
    ws, cells, result = _form({"self_found": 41, "checked_enterprises": "很多家", "penalties": 3, "fines_wan": 1.5,
                               "media_column": "不清楚"})
    assert cells["checked_enterprises"] == "C7"
    errors = issues(result, "bad_value")
    assert [(e.cell, e.severity) for e in errors] == [("C7", "error"), ("F18", "error")]
    assert "很多家" in errors[0].message and "部门抽查检查的企业总数" in errors[0].message
    assert form_values(result) == {"self_found": 41, "penalties": 3, "fines_wan": 1.5}


@pytest.mark.parametrize("style", PAIR_STYLES)
def test_two_values_for_one_label(style):
    values = {"penalties": 12, "fines_wan": 35.6, "typical_cases": 3, "dangerous_op_cases": 1,
              "rewards_wan": 2.5, "anonymous_rewards_wan": 0.5}
    ws, cells, result = _form(values, pair_style=style)
    if style == "one_cell_slash":
        assert ws["C12"].value == "12/35.6"
    elif style == "one_cell_units":
        assert ws["C12"].value == "12次 35.6万元"
    else:
        assert (ws["C12"].value, ws["D12"].value) == (12, 35.6)
    assert form_values(result) == values
    assert form_cells(result) == {key: cells[key] for key in values}


def test_pair_in_two_cells_with_one_side_not_reported():
    _, _, result = _form({"penalties": "—", "fines_wan": 8, "rewards_wan": 2, "anonymous_rewards_wan": "无"},
                         pair_style="two_cells")
    assert form_values(result) == {"fines_wan": 8, "rewards_wan": 2}


def test_pair_at_the_right_edge_left_blank_does_not_break_the_workbook():
    # typical_cases sits in E/F/G: with two blank cells at the row's end nothing is stored after the label.
    _, _, result = _form({"self_found": 5}, pair_style="two_cells")
    assert form_values(result) == {"self_found": 5}


def test_department_form_with_its_own_wording():
    values = {"enterprises": 210, "checked_enterprises": 35, "dept_found": 14, "dept_rectified": 9,
              "supervised": 2, "assist_areas": 4, "enforcer_training": 120, "lectures": 6}
    ws, cells, result = _form(values, form=4, unit="赣州市住建局（盖章）", filed_on_text="2023 年 9 月 20 日")
    assert ws["B4"].value.startswith("部门排查发现的")
    (sub,) = result.submissions
    assert (sub.kind, sub.unit, sub.unit_raw, sub.unit_type, sub.period) == (
        "department_form", "市住建局", "赣州市住建局（盖章）", "department", "2023-08")
    assert form_values(result) == values
    assert form_cells(result)["enforcer_training"] == cells["enforcer_training"]


def test_form_of_an_unknown_unit_is_read_by_its_wording():
    _, _, result = _form({"self_found": 3, "study_sessions": 1}, unit="桃源工业园管委办")
    (sub,) = result.submissions
    assert (sub.kind, sub.unit) == ("county_form", "桃源工业园管委办")
    (warning,) = issues(result, "unknown_unit")
    assert warning.cell == "A2" and "桃源工业园管委办" in warning.message


WIDE_ROWS = [
    ("章贡区", {"self_found": 41, "penalties": 12, "fines_wan": 35.6, "typical_cases": 2, "dangerous_op_cases": 1,
               "media_column": "是"}),
    ("经开区", {"self_found": "７", "dept_found": "—", "penalties": 0}),
    ("龙南县", {"self_found": "9个", "rewards_wan": 1.2, "anonymous_rewards_wan": 0.2}),
]


@pytest.mark.parametrize("section_row", [True, False])
@pytest.mark.parametrize("pair_columns", ["split", "one_cell"])
def test_wide_layout_one_submission_per_unit_row(section_row, pair_columns):
    wb, (ws,) = new_workbook("汇总表")
    cells = write_wide_form(ws, WIDE_ROWS, form=3, title="各县（市、区）重大事故隐患专项排查整治进展情况调度汇总表（2023年8月）",
                            section_row=section_row, pair_columns=pair_columns, total_row=True)
    result = load(wb, "汇总.xlsx")
    assert [(s.unit, s.kind, s.layout, s.period) for s in result.submissions] == [
        ("章贡区", "county_form", "wide", "2023-08"), ("赣州经开区", "county_form", "wide", "2023-08"),
        ("龙南市", "county_form", "wide", "2023-08")]
    assert form_values(result, "章贡区") == {"self_found": 41, "penalties": 12, "fines_wan": 35.6, "typical_cases": 2,
                                            "dangerous_op_cases": 1, "media_column": True}
    assert form_values(result, "赣州经开区") == {"self_found": 7, "penalties": 0}
    assert form_values(result, "龙南市") == {"self_found": 9, "rewards_wan": 1.2, "anonymous_rewards_wan": 0.2}
    assert form_cells(result, "章贡区")["fines_wan"] == cells[(0, "fines_wan")]
    first_data_row = int(cells[(0, "self_found")][1:])
    total_row = first_data_row + len(WIDE_ROWS)
    assert [(i.code, i.cell) for i in result.issues] == [("total_row", f"A{total_row}")]
    assert_rows_accounted(ws, result, first_row=first_data_row)


def test_wide_layout_one_row_header_with_separate_pair_columns_and_a_bad_cell():
    wb, (ws,) = new_workbook("Sheet1")
    ws.append(["2023年8月市直部门调度汇总表"])
    ws.append(["部门", "部门排查发现的重大隐患（个）", "行政处罚（次）", "行政处罚（万元）", "执法人员专题培训（人次）",
               "帮扶指导重点县（个次）", "市安委会成员单位负责同志到企业宣讲（次）"])
    ws.append(["市应急局", 14, 3, "2.5万元", 60, "/", 2])
    ws.append(["消防支队", "十二", 1, 0.3, None, 1, 0])
    ws.append(["合计", None, 4, 2.8, 60, 1, 2])
    result = load(wb, "depts.xlsx")
    assert [(s.unit, s.kind) for s in result.submissions] == [("市应急管理局", "department_form"),
                                                              ("市消防救援支队", "department_form")]
    assert form_values(result, "市应急管理局") == {"dept_found": 14, "penalties": 3, "fines_wan": 2.5,
                                                  "enforcer_training": 60, "lectures": 2}
    assert form_values(result, "市消防救援支队") == {"penalties": 1, "fines_wan": 0.3, "assist_areas": 1, "lectures": 0}
    (error,) = issues(result, "bad_value")
    assert (error.cell, error.severity) == ("B4", "error") and "十二" in error.message
    assert_rows_accounted(ws, result, first_row=3)


def test_ledger_and_form_in_one_file_with_an_empty_sheet_and_an_unrelated_one():
    wb, (ledger_ws, form_ws, empty_ws, other_ws) = new_workbook("台账", "调度表", "Sheet2", "通讯录")
    written = write_ledger(ledger_ws, [hazard(unit="南康区"), hazard(unit="南康区", enterprise="乙")], unit_label="南康区",
                           title="2023年8月重大事故隐患排查整治台账")
    write_form(form_ws, {"self_found": 2, "penalties": 1, "fines_wan": 0.5}, unit_label="南康区安委办", title_period_text=PERIOD)
    write_unrelated_table(other_ws)
    result = load(wb, "南康区8月报送.xlsx")
    assert [(s.kind, s.unit, s.source_sheet) for s in result.submissions] == [
        ("ledger", "南康区", "台账"), ("county_form", "南康区", "调度表")]
    assert result.sheets_read == 4
    (unknown,) = issues(result, "unknown_template")
    # Beside imported sheets the unrelated one is a warning naming it (an error when it is all there is).
    assert (unknown.sheet, unknown.severity) == ("通讯录", "warning") and "通讯录" in unknown.message
    assert not issues(result, sheet="Sheet2")
    assert_rows_accounted(ledger_ws, result, first_row=written[0])
    assert_rows_accounted(form_ws, result, first_row=3, exempt=tuple(range(3, 20)))


def test_only_unrelated_sheets_reject_the_file():
    wb, (ws,) = new_workbook("通讯录")
    write_unrelated_table(ws)
    result = load(wb, "调度表.xlsx")
    assert not result.accepted
    assert [(i.code, i.severity) for i in result.issues] == [("no_data", "error"), ("unknown_template", "error")]


def test_template_is_recognised_from_content_not_from_a_misleading_file_name():
    _, _, result = _form({"self_found": 4, "dept_found": 6}, file_name="隐患台账.xlsx")
    assert [s.kind for s in result.submissions] == ["county_form"]
    assert form_values(result) == {"self_found": 4, "dept_found": 6}
    wb, (ws,) = new_workbook("Sheet1")
    write_ledger(ws, [hazard()], unit_label="章贡区", title=TITLE_LEDGER)
    assert [s.kind for s in load(wb, "调度表（附件3）.xlsx").submissions] == ["ledger"]


TITLE_LEDGER = "2023年8月重大事故隐患排查整治台账"


@pytest.mark.parametrize(("raw", "value", "note"), [
    ("3（其中重大1）", 3, "其中重大1"),
    ("5(含复查2)", 5, "含复查2"),
])
def test_number_with_a_bracketed_note_is_read_and_the_note_kept(raw, value, note):
    ws, cells, result = _form({"self_found": raw, "dept_found": 7})
    assert form_values(result) == {"self_found": value, "dept_found": 7}
    (info,) = issues(result, "value_note")
    assert (info.severity, info.cell) == ("info", cells["self_found"])
    assert raw in info.message and note in info.message and "企业自查发现的重大事故隐患" in info.message
    assert not issues(result, "bad_value")


def test_wide_layout_value_with_a_note():
    wb, (ws,) = new_workbook("汇总表")
    cells = write_wide_form(ws, [("章贡区", {"self_found": "41（其中重大1）", "penalties": 2})], form=3,
                            title="各县（市、区）调度汇总表（2023年8月）")
    result = load(wb, "汇总.xlsx")
    assert form_values(result, "章贡区") == {"self_found": 41, "penalties": 2}
    (info,) = issues(result, "value_note")
    assert info.cell == cells[(0, "self_found")] and "其中重大1" in info.message


def _wide_with_a_duplicated_column(ws):
    """A 汇总表 where the clerk pasted the 企业自查 column twice (B and E)."""
    ws.append(["各县（市、区）重大事故隐患专项排查整治进展情况调度汇总表（2023年8月）"])
    ws.append(["县市区", "企业自查发现的重大事故隐患（个）", "部门检查发现的重大事故隐患（个）", "行政处罚（次）",
               "企业自查发现的重大事故\n隐患（个）", "重点地区帮扶指导（个次）"])
    ws.append(["章贡区", 41, 3, 2, 41, 1])  # the same value twice
    ws.append(["南康区", 12, 5, 0, 15, 2])  # two different values
    ws.append(["赣县区", "—", 4, 1, 9, 0])  # the first left blank


def test_wide_layout_with_an_indicator_column_twice_keeps_the_first_and_warns():
    wb, (ws,) = new_workbook("汇总表")
    _wide_with_a_duplicated_column(ws)
    result = load(wb, "汇总.xlsx")
    for sub in result.submissions:
        assert sub.records["key"].is_unique, (sub.unit, sub.records)
    assert form_values(result, "章贡区") == {"self_found": 41, "dept_found": 3, "penalties": 2, "assist_areas": 1}
    assert form_values(result, "南康区")["self_found"] == 12
    assert form_cells(result, "南康区")["self_found"] == "B4"
    assert form_values(result, "赣县区")["self_found"] == 9  # the only value given
    header, row = issues(result, "duplicate_label")
    assert (header.severity, header.cell) == ("warning", "E2") and "B2" in header.message
    assert (row.severity, row.cell) == ("warning", "E4") and "B4" in row.message and "15" in row.message
    assert_rows_accounted(ws, result, first_row=3)


def test_wide_layout_with_a_duplicated_column_goes_through_ingest_and_summary(tmp_path, capsys):
    # A duplicated column of a part (已完成整治) whose value exceeds its whole: the finding on it
    # used to look the cell up by key and get two rows, and ingest died (unhashable Series).
    import json

    from dashboards.cli import main

    for month, (found, rectified) in ((7, (10, 12)), (8, (20, 25))):
        wb, (ws,) = new_workbook("汇总表")
        ws.append([f"各县（市、区）重大事故隐患专项排查整治进展情况调度汇总表（2023年{month}月）"])
        ws.append(["县市区", "企业自查发现的重大事故隐患（个）", "企业自查发现重大事故隐患中已完成整治的（个）",
                   "部门检查发现的重大事故隐患（个）", "企业自查发现重大事故隐患中已完成整治的（个）", "行政处罚（次）"])
        ws.append(["章贡区", found, rectified, 3, rectified, 2])
        ws.append(["南康区", 5, 4, 1, 4, 0])
        wb.save(tmp_path / f"汇总{month}月.xlsx")
    assert main(["ingest", "--store", str(tmp_path / "store"), str(tmp_path)]) in (0, None)
    capsys.readouterr()
    assert main(["summary", str(tmp_path), "--as-of", "2023-10-01", "--json"]) in (0, None)
    summary = json.loads(capsys.readouterr().out)
    assert summary["indicators"]["章贡区"]["2023-07"] == {"self_found": 10, "self_rectified": 12, "dept_found": 3, "penalties": 2}
    assert summary["indicators"]["章贡区"]["2023-08"]["self_rectified"] == 25
    assert summary["indicators"]["南康区"]["2023-08"] == {"self_found": 5, "self_rectified": 4, "dept_found": 1, "penalties": 0}
    exceeds = [i for i in summary["issues"] if "大于" in i["message"]]
    assert {(i["file"], i["cell"]) for i in exceeds} == {("汇总7月.xlsx", "C3"), ("汇总8月.xlsx", "C3")}
    duplicates = [i for i in summary["issues"] if "出现两次" in i["message"]]
    assert {(i["file"], i["cell"], i["severity"]) for i in duplicates} == {("汇总7月.xlsx", "E2", "warning"),
                                                                          ("汇总8月.xlsx", "E2", "warning")}
