"""The workbook reader's limits, checked with the limits lowered so the files stay small."""

from __future__ import annotations

import io

import openpyxl
import xlwt

from loaders import load_workbook, workbook
from loaders.workbook import open_workbook, read_grids


def xlsx(build) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refusal(data: bytes, name: str = "测试.xlsx"):
    result = load_workbook(data, name)
    assert not result.accepted
    [issue] = result.issues
    assert issue.severity == "error" and issue.message.startswith("文件未导入")
    return issue


def test_merged_header_beyond_the_data_is_clipped_and_still_filled():
    def build(book):
        sheet = book.active
        sheet["A1"] = "标题"
        sheet.merge_cells("A1:XFD1")  # a title merged to the last column
        sheet["A2"] = "单位"
        sheet["B2"] = "隐患"
        sheet["A3"] = "章贡区"
        sheet.merge_cells("A3:A9")  # a unit merged down past the last row with data
        sheet["B4"] = "x"

    [grid], issues = read_grids(open_workbook(xlsx(build), "t.xlsx"), "t.xlsx")
    assert not issues
    assert (grid.height, grid.width) == (4, 2)
    assert grid.rows[0] == ["标题", "标题"] and grid.origin[(0, 1)] == (0, 0)
    assert [row[0] for row in grid.rows[2:]] == ["章贡区", "章贡区"] and grid.origin[(3, 0)] == (2, 0)


def test_too_many_merged_ranges_in_the_sheet_xml(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_MERGED_RANGES", 20)
    monkeypatch.setattr(workbook, "MAX_MEMBERS", 20)  # the XML count allows 2 per member

    def build(book):
        book.active["A1"] = "x"
        for i in range(100):
            book.active.merge_cells(f"A{2 + i}:B{2 + i}")

    # Refused while inflating the sheet XML, before calamine reads it.
    monkeypatch.setattr(workbook.calamine.CalamineWorkbook, "from_filelike", None)
    issue = refusal(xlsx(build))
    assert issue.code == "too_many_merged_ranges" and "合并单元格区域" in issue.message


def test_too_many_merged_ranges_in_an_xls(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_MERGED_RANGES", 20)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("调度表")
    sheet.write(0, 0, "x")
    for i in range(40):
        sheet.merge(1 + i, 1 + i, 0, 1)
    out = io.BytesIO()
    book.save(out)
    issue = refusal(out.getvalue(), "测试.xls")
    assert issue.code == "too_many_merged_ranges"


def test_merged_cells_per_sheet_and_per_workbook(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_SHEET_MERGED_CELLS", 30)
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_MERGED_CELLS", 50)

    def sheets(count, cells):
        def build(book):
            for k in range(count):
                sheet = book.active if k == 0 else book.create_sheet(f"表{k}")
                sheet["A1"] = "x"
                sheet["E10"] = "y"
                sheet.merge_cells(f"A1:E{cells // 5}")
        return xlsx(build)

    issue = refusal(sheets(1, 35))
    assert issue.code == "too_many_merged_cells" and "工作表“Sheet”" in issue.message
    issue = refusal(sheets(2, 30))
    assert issue.code == "too_many_merged_cells" and issue.message.startswith("文件未导入：工作簿的合并单元格")
    assert not [i for i in load_workbook(sheets(1, 30), "t.xlsx").issues if i.code == "too_many_merged_cells"]


def test_cells_per_workbook(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_CELLS", 150)

    def build(book):
        for k in range(2):
            sheet = book.active if k == 0 else book.create_sheet(f"表{k}")
            sheet["J10"] = "x"  # 100 cells from A1

    issue = refusal(xlsx(build))
    assert issue.code == "workbook_too_large" and "表1" in issue.message
