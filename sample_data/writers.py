"""Write one worksheet in the official layouts of 附件1–4, with the quirks officers produce.

Every writer takes an openpyxl worksheet and writes cell contents exactly as given
(str, int, float, date, datetime or None), so callers control every spelling. The
layouts follow the forms printed at the end of the campaign plan
(``shared/seeds/000_2023ba1201b80b22.txt``); labels come from ``loaders.reference``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from loaders.reference import INDICATOR_BY_KEY, LEDGER_COLUMNS, PAIR_LABELS, REGISTRY_FIELDS

LEDGER_TITLE = "重大事故隐患排查整治台账"
COUNTY_FORM_TITLE = "赣州市　　县（市、区）重大事故隐患专项排查整治进展情况调度表"
DEPARTMENT_FORM_TITLE = "赣州市市直部门重大事故隐患专项排查整治进展情况调度表"
REGISTRY_TITLE = "安全生产责任公示牌信息汇总表"

# The header labels as printed in 附件2, where the narrow columns wrap them.
_WRAPPED_LEDGER_LABELS = {
    "seq": "序\n号",
    "unit": "县市区/\n部门",
    "sector": "所属行业\n领域",
    "supervision": "督办层级，文件\n名称及文号",
    "deadline": "整改\n期限",
    "progress": "整改\n进展",
}
# The two-row ledger header groups the last two columns under one heading.
_LEDGER_GROUP_LABEL = "整改情况"
_LEDGER_GROUPED = ("deadline", "progress")
_LEDGER_NOTE = "注：整改期限填写具体日期；整改进展填写已整改、整改中或未整改。"
# Column widths of 附件2 (with and without the 所属行业领域 column).
LEDGER_WIDTHS = (6, 12, 26, 12, 36, 30, 22, 14, 12)
GROUPED_LEDGER_WIDTHS = (6, 12, 26, 36, 30, 22, 14, 12)
# The unit column of a consolidated 汇总表, by form.
WIDE_UNIT_LABELS = {3: "县市区", 4: "部门"}

# 附件3/附件4 as printed: sections merged down the left edge, each row two items.
# An item is an indicator key, or the first key of a PAIR_LABELS entry (the
# printed label then carries both values), or None for an empty half-row.
FORM_SECTIONS: dict[int, tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]] = {
    3: (
        ("总体\n情况", (
            ("enterprises", "sampled_enterprises"),
            ("self_found", "self_rectified"),
            ("dept_found", "dept_rectified"),
            ("supervised", "supervised_rectified"),
        )),
        ("对企业自\n查自改进\n行抽查检\n查情况", (
            ("checked_enterprises", "chk_head_no_study"),
            ("chk_head_no_inspection", "chk_no_duty_list"),
            ("chk_no_safety_staff", "chk_unlicensed_welding"),
            ("chk_outsourcing_chaos", "chk_no_drill"),
        )),
        ("部门帮扶\n和精准执\n法情况", (
            ("assist_areas", "assist_enterprises"),
            ("penalties", "dual_penalties"),
            ("judicial_transfers", "suspensions"),
            ("exposures", "typical_cases"),
            ("accountability", "interviews"),
        )),
        ("党委政府\n组织推动\n情况", (
            ("study_sessions", "leader_research"),
            ("onsite_supervision", "lectures"),
            ("rewards_wan", "media_column"),
            ("tech_inspectors", "inspections"),
        )),
    ),
    4: (
        ("总体\n情况", (
            ("enterprises", "checked_enterprises"),
            ("dept_found", "dept_rectified"),
            ("supervised", "supervised_rectified"),
        )),
        ("抽查检\n查的企\n业情况", (
            ("chk_head_no_study", "chk_head_no_inspection"),
            ("chk_no_duty_list", "chk_no_safety_staff"),
            ("chk_unlicensed_welding", "chk_outsourcing_chaos"),
            ("chk_no_drill", None),
        )),
        ("监管或\n管理行\n业领域\n安全生\n产帮扶\n和精准\n执法情\n况", (
            ("assist_areas", "assist_enterprises"),
            ("penalties", "dual_penalties"),
            ("judicial_transfers", "suspensions"),
            ("exposures", "typical_cases"),
            ("accountability", "interviews"),
            ("lectures", "enforcer_training"),
        )),
    ),
}
FORM_NOTES = {
    3: "注：1.此表为各县（市、区）填报，从5月份开始上报，每月23日上报前一个月的情况信息，相关数据为累计数。",
    4: "注：1.此表为各市直部门填报，除行业领域企业/建设项目数量外，其余均填报市本级相关工作数据，"
       "从5月份开始上报，每月23日上报前一个月的情况信息，相关数据为累计数。",
}
PAIR_STYLES = ("one_cell_slash", "one_cell_units", "two_cells")

_PAIR_BY_FIRST = {first: (label, first, second) for label, first, second in PAIR_LABELS}
# Printed labels break after this many characters in the narrow label cells.
_LABEL_WRAP_AT = 16

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_TITLE_FONT = Font(name="方正小标宋简体", size=16, bold=True)
_HEADER_FONT = Font(name="黑体", size=11, bold=True)

# Fixed so that regenerating a workbook gives the same bytes.
_FIXED_TIME = datetime(2023, 5, 1, 8, 0, 0)
_CORE_PART = "docProps/core.xml"


def save_workbook(workbook: Workbook, path: Path) -> None:
    """Save with fixed document and zip timestamps, so equal content gives equal bytes."""
    buffer = io.BytesIO()
    workbook.save(buffer)  # stamps properties.modified with the current time
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    workbook.properties.creator = "hazardboard sample generator"
    core = tostring(workbook.properties.to_tree())
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, core if info.filename == _CORE_PART else source.read(info.filename))


def ledger_filler_text(unit_label: str | None) -> str:
    """The line above the 附件2 header: 填报单位（盖章）：… 填报人： 联系电话："""
    return f"填报单位（盖章）：{unit_label or ''}　　填报人：　　联系电话："


def form_items(form: int) -> list[str]:
    """The form's items (indicator keys, pairs by their first key) in printed order."""
    return [item for _, rows in FORM_SECTIONS[form] for row in rows for item in row if item]


