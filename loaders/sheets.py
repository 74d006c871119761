"""One parser per template, each turning a SheetGrid into submissions and issues.

The template of a sheet is recognised from its content (header words, form
labels), never from the file name. Every non-blank row of a sheet ends up as a
record or as an issue carrying its cell reference.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from .context import SheetContext, find_unit_in_text, read_context
from .labels import (
    FOOTER_ROW,
    NOTE_ROW,
    TOTAL_ROW,
    LabelMatch,
    group_heading_text,
    is_bare_group_numeral,
    match_indicator_label,
    match_ledger_header,
    match_registry_header,
    starts_with_group_numbering,
)
from .model import Issue, RecordRows, SheetGrid, Submission, cell_ref, column_letter
from .reference import INDICATOR_BY_KEY, LEDGER_COLUMNS, SECTOR_LABELS, canonical_unit, unit_type_of
from .values import (
    canonical_sector,
    cell_text,
    is_not_reported,
    parse_bool,
    parse_deadline,
    parse_number,
    parse_pair,
    parse_status,
    parse_supervision,
)

LEDGER_RECORD_COLUMNS = (
    "unit", "unit_raw", "enterprise", "sector", "sector_raw", "description", "measures",
    "supervision_level", "supervision_doc", "deadline", "deadline_raw", "progress_raw", "status", "source_row",
    "deadline_cell", "sector_cell",
)
FORM_RECORD_COLUMNS = ("key", "value", "cell")
REGISTRY_RECORD_COLUMNS = (
    "enterprise", "responsible_unit", "head", "head_phone", "leader", "leader_phone", "cadre", "cadre_phone", "source_row",
)


@dataclass
class SheetResult:
    submissions: list[Submission] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    template: str = "unknown"


# --- recognition --------------------------------------------------------------

@dataclass
class _Scan:
    ledger_header: tuple[int, int] | None = None  # (row, matched columns)
    registry_header: tuple[int, int] | None = None
    labels: list[tuple[int, int, LabelMatch]] = field(default_factory=list)
    labels_per_row: Counter = field(default_factory=Counter)


def _scan(grid: SheetGrid, max_rows: int = 60) -> _Scan:
    """The ledger header row (the first with the most ledger keys), the first registry header row
    and every indicator label in the first ``max_rows`` rows. Once a ledger header is found the
    sheet is a ledger (``parse_sheet``): later rows are only looked at for a better ledger header."""
    scan = _Scan()
    copies = _merge_copies(grid)
    for r in range(min(grid.height, max_rows)):
        ledger_keys: set[str] = set()
        registry_keys: set[str] = set()
        ledger_only = scan.ledger_header is not None
        for c, value in enumerate(grid.rows[r]):
            if not isinstance(value, str) or (r, c) in copies:
                continue
            if key := match_ledger_header(value):
                ledger_keys.add(key)
            if ledger_only:
                continue
            if key := match_registry_header(value):
                registry_keys.add(key)
            if match := match_indicator_label(value):
                scan.labels.append((r, c, match))
                scan.labels_per_row[r] += 1
        if len(ledger_keys & {"enterprise", "description", "measures", "deadline", "progress", "supervision", "sector"}) >= 4:
            if scan.ledger_header is None or len(ledger_keys) > scan.ledger_header[1]:
                scan.ledger_header = (r, len(ledger_keys))
        if len(registry_keys & {"enterprise", "responsible_unit", "head", "leader", "cadre"}) >= 3 and scan.registry_header is None:
            scan.registry_header = (r, len(registry_keys))
    return scan


def parse_sheet(grid: SheetGrid, file_name: str) -> SheetResult:
    """Recognise the sheet's template and parse it."""
    if not any(v is not None and cell_text(v) for row in grid.rows for v in row):
        return SheetResult(template="empty")
    scan = _scan(grid)
    if scan.ledger_header:
        return _parse_ledger(grid, file_name, scan.ledger_header[0])
    best_row, best_count = max(scan.labels_per_row.items(), key=lambda kv: kv[1], default=(0, 0))
    if best_count >= 5:
        return _parse_wide(grid, file_name, best_row)
    if len(scan.labels) >= 6:
        return _parse_form(grid, file_name, scan.labels)
    if scan.registry_header:
        return _parse_registry_table(grid, file_name, scan.registry_header[0])
    board = _parse_registry_board(grid, file_name)
    if board is not None:
        return board
    return SheetResult(
        issues=[grid.issue(None, None, "error",
                           "无法识别此工作表：既不是隐患台账（附件2），也不是调度表（附件3/附件4）或责任公示牌（附件1）。"
                           "请使用方案附件的表格样式，表头文字不要改动。", "unknown_template")],
        template="unknown",
    )


# --- shared helpers -------------------------------------------------------------

def _row_is_blank(row: list[object]) -> bool:
    return all(v is None or not cell_text(v) for v in row)


