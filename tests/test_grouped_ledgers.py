"""附件2 ledgers grouped under sector heading rows ("一、消防安全（3条）", "（二）城镇燃气"), as clerks
write them: no 所属行业领域 column (or one as well), wrapped headers, 序号 restarting per group."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from tests.xlsx_builders import assert_rows_accounted, hazard, issues, load, new_workbook, write_grouped_ledger

from loaders import build_campaign

FIRE = [hazard(enterprise="章贡区某商场", description="消防通道堵塞", supervision="无", progress="已整改"),
        hazard(enterprise="章贡区某酒店", description="自动喷水灭火系统损坏", supervision="县级督办", progress="整改中")]
GAS = [hazard(enterprise="章贡区某燃气站", description="瓶装液化气储存超量", supervision="/", progress="未整改")]
BUILDING = [hazard(enterprise="某住宅小区项目", description="高支模未按方案搭设", supervision="无", progress="整改中"),
            hazard(enterprise="某市政道路工程", description="深基坑未设置监测", supervision=None, progress="已整改")]


def _groups(numbered: bool = True):
    if numbered:
        return [("一、消防安全（2条）", FIRE), ("二、城镇燃气（1条）", GAS), ("三、房屋市政工程", BUILDING)]
    return [("消防安全", FIRE), ("城镇燃气", GAS), ("房屋市政工程", BUILDING)]


@pytest.mark.parametrize(("heading_style", "numbered", "merge_unit"), [
    ("merged", True, False),
    ("merged", False, False),  # unnumbered, merged across the whole row
    ("first_cell", True, False),
    ("first_cell", True, True),  # heading in the 序号 cell, unit column merged down over the block
    ("numeral_cell", True, False),  # "一" in the 序号 cell, "消防安全（2条）" merged beside it
])
def test_headings_name_the_sector_of_the_rows_below_and_are_not_hazards(heading_style, numbered, merge_unit):
    wb, (ws,) = new_workbook("台账")
    rows = write_grouped_ledger(ws, _groups(numbered), heading_style=heading_style, merge_unit_column=merge_unit)
    if heading_style == "first_cell":
        groups = _groups(numbered)
        groups[1] = ("（二）城镇燃气", GAS)  # bracketed numbering, no count
        ws.cell(rows["headings"][1], 1).value = "（二）城镇燃气"
    result = load(wb, "章贡区8月台账.xlsx")

    (sub,) = result.submissions
    frame = sub.records
    assert (sub.unit, sub.period) == ("章贡区", "2023-08")
    assert list(frame["source_row"]) == rows["hazards"]  # the heading rows are not hazards
    assert list(frame["enterprise"]) == [h["enterprise"] for h in FIRE + GAS + BUILDING]
    assert list(frame["sector"]) == ["fire", "fire", "urban_gas", "construction", "construction"]
    assert list(frame["sector_raw"]) == ["消防安全", "消防安全", "城镇燃气", "房屋市政工程", "房屋市政工程"]
    # "三、房屋市政工程" is no city-supervised hazard (the 市 of 市政): supervision is each row's own.
    assert list(frame["supervision_level"]) == ["none", "county", "none", "none", "none"]
    assert list(frame["status"]) == ["rectified", "in_progress", "not_started", "in_progress", "rectified"]
    headings = issues(result, "group_heading")
    assert [(i.severity, int(i.cell[1:])) for i in headings] == [("info", r) for r in rows["headings"]]
    assert "消防" in headings[0].message
    assert not [i for i in result.issues if i.severity != "info"], result.issues
    assert_rows_accounted(ws, result, first_row=4)


def test_sector_counts_and_supervision_reach_the_summary():
    wb, (ws,) = new_workbook("台账")
    write_grouped_ledger(ws, _groups())
    summary = build_campaign([load(wb, "章贡区8月台账.xlsx")], dt.date(2023, 9, 1)).summary()
    assert summary["hazards"]["unique"] == 5
    assert summary["hazards"]["by_sector"] == {"fire": 2, "urban_gas": 1, "construction": 2}
    assert summary["hazards"]["supervised"] == {"city": 0, "county": 1, "province": 0}


def test_a_sector_column_wins_over_the_heading_where_it_is_filled():
    fire = [hazard(enterprise="甲商场", sector="消防", description="消防通道堵塞"),
            hazard(enterprise="乙化工", sector="危化品", description="储罐区未设置可燃气体报警装置"),
            hazard(enterprise="丙酒店", sector=None, description="喷淋系统损坏")]
    wb, (ws,) = new_workbook("台账")
    rows = write_grouped_ledger(ws, [("一、消防安全（3条）", fire), ("二、城镇燃气", [hazard(enterprise="丁燃气站", sector="")])],
                                sector_column=True)
    result = load(wb, "章贡区8月台账.xlsx")
    frame = result.submissions[0].records
    assert list(frame["sector"]) == ["fire", "hazardous_chemicals", "fire", "urban_gas"]
    assert list(frame["sector_raw"]) == ["消防", "危化品", "消防安全", "城镇燃气"]
    # The sector cell of a row filled from its heading is the heading's cell.
    assert list(frame["sector_cell"]) == [f"D{rows['hazards'][0]}", f"D{rows['hazards'][1]}",
                                          f"A{rows['headings'][0]}", f"A{rows['headings'][1]}"]
    assert len(issues(result, "group_heading")) == 2
    assert_rows_accounted(ws, result, first_row=4)


def test_heading_right_below_the_header_is_not_taken_for_a_second_header_row():
    # "一、工贸企业" holds 企业, a header word: read as a sub-header it would remap the 企业 column.
    wb, (ws,) = new_workbook("台账")
    rows = write_grouped_ledger(ws, [("一、工贸企业（1条）", [hazard(enterprise="某钢铁公司", description="煤气柜泄漏报警失效")]),
                                     ("（二）建筑施工项目", [hazard(enterprise="某安置房项目", description="塔吊基础积水")])])
    result = load(wb, "章贡区8月台账.xlsx")
    frame = result.submissions[0].records
    assert list(frame["enterprise"]) == ["某钢铁公司", "某安置房项目"]
    assert list(frame["description"]) == ["煤气柜泄漏报警失效", "塔吊基础积水"]
    assert list(frame["sector"]) == ["industry_trade", "construction"]
    assert list(frame["source_row"]) == rows["hazards"]


def test_numbered_heading_of_an_unlisted_sector_keeps_its_text_as_other():
    wb, (ws,) = new_workbook("台账")
    write_grouped_ledger(ws, [("一、消防安全", FIRE[:1]), ("二、文物保护（1条）", [hazard(enterprise="某古建筑", description="电气线路老化")])])
    result = load(wb, "章贡区8月台账.xlsx")
    frame = result.submissions[0].records
    assert list(frame["enterprise"]) == ["章贡区某商场", "某古建筑"]
    assert list(frame["sector"]) == ["fire", "other"]
    assert list(frame["sector_raw"]) == ["消防安全", "文物保护"]


def test_rows_above_the_first_heading_and_ordinary_hazards_are_untouched():
    # A hazard whose enterprise names a sector is still a hazard: it has more than one cell.
    wb, (ws,) = new_workbook("台账")
    rows = write_grouped_ledger(ws, [("一、城镇燃气（2条）", [hazard(enterprise="城镇燃气", description="调压站无人值守"),
                                                          hazard(enterprise="某液化气站", description="钢瓶超期未检")])],
                                heading_style="first_cell")
    ws.insert_rows(rows["headings"][0])
    for c, v in enumerate([1, "章贡区", "某加油站", "卸油区静电接地失效", "整改", "无", "2023年9月30日", "整改中"], start=1):
        ws.cell(rows["headings"][0], c, v)
    result = load(wb, "章贡区8月台账.xlsx")
    frame = result.submissions[0].records
    assert list(frame["enterprise"]) == ["某加油站", "城镇燃气", "某液化气站"]
    assert pd.isna(frame["sector"].iloc[0])  # no column, no heading above it: missing, reported by the campaign
    assert list(frame["sector"].iloc[1:]) == ["urban_gas", "urban_gas"]
    assert_rows_accounted(ws, result, first_row=4)