def form_label(item: str, form: int) -> str:
    """The printed label of an item on 附件3 (form 3) or 附件4 (form 4)."""
    if item in _PAIR_BY_FIRST:
        return _PAIR_BY_FIRST[item][0]
    indicator = INDICATOR_BY_KEY[item]
    return (indicator.department_label if form == 4 else None) or indicator.label


def pair_keys(item: str) -> tuple[str, str] | None:
    """The two indicator keys an item carries when its label holds two values."""
    pair = _PAIR_BY_FIRST.get(item)
    return (pair[1], pair[2]) if pair else None


def combine_pair(first: object, second: object, *, style: str, keys: tuple[str, str]) -> str | None:
    """Two values in one cell: "12/35.6" (one_cell_slash) or "12次 35.6万元" (one_cell_units)."""
    if first is None and second is None:
        return None
    texts = ["" if value is None else str(value) for value in (first, second)]
    if style == "one_cell_slash":
        return "/".join(texts)
    units = [INDICATOR_BY_KEY[key].unit_label for key in keys]
    return " ".join(text + unit if text else "" for text, unit in zip(texts, units)).strip()


def _wrap_label(label: str) -> str:
    if len(label) <= _LABEL_WRAP_AT:
        return label
    at = _LABEL_WRAP_AT
    if len(label) - at < 4 and label.rfind("（") > 0:
        at = label.rfind("（")  # keep a short unit such as （家） whole on the second line
    return label[:at] + "\n" + label[at:]


def _put(ws: Worksheet, row: int, column: int, value: object, *, align: Alignment = _CENTER,
         font: Font | None = None, border: bool = True) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    cell.alignment = align
    if border:
        cell.border = _BORDER
    if font is not None:
        cell.font = font
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm" if value.time() != datetime.min.time() else "yyyy/m/d"
    elif isinstance(value, date):
        cell.number_format = "yyyy/m/d"


def _merge(ws: Worksheet, first_row: int, first_column: int, last_row: int, last_column: int,
           value: object, **style: object) -> None:
    """Write value in the top-left cell and merge the block (a single cell is just written)."""
    _put(ws, first_row, first_column, value, **style)
    if (first_row, first_column) != (last_row, last_column):
        ws.merge_cells(start_row=first_row, start_column=first_column, end_row=last_row, end_column=last_column)


def _line(ws: Worksheet, row: int, width: int, text: str, *, font: Font | None = None,
          align: Alignment = _LEFT) -> None:
    """A title, filler or note line across the whole table width, without borders."""
    _merge(ws, row, 1, row, width, text, font=font, align=align, border=False)