def _first_text(grid: SheetGrid, r: int) -> tuple[int, str]:
    for c, value in enumerate(grid.rows[r]):
        text = cell_text(value)
        if text:
            return c, text
    return 0, ""


def _merged_width(grid: SheetGrid, r: int, c: int) -> int:
    """How many columns of row r the cell at (r, c) spans (1 when not merged)."""
    if (r, c) not in grid.origin:
        return 1
    origin = grid.origin[(r, c)]
    return sum(1 for cc in range(len(grid.rows[r])) if grid.origin.get((r, cc)) == origin)


def _merge_copies(grid: SheetGrid) -> set[tuple[int, int]]:
    """The cells for which ``grid.is_merge_copy`` is true, for loops over every cell."""
    return {cell for cell, top_left in grid.origin.items() if cell != top_left}


def _flags(ctx: SheetContext) -> dict[str, bool]:
    """The title's or file name's 更正/补报 marks, carried by every submission of the sheet."""
    return {"correction": bool(ctx.correction), "supplement": bool(ctx.supplement)}


def _unit_or_issue(grid: SheetGrid, ctx: SheetContext, what: str) -> tuple[str | None, Issue | None]:
    if ctx.unit:
        return ctx.unit, None
    if ctx.unit_raw:
        # A name that maps to no known unit is kept as written and reported.
        return ctx.unit_raw, (grid.issue(*(ctx.unit_cell or (None, None)), "warning",
                                         f"填报单位“{ctx.unit_raw}”不在已知单位名单中，已按原文保留。如为新增单位，请联系市安委办登记。",
                                         "unknown_unit"))
    return None, grid.issue(None, None, "error",
                            f"无法确定{what}的填报单位：“填报单位”栏为空，标题、工作表名和文件名中也没有单位名称。请填写“填报单位”后重新报送。",
                            "unit_unknown")


def _period_or_issue(grid: SheetGrid, ctx: SheetContext, what: str) -> Issue | None:
    if ctx.period:
        return None
    return grid.issue(None, None, "error",
                      f"无法确定{what}所属月份：标题、文件名、工作表名和“时间”栏中都没有年月。请在标题中写明“2023年X月”或填写“时间”栏后重新报送。",
                      "period_unknown")


# --- ledger (附件2) -------------------------------------------------------------

def _is_sub_header(grid: SheetGrid, r: int) -> bool:
    """A second header row holds mostly header words and no numbers or dates."""
    cells = [v for c, v in enumerate(grid.rows[r]) if not grid.is_merge_copy(r, c) and cell_text(v)]
    if any(not isinstance(v, str) for v in cells):
        return False
    if any(starts_with_group_numbering(v) for v in cells):
        return False  # a group heading ("一、工贸企业") right below the header, not header words
    if len(cells) == 1 and max(_merged_width(grid, r, c) for c in range(len(grid.rows[r])) if not grid.is_merge_copy(r, c) and cell_text(grid.rows[r][c])) >= 3:
        return False
    matched = sum(1 for v in cells if match_ledger_header(v))
    return matched >= 1 and matched >= 0.6 * len(cells)


def _is_repeated_header(grid: SheetGrid, r: int, description: str) -> bool:
    """The header printed again (page breaks, pasted blocks): short cells that all name columns.
    ``description``: the row's text in the description column ("" without one)."""
    # Cheap test first: this runs on every row, and a real description is never a header word.
    if len(description) > 10 or match_ledger_header(description) != "description":
        return False
    cells = [cell_text(v) for c, v in enumerate(grid.rows[r]) if not grid.is_merge_copy(r, c) and cell_text(v)]
    headers = [t for t in cells if len(t) <= 14 and match_ledger_header(t)]
    return len(headers) >= 4 and len(headers) >= 0.8 * len(cells)


def _ledger_columns(grid: SheetGrid, header_row: int) -> tuple[dict[str, int], int, list[tuple[str, tuple[int, int], tuple[int, int]]]]:
    """Map ledger keys to columns, reading a second header row when there is one
    (e.g. "整改情况" merged over "整改期限" and "整改进展"). A key named twice in one header
    row keeps its first column; the duplicates are returned as (key, first cell, second cell)."""
    columns: dict[str, int] = {}
    duplicates: list[tuple[str, tuple[int, int], tuple[int, int]]] = []
    for c, value in enumerate(grid.rows[header_row]):
        if isinstance(value, str) and not grid.is_merge_copy(header_row, c):
            if key := match_ledger_header(value):
                if key in columns:
                    duplicates.append((key, (header_row, columns[key]), (header_row, c)))
                else:
                    columns[key] = c
    below = header_row + 1
    if below >= grid.height or not _is_sub_header(grid, below):
        return columns, header_row, duplicates
    in_row: dict[str, int] = {}
    for c, value in enumerate(grid.rows[below]):
        if isinstance(value, str) and not grid.same_cell((header_row, c), (below, c)) and not grid.is_merge_copy(below, c):
            if key := match_ledger_header(value):
                if key in in_row:
                    duplicates.append((key, (below, in_row[key]), (below, c)))
                    continue
                in_row[key] = c
                columns[key] = c
    return columns, below, duplicates


