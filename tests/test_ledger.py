"""附件2 hazard ledgers written with openpyxl in the real layouts, read back through load_workbook."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl.styles import Alignment
from tests.xlsx_builders import assert_rows_accounted, hazard, issues, load, new_workbook, records

from loaders import build_campaign
from sample_data.writers import write_ledger

TITLE = "2023年8月重大事故隐患排查整治台账"


def _ledger(rows, *, file_name="龙南县台账.xlsx", sheet="台账", **options):
    wb, (ws,) = new_workbook(sheet)
    written = write_ledger(ws, rows, title=options.pop("title", TITLE), **options)
    return ws, written, load(wb, file_name)


@pytest.mark.parametrize("header_rows", [1, 2])
@pytest.mark.parametrize("wrap_headers", [False, True])
def test_layout_quirks_title_filler_headers_merged_unit_blank_total_note(header_rows, wrap_headers):
    rows = [
        hazard(unit="龙南县", enterprise="甲公司", deadline="2023.8.30", progress="已整改"),
        hazard(unit="龙南县", enterprise="乙公司", deadline="2023年9月15日", progress="整改中"),
        hazard(unit="龙南县", enterprise="丙公司", deadline="长期", progress="未整改"),
        hazard(unit="龙南县", enterprise="丁公司", deadline="8月底前", progress="已完成60%"),
    ]
    ws, written, result = _ledger(rows, unit_label="龙南县安委会", header_rows=header_rows, wrap_headers=wrap_headers,
                                  merge_unit_column=True, blank_rows=[3], total_row=True, note_row=True)
    if wrap_headers:
        assert "\n" in ws.cell(written[0] - header_rows, 1).value  # "序\n号" really wrapped
        assert ws.cell(written[0] - header_rows, 1).alignment.wrap_text
    assert len(ws.merged_cells.ranges) >= 3  # title, filler line, unit cells (and header cells)

    (sub,) = result.submissions
    assert (sub.kind, sub.unit, sub.unit_raw, sub.unit_type, sub.period) == ("ledger", "龙南市", "龙南县", "county", "2023-08")
    frame = sub.records
    assert list(frame["enterprise"]) == ["甲公司", "乙公司", "丙公司", "丁公司"]
    assert list(frame["source_row"]) == written  # Excel row numbers, the blank row skipped
    assert list(frame["deadline"]) == [dt.date(2023, 8, 30), dt.date(2023, 9, 15), None, dt.date(2023, 8, 31)]
    assert list(frame["status"]) == ["rectified", "in_progress", "not_started", "in_progress"]
    assert list(frame["unit"]) == ["龙南市"] * 4  # the merged unit cell applies to every row it covers

    total_row, note_row = written[-1] + 1, written[-1] + 2
    assert [(i.cell, i.severity) for i in issues(result, "total_row")] == [(f"A{total_row}", "info")]
    assert [(i.cell, i.severity) for i in issues(result, "note_row")] == [(f"A{note_row}", "info")]
    assert all(i.severity == "info" for i in result.issues), result.issues
    assert_rows_accounted(ws, result, first_row=written[0])


def test_two_row_header_keeps_deadline_and_progress_apart():
    # "整改情况" merged over 整改期限/整改进展: a mix-up would put a date in the status or vice versa.
    ws, written, result = _ledger([hazard(deadline="2023/10/31", progress="已销号")], header_rows=2)
    assert ws.cell(written[0] - 2, 8).value == "整改情况"
    (row,) = result.submissions[0].records.to_dict("records")
    assert (row["deadline"], row["deadline_raw"], row["progress_raw"], row["status"]) == (
        dt.date(2023, 10, 31), "2023/10/31", "已销号", "rectified")
    assert row["measures"] == "安装报警装置" and row["supervision_level"] == "none"


@pytest.mark.parametrize(("raw", "canonical", "unit_type"), [
    ("龙南县", "龙南市", "county"),
    ("章贡", "章贡区", "county"),
    ("经开区", "赣州经开区", "zone"),
    ("赣州市住建局", "市住建局", "department"),
    ("赣县区安委办", "赣县区", "county"),
])
def test_loose_unit_spellings_map_to_known_units(raw, canonical, unit_type):
    _, _, result = _ledger([hazard(unit=raw)], unit_label="")
    (sub,) = result.submissions
    assert (sub.unit, sub.unit_raw, sub.unit_type) == (canonical, raw, unit_type)
    assert list(sub.records["unit"]) == [canonical] and list(sub.records["unit_raw"]) == [raw]
    assert not issues(result, "unknown_unit")


def test_unknown_unit_is_kept_as_written_with_a_warning_naming_it():
    ws, written, result = _ledger([hazard(unit="桃源工业园管委会办事处"), hazard(unit="桃源工业园管委会办事处", enterprise="乙")], unit_label="")
    (sub,) = result.submissions
    assert sub.unit == "桃源工业园管委会办事处" and len(sub.records) == 2
    (warning,) = issues(result, "unknown_unit")
    assert warning.severity == "warning" and "桃源工业园管委会办事处" in warning.message
    assert warning.cell == f"B{written[0]}"
    assert_rows_accounted(ws, result, first_row=written[0])


def test_several_units_in_one_sheet_become_one_submission_each():
    rows = [hazard(unit="章贡区", enterprise="a"), hazard(unit="章贡区", enterprise="b"),
            hazard(unit="南康区", enterprise="c"), hazard(unit="经开区", enterprise="d"), hazard(unit="章贡", enterprise="e")]
    ws, written, result = _ledger(rows, unit_label="", merge_unit_column=True)
    by_unit = records(result)
    assert sorted(by_unit) == ["南康区", "章贡区", "赣州经开区"]
    assert list(by_unit["章贡区"]["enterprise"]) == ["a", "b", "e"]
    assert list(by_unit["章贡区"]["source_row"]) == [written[0], written[1], written[4]]
    assert list(by_unit["南康区"]["enterprise"]) == ["c"]
    assert {s.period for s in result.submissions} == {"2023-08"}
    assert_rows_accounted(ws, result, first_row=written[0])


@pytest.mark.parametrize(("raw", "key"), [
    ("危化", "hazardous_chemicals"), ("危化品", "hazardous_chemicals"), ("道路交通安全", "road_traffic"),
    ("消防安全", "fire"), ("房屋市政工程", "construction"), ("非煤矿山", "mining"), ("粉尘涉爆", "industry_trade"),
    ("瓶装液化气", "urban_gas"), ("电梯", "special_equipment"), ("渔业船舶", "agriculture"), ("文物保护", "other"),
])
def test_loose_sector_spellings_map_to_keys_and_keep_the_raw_text(raw, key):
    _, _, result = _ledger([hazard(sector=raw)])
    (row,) = result.submissions[0].records.to_dict("records")
    assert (row["sector"], row["sector_raw"]) == (key, raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (dt.datetime(2023, 8, 30), dt.date(2023, 8, 30)),
    ("2023.8.30", dt.date(2023, 8, 30)),
    ("2023年8月30日", dt.date(2023, 8, 30)),
    ("8月底前", dt.date(2023, 8, 31)),
    ("长期", None),
    ("立即整改", None),
])
def test_deadline_spellings(raw, expected):
    _, _, result = _ledger([hazard(deadline=raw)])
    (row,) = result.submissions[0].records.to_dict("records")
    assert row["deadline"] == expected
    assert not issues(result, "bad_deadline")


def test_garbage_deadline_keeps_the_hazard_and_reports_the_cell():
    ws, written, result = _ledger([hazard(enterprise="甲"), hazard(enterprise="乙", deadline="等上级通知")])
    frame = result.submissions[0].records
    assert list(frame["enterprise"]) == ["甲", "乙"]
    assert frame["deadline"].iloc[1] is None and frame["deadline_raw"].iloc[1] == "等上级通知"
    (error,) = issues(result, "bad_deadline")
    assert (error.severity, error.cell) == ("error", f"H{written[1]}")
    assert "等上级通知" in error.message


@pytest.mark.parametrize(("raw", "status"), [
    ("已整改", "rectified"), ("已完成整改", "rectified"), ("整改完成", "rectified"), ("已销号", "rectified"),
    ("整改中", "in_progress"), ("正在整改", "in_progress"), ("已完成60%", "in_progress"),
    ("未整改", "not_started"), ("尚未整改", "not_started"), ("未开始", "not_started"),
])
def test_statuses(raw, status):
    _, _, result = _ledger([hazard(progress=raw)])
    assert list(result.submissions[0].records["status"]) == [status]


@pytest.mark.parametrize(("raw", "level", "doc"), [
    ("市级挂牌督办 赣市安办字〔2023〕12号", "city", "赣市安办字〔2023〕12号"),
    ("县级督办", "county", ""),
    ("县级挂牌督办（龙安办字〔2023〕5号）", "county", "龙安办字〔2023〕5号"),
    ("省级挂牌督办", "province", ""),
    ("无", "none", ""),
    ("/", "none", ""),
    (None, "none", ""),
])
def test_supervision_levels_and_document_numbers(raw, level, doc):
    _, _, result = _ledger([hazard(supervision=raw)])
    (row,) = result.submissions[0].records.to_dict("records")
    assert (row["supervision_level"], row["supervision_doc"]) == (level, doc)


def test_row_without_enterprise_and_description_is_an_error_with_its_cell():
    rows = [hazard(enterprise="甲"), {"measures": "加强巡查", "progress": "整改中"}, hazard(enterprise="丙")]
    ws, written, result = _ledger(rows)
    assert list(result.submissions[0].records["enterprise"]) == ["甲", "丙"]
    (error,) = issues(result, "hazard_incomplete")
    assert error.severity == "error" and error.cell == f"F{written[1]}"
    assert_rows_accounted(ws, result, first_row=written[0])


def test_provenance_reaches_the_campaign_hazards():
    ws, written, result = _ledger([hazard(enterprise="甲"), hazard(enterprise="乙")], blank_rows=[1],
                                  file_name="龙南/8月/台账.xlsx", sheet="龙南台账")
    campaign = build_campaign([result], dt.date(2023, 9, 1))
    frame = campaign.hazards
    assert list(frame["source_file"]) == ["龙南/8月/台账.xlsx"] * 2
    assert list(frame["source_sheet"]) == ["龙南台账"] * 2
    assert list(frame["source_row"]) == written and written[1] == written[0] + 2


def test_header_only_ledger_is_a_report_of_no_hazards():
    _, _, result = _ledger([], unit_label="龙南县")
    (sub,) = result.submissions
    assert (sub.unit, sub.period, len(sub.records)) == ("龙南市", "2023-08", 0)
    assert [(i.code, i.severity) for i in result.issues] == [("ledger_empty", "info")]
    _, _, anonymous = _ledger([], unit_label="", file_name="台账.xlsx")
    assert not anonymous.submissions
    assert ("ledger_empty", "error") in [(i.code, i.severity) for i in anonymous.issues]


def test_ledger_without_sequence_column_and_unit_from_filler_line():
    # Hand-made variant: no 序号/县市区 columns, the unit only on the 填报单位 line, header in row 3.
    wb, (ws,) = new_workbook("Sheet1")
    ws.append(["2023年8月隐患台账"])
    ws.append(["填报单位（盖章）：瑞金市安委会    填报人：张三    联系电话：0797-2520000"])
    ws.append(["企业（项目）", "所属行业领域", "重大隐患描述", "整改措施", "督办层级，文件名称及文号", "整改期限", "整改进展"])
    ws.append(["某烟花厂", "烟花爆竹", "药物混合间超量存放", "清理", "县级督办", 45199, "已整改"])
    for cell in ws[3]:
        cell.alignment = Alignment(wrap_text=True)
    result = load(wb, "ruijin.xlsx")
    (sub,) = result.submissions
    assert (sub.unit, sub.period) == ("瑞金市", "2023-08")
    (row,) = sub.records.to_dict("records")
    assert (row["enterprise"], row["sector"], row["deadline"], row["status"], row["source_row"]) == (
        "某烟花厂", "other", dt.date(2023, 9, 30), "rectified", 4)
    assert_rows_accounted(ws, result, first_row=4)


def test_header_with_the_same_column_twice_keeps_the_first_and_warns():
    wb, (ws,) = new_workbook("台账")
    ws.append(["2023年8月重大事故隐患排查整治台账"])
    ws.append(["填报单位（盖章）：龙南县安委会"])
    ws.append(["序号", "企业（项目）", "所属行业领域", "重大隐患描述", "整改措施", "督办层级", "整改期限", "整改进展", "整改\n期限"])
    ws.append([1, "甲公司", "危化", "储罐区未设置可燃气体报警装置", "安装", "无", "2023年9月30日", "整改中", "2023年12月31日"])
    result = load(wb, "龙南县台账.xlsx")
    (row,) = result.submissions[0].records.to_dict("records")
    assert (row["deadline"], row["deadline_cell"]) == (dt.date(2023, 9, 30), "G4")
    (warning,) = issues(result, "duplicate_column")
    assert (warning.severity, warning.cell) == ("warning", "I3")
    assert "G3" in warning.message and "整改期限" in warning.message
    assert_rows_accounted(ws, result, first_row=4)


@pytest.mark.parametrize(("file_name", "correction", "supplement"), [
    ("龙南县8月台账（更正）.xlsx", True, False),
    ("龙南县8月台账（补报）.xlsx", False, True),
])
def test_correction_and_supplement_marks_reach_the_ledger_submission(file_name, correction, supplement):
    _, _, result = _ledger([hazard()], unit_label="龙南县", file_name=file_name)
    (sub,) = result.submissions
    assert (sub.correction, sub.supplement) == (correction, supplement)
