"""Test helpers around ``sample_data.writers`` (which writes the real 附件1–4 layouts):
saving a workbook to bytes, loading it, and checking that every row was accounted for."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
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