def _group_heading(grid: SheetGrid, r: int, columns: dict[str, int], texts: list[str],
                   copies: set[tuple[int, int]]) -> tuple[int, str, str] | None:
    """(cell column, sector text, sector key) when row r is a group heading of a grouped ledger:
    its only content one text cell such as "一、消防安全（3条）" or "（二）城镇燃气", or an unnumbered
    sector name merged across the row. ``texts``: the row's cell texts, ``copies``: the grid's
    merge copies (``_merge_copies``)."""
    row = grid.rows[r]
    cells = []
    for c, text in enumerate(texts):
        if not text or (r, c) in copies:
            continue
        cells.append((c, row[c]))
        if len(cells) > 3:
            return None  # at most a unit cell, a numeral and the heading: most rows stop here, cheaply
    unit_col = columns.get("unit")
    if len(cells) > 1 and unit_col is not None:
        # A unit cell merged down from this row over the hazards below.
        cells = [(c, v) for c, v in cells
                 if c != unit_col or not (canonical_unit(cell_text(v)) or find_unit_in_text(cell_text(v))[0])]
    numeral = False
    if len(cells) == 2 and isinstance(cells[0][1], str) and is_bare_group_numeral(cells[0][1]):
        numeral, cells = True, cells[1:]  # "一" in the 序号 cell, "消防安全" beside it
    if len(cells) != 1 or not isinstance(cells[0][1], str):
        return None
    c, text = cells[0][0], cells[0][1].strip()
    heading = group_heading_text(text)
    if heading is None:
        return None
    sector = canonical_sector(heading.text)
    if sector is None:
        return None
    wide = _merged_width(grid, r, c) >= 3
    in_hazard_text = c in (columns.get("enterprise"), columns.get("description"))
    numbered = numeral or (heading.numbered and (not heading.arabic or wide or not in_hazard_text))
    if sector == "other":
        # An unknown sector only when the row is plainly a heading: numbered and merged across.
        return (c, heading.text, sector) if numbered and wide else None
    return (c, heading.text, sector) if numbered or wide or heading.counted else None


