"""Test helpers around ``sample_data.writers`` (which writes the real 附件1–4 layouts):
saving a workbook to bytes, loading it, and checking that every row was accounted for."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from loaders import Issue, WorkbookResult, load_workbook

# One ordinary hazard row; tests override the fields they are about.
HAZARD = {
    "unit": "章贡区",
    "enterprise": "赣州某化工有限公司",
    "sector": "危化",
    "description": "储罐区未设置可燃气体报警装置",
    "measures": "安装报警装置",
    "supervision": "无",
    "deadline": "2023年9月30日",
    "progress": "整改中",
}


def hazard(**overrides: object) -> dict:
    return {**HAZARD, **overrides}


def new_workbook(*titles: str) -> tuple[Workbook, list[Worksheet]]:
    """A workbook whose sheets carry the given titles (the default sheet is reused)."""
    wb = Workbook()
    sheets = [wb.active]
    for _ in titles[1:]:
        sheets.append(wb.create_sheet())
    for ws, title in zip(sheets, titles or ("Sheet",)):
        ws.title = title
    return wb, sheets


def to_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def load(wb: Workbook, file_name: str) -> WorkbookResult:
    return load_workbook(to_bytes(wb), file_name)


def row_of(cell: str) -> int:
    """"C7" → 7."""
    match = re.fullmatch(r"[A-Z]+(\d+)", cell)
    assert match, f"not a cell reference: {cell!r}"
    return int(match.group(1))


def issues(result: WorkbookResult | list[Issue], code: str | None = None, sheet: str | None = None) -> list[Issue]:
    found = result.issues if isinstance(result, WorkbookResult) else result
    return [i for i in found if (code is None or i.code == code) and (sheet is None or i.sheet == sheet)]


def records(result: WorkbookResult, sheet: str | None = None):
    """All submissions of a result (of one sheet) as {unit: records frame}."""
    return {s.unit: s.records for s in result.submissions if sheet is None or s.source_sheet == sheet}


def form_values(result: WorkbookResult, unit: str | None = None) -> dict[str, object]:
    """key → value of the single form submission (of ``unit``)."""
    subs = [s for s in result.submissions if s.kind.endswith("form") and (unit is None or s.unit == unit)]
    assert len(subs) == 1, [(s.kind, s.unit) for s in result.submissions]
    return dict(zip(subs[0].records["key"], subs[0].records["value"]))


def form_cells(result: WorkbookResult, unit: str | None = None) -> dict[str, str]:
    subs = [s for s in result.submissions if s.kind.endswith("form") and (unit is None or s.unit == unit)]
    assert len(subs) == 1
    return dict(zip(subs[0].records["key"], subs[0].records["cell"]))


def assert_rows_accounted(ws: Worksheet, result: WorkbookResult, first_row: int, exempt: tuple[int, ...] = ()) -> None:
    """Every non-blank row of ``ws`` from ``first_row`` on (1-based; the rows above are the
    title, 填报单位 line and header) ends up as a record or as an issue with a cell in that row.
    ``exempt``: rows the test wrote as "not reported" on purpose (a label row of blanks/—)."""
    covered: set[int] = set()
    for sub in result.submissions:
        if sub.source_sheet != ws.title:
            continue
        if "source_row" in sub.records:
            covered.update(int(r) for r in sub.records["source_row"])
        if "cell" in sub.records:
            covered.update(row_of(c) for c in sub.records["cell"])
    covered.update(row_of(i.cell) for i in result.issues if i.sheet == ws.title and i.cell)
    non_blank = {
        row[0].row
        for row in ws.iter_rows(min_row=first_row)
        if any(cell.value is not None and str(cell.value).strip() for cell in row)
    }
    missing = sorted(non_blank - covered - set(exempt))
    assert not missing, f"rows of {ws.title!r} neither imported nor reported: {missing}"


def write_unrelated_table(ws: Worksheet) -> None:
    """A sheet officers leave in a workbook that is none of the templates."""
    ws.append(["姓名", "职务", "手机号码", "备注"])
    ws.append(["张三", "科长", "13800000000", "值班"])
    ws.append(["李四", "科员", "13900000000", ""])


# --- layouts clerks make by hand ---------------------------------------------------

GROUPED_LEDGER_HEADER = ("序\n号", "县市区/\n部门", "企业（项目）", "重大隐患描述", "整改措施", "督办层级，文件\n名称及文号",
                         "整改\n期限", "整改\n进展")
GROUPED_LEDGER_KEYS = ("unit", "enterprise", "description", "measures", "supervision", "deadline", "progress")


def write_grouped_ledger(ws: Worksheet, groups: list[tuple[str, list[dict]]], *, heading_style: str = "merged",
                         sector_column: bool = False, unit_label: str = "章贡区安委办",
                         title: str = "2023年8月重大事故隐患排查整治台账", merge_unit_column: bool = False) -> dict[str, list[int]]:
    """A 附件2 ledger grouped under heading rows, as clerks make it: wrapped header labels, 序号
    restarting in each group, the hazards of a group below its heading. ``heading_style``:
    "merged" — the heading merged across the whole row; "first_cell" — the heading in the 序号
    cell only; "numeral_cell" — "一" in the 序号 cell, the sector merged across the rest.
    ``sector_column`` keeps a 所属行业领域 column too (filled from each hazard's "sector").
    ``merge_unit_column`` merges the unit column down over the whole block (headings included,
    so not with "merged"). Returns the sheet rows of the headings and of the hazards."""
    header = list(GROUPED_LEDGER_HEADER)
    keys = list(GROUPED_LEDGER_KEYS)
    if sector_column:
        header.insert(3, "所属行业\n领域")
        keys.insert(2, "sector")
    width = len(header)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append([f"填报单位（盖章）：{unit_label}　　填报人：　　联系电话："])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.append(header)
    for cell in ws[3]:
        cell.alignment = Alignment(wrap_text=True)
    headings: list[int] = []
    hazards: list[int] = []
    for heading, rows in groups:
        row = ws.max_row + 1
        headings.append(row)
        if heading_style == "merged":
            ws.cell(row, 1, heading)
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        elif heading_style == "first_cell":
            ws.cell(row, 1, heading)
        elif heading_style == "numeral_cell":
            numeral, _, text = heading.partition("、")
            ws.cell(row, 1, numeral)
            ws.cell(row, 2, text)
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=width)
        else:
            raise ValueError(heading_style)
        for seq, values in enumerate(rows, start=1):
            ws.append([seq, *(values.get(key) for key in keys)])
            hazards.append(ws.max_row)
    if merge_unit_column:
        first, last = headings[0], ws.max_row
        for row in range(first + 1, last + 1):
            ws.cell(row, 2).value = None
        ws.cell(first, 2, groups[0][1][0]["unit"])
        ws.merge_cells(start_row=first, start_column=2, end_row=last, end_column=2)
    return {"headings": headings, "hazards": hazards}


BOARD = {"enterprise": "赣州某化工有限公司", "responsible_unit": "章贡区应急管理局", "head": "王五", "head_phone": "13800000001",
         "leader": "赵六", "leader_phone": "13800000002", "cadre": "钱七", "cadre_phone": "13800000003"}


def board(**overrides: object) -> dict:
    return {**BOARD, **overrides}


def write_board(ws: Worksheet, values: dict, *, style: str = "next_cell", title: str | None = None) -> int:
    """One printed notice board below what the sheet holds, then a blank row; returns the row of
    its 公司/企业名称 label. ``style``: "next_cell" — "公司/企业名称：" with the value in the cell
    to its right (merged over two cells); "colon" — label and value in one cell, "公司/企业名称：X"."""
    row = ws.max_row + 2 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
    if title:
        ws.cell(row, 1, title)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        row += 1
    first = row
    for left, left_label, right, right_label in (("enterprise", "公司/企业名称：", "responsible_unit", "责任单位："),
                                                 ("head", "企业主要负责人：", "head_phone", "联系电话："),
                                                 ("leader", "挂 点 领 导：", "leader_phone", "联系电话："),
                                                 ("cadre", "责 任 干 部：", "cadre_phone", "联系电话：")):
        if style == "colon":
            ws.cell(row, 1, f"{left_label}{values.get(left) or ''}")
            ws.cell(row, 4, f"{right_label}{values.get(right) or ''}")
        else:
            ws.cell(row, 1, left_label)
            ws.cell(row, 2, values.get(left))
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
            ws.cell(row, 4, right_label)
            ws.cell(row, 5, values.get(right))
            ws.merge_cells(start_row=row, start_column=5, end_row=row, end_column=6)
        row += 1
    return first