def _set_widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def write_ledger(
    ws: Worksheet,
    rows: Sequence[Mapping[str, object]],
    *,
    unit_label: str | None = None,
    title: str | None = LEDGER_TITLE,
    header_rows: int = 1,
    wrap_headers: bool = False,
    merge_unit_column: bool = False,
    blank_rows: Iterable[int] = (),
    total_row: bool = False,
    note_row: bool = False,
    filler_line: bool = True,
    grouped: str | None = None,
) -> list[int]:
    """Write a 附件2 hazard ledger; returns the sheet row number of each input row.

    rows: dicts with keys unit, enterprise, sector, description, measures,
    supervision, deadline, progress. blank_rows: indices of input rows before
    which an empty row is left. merge_unit_column merges each run of equal unit
    cells down the column, as officers do when one unit fills a whole sheet.

    grouped: drop the 所属行业领域 column and put each run of rows with the same
    ``sector`` under a heading row instead, 序号 restarting in each group:
    "numbered" writes "一、消防安全（3条）" merged across the row, "bracketed"
    writes "（二）城镇燃气" in the first cell only. The heading text is the
    rows' ``sector`` value; callers order the rows by group.
    """
    keys = [k for k in LEDGER_COLUMNS if not (grouped and k == "sector")]
    width = len(keys)
    row = 1
    if title is not None:
        _line(ws, row, width, title, font=_TITLE_FONT, align=_CENTER)
        row += 1
    if filler_line:
        _line(ws, row, width, ledger_filler_text(unit_label))
        row += 1
    labels = [_WRAPPED_LEDGER_LABELS.get(key, LEDGER_COLUMNS[key]) if wrap_headers else LEDGER_COLUMNS[key]
              for key in keys]
    if header_rows == 1:
        for column, label in enumerate(labels, start=1):
            _put(ws, row, column, label, font=_HEADER_FONT)
    else:
        first_grouped = keys.index(_LEDGER_GROUPED[0]) + 1
        for column, (key, label) in enumerate(zip(keys, labels), start=1):
            if key in _LEDGER_GROUPED:
                _put(ws, row + 1, column, label, font=_HEADER_FONT)
            else:
                _merge(ws, row, column, row + 1, column, label, font=_HEADER_FONT)
        _merge(ws, row, first_grouped, row, first_grouped + len(_LEDGER_GROUPED) - 1,
               _LEDGER_GROUP_LABEL, font=_HEADER_FONT)
    row += header_rows

    blank_before = set(blank_rows)
    written: list[int] = []
    group_sizes: dict[object, int] = {}
    for values in rows:
        group_sizes[values.get("sector")] = group_sizes.get(values.get("sector"), 0) + 1
    group: object = object()
    groups_seen = 0
    seq = 0
    for index, values in enumerate(rows):
        if index in blank_before:
            row += 1
        if grouped and (groups_seen == 0 or values.get("sector") != group):
            group, groups_seen, seq = values.get("sector"), groups_seen + 1, 0
            numeral = chinese_numeral(groups_seen)
            if grouped == "numbered":
                heading = f"{numeral}、{group}（{group_sizes[group]}条）"
                _merge(ws, row, 1, row, width, heading, font=_HEADER_FONT, align=_LEFT)
            else:
                _put(ws, row, 1, f"（{numeral}）{group}", font=_HEADER_FONT, align=_LEFT)
            row += 1
        seq += 1
        _put(ws, row, 1, seq if grouped else index + 1)
        for column, key in enumerate(keys[1:], start=2):
            _put(ws, row, column, values.get(key), align=_LEFT if key in ("description", "measures") else _CENTER)
        written.append(row)
        row += 1
    if merge_unit_column:
        _merge_runs(ws, written, keys.index("unit") + 1)
    if total_row:
        _merge(ws, row, 1, row, 2, "合计", font=_HEADER_FONT)
        _put(ws, row, 3, f"共{len(written)}项")
        row += 1
    if note_row:
        _line(ws, row, width, _LEDGER_NOTE)
    _set_widths(ws, GROUPED_LEDGER_WIDTHS if grouped else LEDGER_WIDTHS)
    return written


def chinese_numeral(number: int) -> str:
    """一 … 九十九, as heading rows count their groups."""
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _merge_runs(ws: Worksheet, rows: Sequence[int], column: int) -> None:
    """Merge runs of adjacent rows whose cells in column hold the same value."""
    start = 0
    for end in range(1, len(rows) + 1):
        run_ends = (end == len(rows) or rows[end] != rows[end - 1] + 1
                    or ws.cell(rows[end], column).value != ws.cell(rows[start], column).value)
        if not run_ends:
            continue
        if end - start > 1:
            for row in rows[start + 1:end]:
                ws.cell(row, column).value = None
            ws.merge_cells(start_row=rows[start], start_column=column, end_row=rows[end - 1], end_column=column)
        start = end