def _parse_ledger(grid: SheetGrid, file_name: str, header_row: int) -> SheetResult:
    result = SheetResult(template="ledger")
    columns, last_header_row, duplicates = _ledger_columns(grid, header_row)
    for key, first, second in duplicates:
        first_ref, second_ref = cell_ref(*first), cell_ref(*second)
        result.issues.append(grid.issue(*second, "warning",
                                        f"表头“{grid.text(*second)}”（{second_ref}）与“{grid.text(*first)}”（{first_ref}）是同一栏目"
                                        f"“{LEDGER_COLUMNS[key]}”，按第一列（{column_letter(first[1])}列）导入，"
                                        f"{column_letter(second[1])}列未导入。", "duplicate_column"))
    ctx = read_context(grid, header_row, file_name)
    if issue := _period_or_issue(grid, ctx, "隐患台账"):
        result.issues.append(issue)
        return result
    group: tuple[str, str, str] | None = None  # (sector key, sector text, heading cell) of a grouped ledger
    records: dict[str, list[tuple]] = {}  # rows in LEDGER_RECORD_COLUMNS order, by unit
    unknown_units_reported: set[str] = set()
    numbered_only: list[int] = []
    col = columns.get
    seq_col, unit_col, sector_col, deadline_col = col("seq"), col("unit"), col("sector"), col("deadline")
    enterprise_col, description_col, measures_col = col("enterprise"), col("description"), col("measures")
    progress_col, supervision_col = col("progress"), col("supervision")
    sector_letters = column_letter(sector_col) if sector_col is not None else None
    deadline_letters = column_letter(deadline_col) if deadline_col is not None else None
    copies = _merge_copies(grid)
    units: dict[str, tuple[str, str | None]] = {}  # a row's unit text → (unit_raw, unit)

    # Every row's cell texts are read once (cell_text of each value); a column the header does not
    # name, or a cell beyond the row's end, is "".
    for r in range(last_header_row + 1, grid.height):
        row = grid.rows[r]
        texts = [cell_text(v) for v in row]
        width = len(texts)

        def at(c: int | None) -> str:
            return texts[c] if c is not None and c < width else ""

        first_col = next((c for c, text in enumerate(texts) if text), None)
        if first_col is None:
            continue  # a blank row
        first = texts[first_col]
        seq_text = at(seq_col)
        if TOTAL_ROW.match(first) or TOTAL_ROW.match(seq_text):
            result.issues.append(grid.issue(r, first_col, "info", "合计行，不作为隐患导入。", "total_row"))
            continue
        if NOTE_ROW.match(first) or FOOTER_ROW.match(first):
            result.issues.append(grid.issue(r, first_col, "info", f"说明或落款行（“{first[:20]}”），不作为隐患导入。", "note_row"))
            continue
        if heading := _group_heading(grid, r, columns, texts, copies):
            heading_col, sector_text, sector_key = heading
            group = (sector_key, sector_text, cell_ref(r, heading_col))
            precedence = "（填写了“所属行业领域”的行以该栏为准）" if sector_col is not None else ""
            result.issues.append(grid.issue(r, heading_col, "info",
                                            f"分组标题行“{grid.text(r, heading_col)[:30]}”，不作为隐患导入；其下隐患的行业领域按"
                                            f"“{SECTOR_LABELS[sector_key]}”统计{precedence}。", "group_heading"))
            continue
        enterprise, description = at(enterprise_col), at(description_col)
        if _is_repeated_header(grid, r, description):
            result.issues.append(grid.issue(r, first_col, "info", "重复的表头行，已跳过。", "repeated_header"))
            continue
        if not enterprise and not description:
            non_merge = [c for c, text in enumerate(texts) if text and (r, c) not in copies and c != seq_col]
            if not non_merge:
                # Only a merged unit cell running through, or a pre-numbered empty row.
                if seq_text and (r, seq_col) not in copies:
                    numbered_only.append(r)
                continue
            result.issues.append(grid.issue(r, non_merge[0], "error",
                                            "此行缺少“企业（项目）”和“重大隐患描述”，未作为隐患导入。请补全后重新报送。", "hazard_incomplete"))
            continue
        unit_text = at(unit_col)
        if (resolved := units.get(unit_text)) is None:
            unit_raw = unit_text or ctx.unit or ctx.unit_raw
            unit = canonical_unit(unit_raw) or find_unit_in_text(unit_raw)[0] if unit_raw else None
            if unit is None:
                unit = ctx.unit if not unit_text else None
            resolved = units[unit_text] = (unit_raw, unit)
        unit_raw, unit = resolved
        if unit is None:
            if not unit_raw:
                result.issues.append(grid.issue(r, unit_col if unit_col is not None else first_col, "error",
                                                "无法确定此隐患的填报单位：“县市区/部门”为空，表头上方也没有“填报单位”。", "unit_unknown"))
                continue
            unit = unit_raw
            if unit_raw not in unknown_units_reported:
                unknown_units_reported.add(unit_raw)
                result.issues.append(grid.issue(r, unit_col if unit_col is not None else first_col, "warning",
                                                f"单位名称“{unit_raw}”不在已知单位名单中，已按原文保留。", "unknown_unit"))
        sector_raw = at(sector_col)
        sector = canonical_sector(sector_raw)
        sector_cell = f"{sector_letters}{r + 1}" if sector_letters is not None else ""
        if sector is None and group is not None:
            # A sector column, where filled, wins; otherwise the group heading above names the sector.
            sector, sector_raw, sector_cell = group
        deadline_value = row[deadline_col] if deadline_col is not None and deadline_col < width else None
        deadline = parse_deadline(deadline_value, ctx.period)
        if deadline.error:
            result.issues.append(grid.issue(r, deadline_col, "error", deadline.error + "（隐患已导入，期限按未填处理）", "bad_deadline"))
        progress_raw = at(progress_col)
        status = parse_status(progress_raw)
        if status.error:
            result.issues.append(grid.issue(r, progress_col if progress_col is not None else first_col, "warning",
                                            status.error + "（隐患已导入，按“未整改”统计）", "bad_status"))
        level, document = parse_supervision(at(supervision_col))
        # In LEDGER_RECORD_COLUMNS order.
        records.setdefault(unit, []).append((
            unit, unit_raw, enterprise, sector, sector_raw, description, at(measures_col), level, document,
            deadline.value, at(deadline_col), progress_raw, status.value or "not_started", r + 1,
            f"{deadline_letters}{r + 1}" if deadline_letters is not None else "", sector_cell,
        ))
    for unit, rows in records.items():
        result.submissions.append(Submission(
            kind="ledger", unit=unit, unit_raw=rows[0][1], unit_type=unit_type_of(unit), period=ctx.period,
            source_file=file_name, source_sheet=grid.name,
            records=RecordRows(LEDGER_RECORD_COLUMNS, rows), layout="table", reported_on=ctx.reported_on,
            **_flags(ctx),
        ))
    if numbered_only:
        rows_text = "、".join(str(r + 1) for r in numbered_only[:10]) + ("等" if len(numbered_only) > 10 else "")
        result.issues.append(grid.issue(numbered_only[0], col("seq"), "info",
                                        f"第{rows_text}行（共{len(numbered_only)}行）只有序号、没有隐患内容，已跳过。", "numbered_empty_row"))
    if not records and ctx.unit:
        # A ledger with no rows is a real report: "no new hazards this month".
        result.submissions.append(Submission(
            kind="ledger", unit=ctx.unit, unit_raw=ctx.unit_raw, unit_type=unit_type_of(ctx.unit), period=ctx.period,
            source_file=file_name, source_sheet=grid.name, records=pd.DataFrame(columns=list(LEDGER_RECORD_COLUMNS)),
            layout="table", reported_on=ctx.reported_on, **_flags(ctx),
        ))
        result.issues.append(grid.issue(header_row, 0, "info", "隐患台账没有隐患记录，按“本月无隐患报送”导入。", "ledger_empty"))
    elif not records and not result.issues:
        result.issues.append(grid.issue(header_row, 0, "error", "隐患台账没有隐患记录，也无法确定填报单位，未导入。请填写“填报单位”。", "ledger_empty"))
    return result


