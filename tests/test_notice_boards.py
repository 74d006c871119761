"""附件1 notice boards as units send them: many boards one below the other on one sheet, values
after a colon or in the next cell, every board a record of the registry."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from tests.xlsx_builders import board, issues, load, new_workbook, write_board

from sample_data.writers import write_registry

SAMPLE_CAMPAIGN = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"


def _registry(result):
    (sub,) = [s for s in result.submissions if s.kind == "registry"]
    return sub


def test_every_board_written_by_the_template_writer_is_a_record():
    boards = [board(enterprise=f"章贡区企业{i}", head=f"负责人{i}", leader_phone=f"1380000{i:04d}") for i in range(8)]
    wb, (ws,) = new_workbook("公示牌")
    write_registry(ws, boards, layout="board")
    assert ws.max_row > 30  # beyond the rows the first-board reader looked at
    sub = _registry(load(wb, "章贡区公示牌.xlsx"))
    assert (sub.unit, sub.layout, sub.period) == ("章贡区", "board", None)
    frame = sub.records
    assert list(frame["enterprise"]) == [b["enterprise"] for b in boards]
    assert list(frame["head"]) == [b["head"] for b in boards]
    assert list(frame["leader_phone"]) == [b["leader_phone"] for b in boards]
    label_rows = _board_label_rows(ws)
    assert list(frame["source_row"]) == label_rows and len(label_rows) == 8


def test_boards_with_values_after_a_colon_or_in_the_next_cell_titles_and_blanks():
    wb, (ws,) = new_workbook("Sheet1")
    first = write_board(ws, board(enterprise="赣州甲矿业有限公司", head="甲", head_phone=13907970001), title="安全生产责任公示牌")
    second = write_board(ws, board(enterprise="赣州乙化工有限公司", head="乙", leader="钟二"), style="colon", title="安全生产责任公示牌")
    third = write_board(ws, board(enterprise="赣州丙燃气有限公司", head=None, head_phone="0797-8888888"))  # head left blank
    fourth = write_board(ws, board(enterprise="赣州丁建材有限公司", responsible_unit=None), style="colon")
    result = load(wb, "南康区公示牌.xlsx")
    sub = _registry(result)
    records = sub.records.set_index("enterprise").to_dict("index")
    assert list(records) == ["赣州甲矿业有限公司", "赣州乙化工有限公司", "赣州丙燃气有限公司", "赣州丁建材有限公司"]
    assert list(sub.records["source_row"]) == [first, second, third, fourth]
    assert records["赣州甲矿业有限公司"]["head_phone"] == "13907970001"  # a number cell, read as written
    assert (records["赣州乙化工有限公司"]["head"], records["赣州乙化工有限公司"]["leader"]) == ("乙", "钟二")
    assert records["赣州乙化工有限公司"]["responsible_unit"] == "章贡区应急管理局"
    # A blank value is blank: never the next label ("联系电话：") nor another field's value.
    assert (records["赣州丙燃气有限公司"]["head"], records["赣州丙燃气有限公司"]["head_phone"]) == ("", "0797-8888888")
    assert records["赣州丁建材有限公司"]["responsible_unit"] == ""
    assert {r["cadre"] for r in records.values()} == {"钱七"}
    assert sub.unit == "南康区"


def test_a_board_without_an_enterprise_name_is_reported_and_the_others_kept():
    wb, (ws,) = new_workbook("公示牌")
    write_board(ws, board(enterprise="赣州甲公司"))
    blank = write_board(ws, board(enterprise=None))
    write_board(ws, board(enterprise="赣州丙公司"), style="colon")
    result = load(wb, "大余县公示牌.xlsx")
    assert list(_registry(result).records["enterprise"]) == ["赣州甲公司", "赣州丙公司"]
    (error,) = issues(result, "registry_incomplete")
    assert (error.severity, error.cell) == ("error", f"A{blank}")


def _board_label_rows(ws) -> list[int]:
    return [c.row for c in ws["A"] if isinstance(c.value, str) and c.value.replace(" ", "").startswith("公司/企业名称")]


def test_the_sample_campaign_board_files_keep_all_their_boards():
    # The sample's 章贡区公示牌.xlsx held 10 boards on one sheet, of which 1 was kept.
    checked = 0
    for path in sorted(SAMPLE_CAMPAIGN.rglob("*公示牌*.xlsx")):
        wb = openpyxl.load_workbook(path)
        sheets = {ws.title: _board_label_rows(ws) for ws in wb}
        if not any(len(rows) > 1 for rows in sheets.values()):
            continue
        result = load(wb, path.name)
        for sub in result.submissions:
            rows = sheets[sub.source_sheet]
            assert sub.kind == "registry" and sub.layout == "board"
            assert list(sub.records["source_row"]) == rows
            assert list(sub.records["enterprise"]) == [wb[sub.source_sheet].cell(r, 2).value for r in rows]
            checked += len(rows)
    assert checked >= 10


def test_a_correction_mark_in_the_file_name_reaches_the_board_submission():
    wb, (ws,) = new_workbook("公示牌")
    write_board(ws, board(enterprise="赣州甲公司"))
    write_board(ws, board(enterprise="赣州乙公司"))
    sub = _registry(load(wb, "章贡区公示牌（更正）.xlsx"))
    assert sub.correction and len(sub.records) == 2