def write_form(
    ws: Worksheet,
    values: Mapping[str, object],
    *,
    form: int = 3,
    unit_label: str,
    title_period_text: str | None = None,
    filed_on_text: str | None = None,
    pair_style: str = "one_cell_slash",
    wrap_labels: bool = True,
    title: bool = True,
    notes: bool = True,
) -> dict[str, str]:
    """Write a 附件3 (county) or 附件4 (department) dispatch form; returns key -> value cell.

    Columns: A section (merged down), B label, C:D value, E label, F:G value.
    values: indicator key -> raw cell content. A pair label (行政处罚（次，万元）…)
    takes its two keys' values: joined in one cell ("12/35.6" or "12次 35.6万元",
    so pass bare numbers for them) or, with pair_style="two_cells", in C and D.
    filed_on_text follows "时间：", e.g. "2023 年 9 月 20 日".
    """
    width = 7
    row = 1
    if title:
        heading = COUNTY_FORM_TITLE if form == 3 else DEPARTMENT_FORM_TITLE
        _line(ws, row, width, heading + (title_period_text or ""), font=_TITLE_FONT, align=_CENTER)
        row += 1
    label = "填报单位（部门）" if form == 4 else "填报单位"
    _line(ws, row, width, f"{label}：{unit_label}　　　　时间：{filed_on_text or '2023 年 　月 　日'}")
    row += 1

    cells: dict[str, str] = {}
    for section, section_rows in FORM_SECTIONS[form]:
        _merge(ws, row, 1, row + len(section_rows) - 1, 1, section, font=_HEADER_FONT)
        for items in section_rows:
            for item, label_column in zip(items, (2, 5)):
                if item is None:
                    _put(ws, row, label_column, None)
                    _merge(ws, row, label_column + 1, row, label_column + 2, None)
                    continue
                text = form_label(item, form)
                _put(ws, row, label_column, _wrap_label(text) if wrap_labels else text, align=_LEFT)
                cells.update(_write_form_value(ws, row, label_column + 1, item, values, pair_style))
            row += 1
    if notes:
        _line(ws, row, width, FORM_NOTES[form])
    _set_widths(ws, (10, 34, 9, 9, 34, 9, 9))
    return cells


def _write_form_value(ws: Worksheet, row: int, column: int, item: str, values: Mapping[str, object],
                      pair_style: str) -> dict[str, str]:
    """Write one item's value cell(s); returns key -> cell reference."""
    keys = pair_keys(item)
    first_ref = f"{get_column_letter(column)}{row}"
    if keys is None:
        _merge(ws, row, column, row, column + 1, values.get(item))
        return {item: first_ref}
    if pair_style == "two_cells":
        _put(ws, row, column, values.get(keys[0]))
        _put(ws, row, column + 1, values.get(keys[1]))
        return {keys[0]: first_ref, keys[1]: f"{get_column_letter(column + 1)}{row}"}
    combined = combine_pair(values.get(keys[0]), values.get(keys[1]), style=pair_style, keys=keys)
    _merge(ws, row, column, row, column + 1, combined)
    return {keys[0]: first_ref, keys[1]: first_ref}


def pair_sub_label(key: str) -> str:
    """Sub-column heading under a pair label: its unit (次, 万元) or its own "其中…" label."""
    indicator = INDICATOR_BY_KEY[key]
    return indicator.label if indicator.label.startswith("其中") else indicator.unit_label


def wide_form_columns(form: int, *, split: bool = True) -> list[tuple[str, str, str | None]]:
    """The value columns of a 汇总表 in printed order: (section, item, key in that column).

    A pair item (行政处罚（次，万元）…) takes two columns, one per key, when ``split``;
    otherwise one column whose key is None (both values joined in one cell)."""
    columns: list[tuple[str, str, str | None]] = []
    for section, section_rows in FORM_SECTIONS[form]:
        for items in section_rows:
            for item in (i for i in items if i):
                keys = pair_keys(item)
                if keys and split:
                    columns.extend((section, item, key) for key in keys)
                else:
                    columns.append((section, item, None if keys else item))
    return columns