# --- dispatch forms (附件3/附件4), form layout ----------------------------------

def _form_kind(unit: str | None, labels: list[LabelMatch], title: str) -> str:
    """附件3 or 附件4: a known unit's type decides; for a unit not on the list the
    form's own wording does, before a guess from the unit name's suffix."""
    known = unit is not None and canonical_unit(unit) is not None
    unit_type = unit_type_of(unit) if known else "unknown"
    if unit_type == "department":
        return "department_form"
    if unit_type in ("county", "zone"):
        return "county_form"
    votes = Counter(m.form for m in labels if m.form)
    if "市直部门" in title or votes[4] > votes[3]:
        return "department_form"
    if votes[3] > votes[4] or "县（市、区）" in title:
        return "county_form"
    return "department_form" if unit and unit_type_of(unit) == "department" else "county_form"


def _value_note(grid: SheetGrid, key: str, raw: object, value: object, ref: str, issues: list[Issue], note: str | None) -> None:
    """A number followed by a bracketed note ("3（其中重大1）"): the number is imported, the note kept."""
    if note:
        issues.append(Issue(grid.file, grid.name, ref, "info",
                            f"“{INDICATOR_BY_KEY[key].label}”填写为“{cell_text(raw)}”，按{value}导入，括号内说明“{note}”已记录。",
                            "value_note"))


def _parse_values(grid: SheetGrid, keys: tuple[str, ...], cells: list[tuple[int, int]], issues: list[Issue]) -> list[tuple[str, object, str]]:
    """Values for one label: one key from one cell, or a pair from one cell or two neighbouring cells."""
    out: list[tuple[str, object, str]] = []
    if not cells:
        return out  # no value cell at all (blank cells at the row's right edge are not stored)
    if len(keys) == 2:
        r, c = cells[0]
        raw = grid.value(r, c)
        if len(cells) >= 2 and not is_not_reported(grid.value(*cells[1])):
            parsed = (parse_number(raw), parse_number(grid.value(*cells[1])))
            refs = (cell_ref(r, c), cell_ref(*cells[1]))
            raws = (raw, grid.value(*cells[1]))
        else:
            parsed = parse_pair(raw)
            refs = (cell_ref(r, c),) * 2
            raws = (raw, raw)
        for key, value, ref, cell_raw in zip(keys, parsed, refs, raws):
            if value.error:
                issues.append(Issue(grid.file, grid.name, ref, "error", f"“{INDICATOR_BY_KEY[key].label}”{value.error}", "bad_value"))
            elif value.reported:
                _value_note(grid, key, cell_raw, value.value, ref, issues, value.note)
                out.append((key, value.value, ref))
        return out
    (key,) = keys
    r, c = cells[0]
    raw = grid.value(r, c)
    parsed = parse_bool(raw) if INDICATOR_BY_KEY[key].kind == "bool" else parse_number(raw)
    ref = cell_ref(r, c)
    if parsed.error:
        issues.append(Issue(grid.file, grid.name, ref, "error", f"“{INDICATOR_BY_KEY[key].label}”{parsed.error}", "bad_value"))
    elif parsed.reported:
        _value_note(grid, key, raw, parsed.value, ref, issues, parsed.note)
        out.append((key, parsed.value, ref))
    return out


def _value_cells(grid: SheetGrid, r: int, c: int, label_cells: set[tuple[int, int]], want: int) -> list[tuple[int, int]]:
    """The value cells to the right of a label: distinct merged ranges, stopping at the next label."""
    cells: list[tuple[int, int]] = []
    last = (r, c)
    for cc in range(c + 1, len(grid.rows[r])):
        if grid.same_cell(last, (r, cc)):
            continue
        origin = grid.origin.get((r, cc), (r, cc))
        if origin in label_cells:
            break
        cells.append((r, cc))
        last = (r, cc)
        if len(cells) == want:
            break
    return cells


def _parse_form(grid: SheetGrid, file_name: str, labels: list[tuple[int, int, LabelMatch]]) -> SheetResult:
    result = SheetResult(template="form")
    first_label_row = min(r for r, _, _ in labels)
    ctx = read_context(grid, first_label_row, file_name)
    unit, issue = _unit_or_issue(grid, ctx, "调度表")
    if issue:
        result.issues.append(issue)
    if unit is None:
        return result
    if issue := _period_or_issue(grid, ctx, "调度表"):
        result.issues.append(issue)
        return result
    label_cells = {(r, c) for r, c, _ in labels}
    values: dict[str, tuple[object, str]] = {}
    used_rows: set[int] = set()
    for r, c, match in labels:
        used_rows.add(r)
        cells = _value_cells(grid, r, c, label_cells, want=len(match.keys))
        for key, value, ref in _parse_values(grid, match.keys, cells, result.issues):
            if key in values and values[key][0] != value:
                result.issues.append(Issue(grid.file, grid.name, ref, "warning",
                                           f"“{INDICATOR_BY_KEY[key].label}”在表中出现两次（{values[key][1]}、{ref}），采用第一次的值。", "duplicate_label"))
                continue
            values.setdefault(key, (value, ref))
    # Rows below the header with text that is neither a label nor a note: report them.
    for r in range(first_label_row, grid.height):
        if r in used_rows or _row_is_blank(grid.rows[r]):
            continue
        col, text = _first_text(grid, r)
        if grid.is_merge_copy(r, col) and all(grid.is_merge_copy(r, c) or not cell_text(v) for c, v in enumerate(grid.rows[r])):
            continue  # only a section cell merged down the left edge
        if NOTE_ROW.match(text) or FOOTER_ROW.match(text) or re.match(r"^\s*\d\s*[.、]", text):
            result.issues.append(grid.issue(r, col, "info", f"说明或落款行（“{text[:20]}”），未导入。", "note_row"))
            continue
        result.issues.append(grid.issue(r, col, "warning", f"无法识别的内容“{text[:30]}”，未导入。请勿改动调度表的指标名称。", "unrecognised_row"))
    kind = _form_kind(unit, [m for _, _, m in labels], ctx.title)
    records = RecordRows(FORM_RECORD_COLUMNS, [(k, v, ref) for k, (v, ref) in values.items()])
    result.submissions.append(Submission(
        kind=kind, unit=unit, unit_raw=ctx.unit_raw, unit_type=unit_type_of(unit), period=ctx.period,
        source_file=file_name, source_sheet=grid.name, records=records, layout="form", reported_on=ctx.reported_on,
        **_flags(ctx),
    ))
    return result


# --- dispatch forms, consolidated wide layout (汇总表) ---------------------------

def _wide_columns(grid: SheetGrid, label_row: int) -> tuple[dict[int, tuple[str, ...]], int, dict[int, int]]:
    """Column → key(s) for a wide header; a pair label merged over two sub-columns splits in two.
    Also the row of each column's label (the label row, or the sub-header row below it)."""
    mapping: dict[int, tuple[str, ...]] = {}
    label_rows: dict[int, int] = {}
    width = len(grid.rows[label_row])
    for c in range(width):
        value = grid.rows[label_row][c]
        match = match_indicator_label(value) if isinstance(value, str) else None
        if match is None:
            continue
        origin = grid.origin.get((label_row, c), (label_row, c))
        if len(match.keys) == 2 and grid.is_merge_copy(label_row, c):
            mapping[c] = (match.keys[1],)  # second sub-column of a merged pair label
        elif len(match.keys) == 2 and origin == (label_row, c) and c + 1 < width and grid.same_cell((label_row, c), (label_row, c + 1)):
            mapping[c] = (match.keys[0],)
        elif not grid.is_merge_copy(label_row, c):
            mapping[c] = match.keys
    # A sub-header row below (次 / 万元 / 其中危险作业罪案例) shifts the data down one row.
    next_row = label_row + 1
    sub_header = next_row < grid.height and any(
        isinstance(v, str) and (match_indicator_label(v) or re.fullmatch(r"\s*[（(]?\s*(次|万元|个|人|家)\s*[)）]?\s*", v))
        for v in grid.rows[next_row]
    )
    if sub_header:
        for c, value in enumerate(grid.rows[next_row]):
            if isinstance(value, str) and (match := match_indicator_label(value)) and len(match.keys) == 1:
                mapping[c] = match.keys
                label_rows[c] = next_row
    mapping = dict(sorted(mapping.items()))
    return mapping, next_row if sub_header else label_row, {c: label_rows.get(c, label_row) for c in mapping}


def _wide_unit_column(grid: SheetGrid, label_row: int, first_data_row: int, mapped: dict[int, tuple[str, ...]]) -> int | None:
    best: tuple[int, int] | None = None
    for c in range(grid.width):
        if c in mapped:
            continue
        hits = sum(1 for r in range(first_data_row, min(grid.height, first_data_row + 40))
                   if canonical_unit(grid.text(r, c)) or find_unit_in_text(grid.text(r, c))[0])
        header = grid.text(label_row, c)
        if re.search(r"单位|县市区|部门|地区|区域", header):
            hits += 100
        if hits and (best is None or hits > best[1]):
            best = (c, hits)
    return best[0] if best else None