def write_wide_form(
    ws: Worksheet,
    rows: Sequence[tuple[str, Mapping[str, object]]],
    *,
    form: int = 3,
    title: str,
    section_row: bool = True,
    pair_columns: str = "split",
    total_row: bool = False,
) -> dict[tuple[int, str], str]:
    """Write a consolidated 汇总表: one unit per row, one indicator per column.

    rows: (unit label, values) as for write_form. Header: an optional row of
    section cells merged across their columns, the label row, and with
    pair_columns="split" a row of sub-columns (次 / 万元) under each pair label,
    the other labels merged down over it. With pair_columns="one_cell" a pair
    takes one column holding "12/35.6". total_row adds a 合计 row of sums left
    empty, as officers leave it for the formula. Returns (row index, key) -> cell.
    """
    split = pair_columns == "split"
    columns = wide_form_columns(form, split=split)
    width = 2 + len(columns)
    row = 1
    _line(ws, row, width, title, font=_TITLE_FONT, align=_CENTER)
    row += 1
    header_height = 1 + int(section_row) + int(split)
    label_row = row + int(section_row)
    _merge(ws, row, 1, row + header_height - 1, 1, "序号", font=_HEADER_FONT)
    _merge(ws, row, 2, row + header_height - 1, 2, WIDE_UNIT_LABELS[form], font=_HEADER_FONT)
    column = 3
    while column - 3 < len(columns):
        section, item, _ = columns[column - 3]
        span = sum(1 for c in columns if c[1] == item)
        if section_row and (column == 3 or columns[column - 4][0] != section):
            section_span = sum(1 for c in columns if c[0] == section)
            _merge(ws, row, column, row, column + section_span - 1, section.replace("\n", ""), font=_HEADER_FONT)
        label = form_label(item, form)
        if span == 2:
            _merge(ws, label_row, column, label_row, column + 1, label, font=_HEADER_FONT)
            for offset, key in enumerate(pair_keys(item)):
                _put(ws, label_row + 1, column + offset, pair_sub_label(key), font=_HEADER_FONT)
        else:
            _merge(ws, label_row, column, row + header_height - 1, column, label, font=_HEADER_FONT)
        column += span
    row += header_height

    cells: dict[tuple[int, str], str] = {}
    for index, (unit_label, values) in enumerate(rows):
        _put(ws, row, 1, index + 1)
        _put(ws, row, 2, unit_label)
        for column, (_, item, key) in enumerate(columns, start=3):
            ref = f"{get_column_letter(column)}{row}"
            if key is not None:
                _put(ws, row, column, values.get(key))
                cells[(index, key)] = ref
            else:
                keys = pair_keys(item)
                _put(ws, row, column, combine_pair(values.get(keys[0]), values.get(keys[1]),
                                                   style="one_cell_slash", keys=keys))
                cells.update({(index, k): ref for k in keys})
        row += 1
    if total_row:
        _merge(ws, row, 1, row, 2, "合计", font=_HEADER_FONT)
        for column in range(3, width + 1):
            _put(ws, row, column, None)
    _set_widths(ws, (6, 14) + (12,) * len(columns))
    return cells


_BOARD_LABELS = (
    ("enterprise", "公司/企业名称：", "responsible_unit", "责任单位："),
    ("head", "企业主要负责人：", "head_phone", "联系电话："),
    ("leader", "挂 点 领 导：", "leader_phone", "联系电话："),
    ("cadre", "责 任 干 部：", "cadre_phone", "联系电话："),
)


def write_registry(ws: Worksheet, rows: Sequence[Mapping[str, object]], *, layout: str = "table",
                   title: str | None = REGISTRY_TITLE) -> None:
    """Write 附件1 notice-board data: a table, or the board itself repeated per enterprise.

    rows: dicts keyed by REGISTRY_FIELDS keys.
    """
    if layout == "table":
        keys = list(REGISTRY_FIELDS)
        row = 1
        if title is not None:
            _line(ws, row, len(keys) + 1, title, font=_TITLE_FONT, align=_CENTER)
            row += 1
        for column, label in enumerate(("序号", *REGISTRY_FIELDS.values()), start=1):
            _put(ws, row, column, label, font=_HEADER_FONT)
        for index, values in enumerate(rows, start=1):
            row += 1
            _put(ws, row, 1, index)
            for column, key in enumerate(keys, start=2):
                _put(ws, row, column, values.get(key))
        _set_widths(ws, (6, 30, 20, 12, 14, 12, 14, 12, 14))
        return
    row = 1
    for values in rows:
        for first_key, first_label, second_key, second_label in _BOARD_LABELS:
            _put(ws, row, 1, first_label, align=_LEFT)
            _put(ws, row, 2, values.get(first_key), align=_LEFT)
            _put(ws, row, 3, second_label, align=_LEFT)
            _put(ws, row, 4, values.get(second_key), align=_LEFT)
            row += 1
        _line(ws, row, 4, "注：各地可结合实际适当调整。")
        row += 2
    _set_widths(ws, (18, 30, 12, 24))