def _parse_wide(grid: SheetGrid, file_name: str, label_row: int) -> SheetResult:
    result = SheetResult(template="wide")
    mapping, last_header_row, label_rows = _wide_columns(grid, label_row)
    header_top = label_row
    while header_top > 0 and any(grid.is_merge_copy(header_top, c) and grid.origin[(header_top, c)][0] < header_top for c in range(len(grid.rows[header_top]))):
        header_top -= 1
    ctx = read_context(grid, header_top, file_name)
    if issue := _period_or_issue(grid, ctx, "调度汇总表"):
        result.issues.append(issue)
        return result
    unit_col = _wide_unit_column(grid, label_row, last_header_row + 1, mapping)
    if unit_col is None:
        result.issues.append(grid.issue(label_row, 0, "error", "调度汇总表中找不到“单位”列，无法确定每行属于哪个单位。", "unit_unknown"))
        return result
    labels = [match_indicator_label(grid.text(label_row, c)) for c in mapping]
    # The same indicator in two columns: each unit keeps the first column's value.
    first_column: dict[str, int] = {}
    for c, keys in mapping.items():
        for key in keys:
            if key not in first_column:
                first_column[key] = c
                continue
            first_ref, second_ref = cell_ref(label_rows[first_column[key]], first_column[key]), cell_ref(label_rows[c], c)
            result.issues.append(Issue(grid.file, grid.name, second_ref, "warning",
                                       f"“{INDICATOR_BY_KEY[key].label}”在表头中出现两次（{first_ref}、{second_ref}），"
                                       f"各单位采用第一列（{column_letter(first_column[key])}列）的值，该列未填时才用{column_letter(c)}列。",
                                       "duplicate_label"))
    for r in range(last_header_row + 1, grid.height):
        row = grid.rows[r]
        if _row_is_blank(row):
            continue
        first_col, first = _first_text(grid, r)
        unit_raw = grid.text(r, unit_col)
        if TOTAL_ROW.match(first) or TOTAL_ROW.match(unit_raw):
            result.issues.append(grid.issue(r, first_col, "info", "合计行，不作为单位数据导入。", "total_row"))
            continue
        if NOTE_ROW.match(first) or FOOTER_ROW.match(first):
            result.issues.append(grid.issue(r, first_col, "info", f"说明或落款行（“{first[:20]}”），未导入。", "note_row"))
            continue
        if not unit_raw:
            result.issues.append(grid.issue(r, unit_col, "error", "此行“单位”为空，无法确定属于哪个单位，未导入。", "unit_unknown"))
            continue
        unit = canonical_unit(unit_raw) or find_unit_in_text(unit_raw)[0]
        if unit is None:
            unit = unit_raw
            result.issues.append(grid.issue(r, unit_col, "warning", f"单位名称“{unit_raw}”不在已知单位名单中，已按原文保留。", "unknown_unit"))
        values: dict[str, tuple[object, str]] = {}
        for c, keys in mapping.items():
            for key, value, ref in _parse_values(grid, keys, [(r, c)], result.issues):
                if key not in values:
                    values[key] = (value, ref)
                elif values[key][0] != value:
                    kept, kept_ref = values[key]
                    result.issues.append(Issue(grid.file, grid.name, ref, "warning",
                                               f"{unit_raw}的“{INDICATOR_BY_KEY[key].label}”填了两个不同的值（{kept_ref}为{kept}，{ref}为{value}），"
                                               f"采用{kept_ref}的值。", "duplicate_label"))
        kind = _form_kind(unit, [m for m in labels if m], ctx.title)
        result.submissions.append(Submission(
            kind=kind, unit=unit, unit_raw=unit_raw, unit_type=unit_type_of(unit), period=ctx.period,
            source_file=file_name, source_sheet=grid.name,
            records=RecordRows(FORM_RECORD_COLUMNS, [(k, v, ref) for k, (v, ref) in values.items()]),
            layout="wide", reported_on=ctx.reported_on, **_flags(ctx),
        ))
    return result


# --- registry (附件1) -------------------------------------------------------------

def _registry_unit(grid: SheetGrid, ctx: SheetContext) -> str:
    return ctx.unit or ctx.unit_raw or "全市"


def _parse_registry_table(grid: SheetGrid, file_name: str, header_row: int) -> SheetResult:
    result = SheetResult(template="registry")
    columns: dict[str, int] = {}
    last_person: str | None = None
    for c, value in enumerate(grid.rows[header_row]):
        key = match_registry_header(value) if isinstance(value, str) else None
        if key == "phone" and last_person:
            columns.setdefault(f"{last_person}_phone", c)
        elif key and key != "phone":
            columns.setdefault(key, c)
            last_person = key if key in ("head", "leader", "cadre") else None
    ctx = read_context(grid, header_row, file_name)
    rows = []
    for r in range(header_row + 1, grid.height):
        if _row_is_blank(grid.rows[r]):
            continue
        first_col, first = _first_text(grid, r)
        if NOTE_ROW.match(first) or FOOTER_ROW.match(first) or TOTAL_ROW.match(first):
            result.issues.append(grid.issue(r, first_col, "info", f"说明行（“{first[:20]}”），未导入。", "note_row"))
            continue
        record = {key: grid.text(r, c) for key, c in columns.items()}
        if not record.get("enterprise"):
            result.issues.append(grid.issue(r, first_col, "error", "此行缺少“公司/企业名称”，未导入。", "registry_incomplete"))
            continue
        record["source_row"] = r + 1
        rows.append(record)
    if rows:
        unit = _registry_unit(grid, ctx)
        result.submissions.append(Submission(
            kind="registry", unit=unit, unit_raw=ctx.unit_raw, unit_type=unit_type_of(unit), period=None,
            source_file=file_name, source_sheet=grid.name,
            records=pd.DataFrame(rows, columns=list(REGISTRY_RECORD_COLUMNS)), layout="table", reported_on=ctx.reported_on,
            **_flags(ctx),
        ))
    return result


_BOARD_LABELS = {
    "公司/企业名称": "enterprise", "公司企业名称": "enterprise", "公司（企业）名称": "enterprise", "公司(企业)名称": "enterprise",
    "企业名称": "enterprise", "公司名称": "enterprise", "责任单位": "responsible_unit",
    "企业主要负责人": "head", "主要负责人": "head", "挂点领导": "leader", "责任干部": "cadre",
}
_BOARD_PHONE_LABELS = frozenset({"联系电话", "电话", "联系方式", "手机", "手机号码"})
_BOARD_PERSONS = ("head", "leader", "cadre")


def _board_label(text: str) -> tuple[str | None, str]:
    """(label key or "phone", value written after the colon) for a notice-board cell; (None, "") otherwise."""
    if "：" in text:
        label, _, inline = text.partition("：")
    else:
        label, _, inline = text.partition(":")
    label = re.sub(r"\s+", "", label)
    if label in _BOARD_LABELS:
        return _BOARD_LABELS[label], inline.strip()
    if label in _BOARD_PHONE_LABELS:
        return "phone", inline.strip()
    return None, ""


def _parse_registry_board(grid: SheetGrid, file_name: str) -> SheetResult | None:
    """Printed notice boards, one below the other: "公司/企业名称：" label cells with the value after
    the colon or in the next cell. Each board starts at its 公司/企业名称 label; every board on the
    sheet becomes one record, its source row that label's row."""
    boards: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    last_person: str | None = None
    for r in range(grid.height):
        row = grid.rows[r]
        for c in range(len(row)):
            if grid.is_merge_copy(r, c) or not isinstance(row[c], str):
                continue
            key, inline = _board_label(row[c])
            if key is None:
                continue
            if key == "phone":
                if last_person is None:
                    continue
                key = f"{last_person}_phone"
            elif key in _BOARD_PERSONS:
                last_person = key
            else:
                last_person = None
            if key == "enterprise" and (current is None or "enterprise" in current):
                current = {"_cell": (r, c)}
                boards.append(current)
            elif current is None:
                current = {"_cell": (r, c)}
                boards.append(current)
            if key == "enterprise":
                current["_cell"] = (r, c)
            value = inline
            if not value:
                for cc in range(c + 1, len(row)):
                    if grid.same_cell((r, c), (r, cc)) or grid.is_merge_copy(r, cc):
                        continue
                    text = grid.text(r, cc)
                    if not text:
                        continue
                    if _board_label(text)[0] is None:
                        value = text
                    break  # the next label: this one was left blank
            current.setdefault(key, value)
    complete = [b for b in boards if b.get("enterprise") and sum(1 for k in b if not k.startswith("_") and b[k]) >= 3]
    if not complete:
        return None
    result = SheetResult(template="registry")
    first_row = min(b["_cell"][0] for b in boards)
    ctx = read_context(grid, first_row, file_name)
    records = []
    for board in boards:
        r, c = board["_cell"]
        if not board.get("enterprise"):
            result.issues.append(grid.issue(r, c, "error", "此公示牌“公司/企业名称”未填写，未导入。请补全后重新报送。", "registry_incomplete"))
            continue
        record = {key: board.get(key, "") for key in REGISTRY_RECORD_COLUMNS if key != "source_row"}
        record["source_row"] = r + 1
        records.append(record)
    unit = _registry_unit(grid, ctx)
    result.submissions.append(Submission(
        kind="registry", unit=unit, unit_raw=ctx.unit_raw, unit_type=unit_type_of(unit), period=None,
        source_file=file_name, source_sheet=grid.name,
        records=pd.DataFrame(records, columns=list(REGISTRY_RECORD_COLUMNS)), layout="board",
        reported_on=ctx.reported_on, **_flags(ctx),
    ))
    return result
