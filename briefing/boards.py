"""Print-ready notice boards (附件1 安全生产责任公示牌) from the campaign registry.

One enterprise per A4 portrait page, in the template's order: the title, then a bordered table of
公司/企业名称 · 责任单位 · 企业主要负责人 + 联系电话 · 挂点领导 + 联系电话 · 责任干部 + 联系电话.
Values come from ``loaders.Campaign.registry`` (one row per unit + enterprise). Type is large for a
wall; a long value first shrinks, then wraps, and a whole board that still does not fit one page is
scaled down with it, so nothing is cut. A missing value is a blank line to fill in by hand.

Units come in the canonical order of ``loaders.reference`` (names no unit list knows last, by name),
enterprises by name. The same registry gives byte-identical PDFs (ReportLab ``invariant``).

- :func:`boards_pdf` — one PDF as bytes (one unit, or every unit), e.g. for a download button;
- :func:`write_boards` — one ``公示牌_<unit>.pdf`` per unit into a folder;
- :func:`resolve_unit` — a unit as an officer writes it (alias, spacing) → the registry's unit.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepInFrame, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from loaders.reference import COUNTIES, DEPARTMENTS, REGISTRY_FIELDS, ZONES, canonical_unit

from .fonts import FontNames, register_fonts

__all__ = ["BOARD_TITLE", "TEMPLATE_ROWS", "BoardFile", "BoardsError", "board_file_name", "board_units",
           "boards_pdf", "resolve_unit", "write_boards"]

BOARD_TITLE = "安全生产责任公示牌"

# The template's lines (campaign plan, 附件1) as printed, in its order: (label, registry field) pairs.
# The company and the responsible unit share the template's first line; on the board each gets a
# full-width row so that long names stay large.
TEMPLATE_ROWS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("公司/企业名称：", "enterprise"),),
    (("责任单位：", "responsible_unit"),),
    (("企业主要负责人：", "head"), ("联系电话：", "head_phone")),
    (("挂 点 领 导：", "leader"), ("联系电话：", "leader_phone")),
    (("责 任 干 部：", "cadre"), ("联系电话：", "cadre_phone")),
)
assert {field for row in TEMPLATE_ROWS for _, field in row} == set(REGISTRY_FIELDS)

UNIT_ORDER = (*COUNTIES, *ZONES, *DEPARTMENTS)
NO_UNIT = "未注明单位"

# Page geometry and type sizes (points). A4 portrait, 15 mm margins.
MARGIN = 12 * mm
TITLE_SIZE = 40
LABEL_SIZE = 17
VALUE_SIZES = {"enterprise": (30, 16), "responsible_unit": (28, 16)}  # (largest, smallest before wrapping)
PERSON_SIZES = (28, 14)
PHONE_SIZES = (24, 12)
PADDING = 7
FRAME_COLOUR = colors.black
LABEL_BACKGROUND = colors.Color(0.93, 0.93, 0.93)
MARK_SIZE = 8

_FILE_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\s]+')
_MISSING_TEXT = {"nan", "none", "nat", "<na>", "null"}


class BoardsError(ValueError):
    """The boards asked for cannot be made; ``str(error)`` is Chinese, for the officer."""


@dataclass(frozen=True)
class BoardFile:
    """A PDF written by :func:`write_boards`: one page per board."""

    unit: str
    path: Path
    boards: int
    size_bytes: int


# --- which boards -----------------------------------------------------------------------

def board_units(registry: pd.DataFrame) -> list[str]:
    """The units with at least one board, in the canonical order (unknown names last, by name)."""
    units = set(_units_column(registry))
    return sorted(units, key=_unit_rank)


def resolve_unit(registry: pd.DataFrame, name: str) -> str:
    """The registry's unit for ``name`` written loosely (an alias, spaces, 赣州市 prefix, or a name
    kept as written such as 全市). Raises :class:`BoardsError` when no board comes from it."""
    units = board_units(registry)
    wanted = canonical_unit(name)
    plain = re.sub(r"\s+", "", name or "")
    match = wanted if wanted in units else next((u for u in units if re.sub(r"\s+", "", u) == plain), None)
    if match is not None:
        return match
    if not units:
        raise BoardsError("还没有收到任何公示牌信息（附件1），无法生成公示牌。")
    listed = "、".join(units[:20]) + (f" 等{len(units)}个" if len(units) > 20 else "")
    if wanted is not None:
        raise BoardsError(f"{wanted}没有报送公示牌信息（附件1）。有公示牌的单位：{listed}")
    raise BoardsError(f"无法识别单位“{name}”。有公示牌的单位：{listed}")


def board_file_name(unit: str) -> str:
    """``公示牌_<unit>.pdf``, with characters a file name cannot hold replaced by “_”."""
    return f"公示牌_{_FILE_UNSAFE.sub('_', unit).strip('_.') or NO_UNIT}.pdf"


# --- output ---------------------------------------------------------------------------------

def boards_pdf(registry: pd.DataFrame, unit: str | None = None) -> bytes:
    """One PDF, one page per board: the boards of ``unit`` (written loosely, see :func:`resolve_unit`),
    or of every unit in order when None. Raises :class:`BoardsError` when there is no board to print."""
    if unit is not None:
        units = [resolve_unit(registry, unit)]
    else:
        units = board_units(registry)
        if not units:
            raise BoardsError("还没有收到任何公示牌信息（附件1），无法生成公示牌。")
    entries = _entries(registry)
    title = f"{BOARD_TITLE}（{units[0]}）" if len(units) == 1 else BOARD_TITLE
    return _render([(u, row) for u in units for row in entries[u]], title)


def write_boards(registry: pd.DataFrame, out_dir: Path | str, unit: str | None = None) -> list[BoardFile]:
    """Write ``公示牌_<unit>.pdf`` into ``out_dir`` (created) for ``unit`` or for every unit with
    boards, in unit order. An empty registry writes nothing and returns []; an unknown unit raises
    :class:`BoardsError`."""
    if unit is None and not len(registry):
        return []
    units = [resolve_unit(registry, unit)] if unit is not None else board_units(registry)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = _entries(registry)
    written: list[BoardFile] = []
    used: set[str] = set()
    for name in units:
        file_name = board_file_name(name)
        stem, number = file_name.removesuffix(".pdf"), 2
        while file_name in used:  # two unknown names that differ only in unsafe characters
            file_name, number = f"{stem}_{number}.pdf", number + 1
        used.add(file_name)
        data = _render([(name, row) for row in entries[name]], f"{BOARD_TITLE}（{name}）")
        path = out_dir / file_name
        path.write_bytes(data)
        written.append(BoardFile(unit=name, path=path, boards=len(entries[name]), size_bytes=len(data)))
    return written


# --- registry rows -----------------------------------------------------------------------

def _units_column(registry: pd.DataFrame) -> list[str]:
    if "unit" not in registry:
        return [NO_UNIT] * len(registry)
    return [_text(u) or NO_UNIT for u in registry["unit"]]


def _unit_rank(unit: str) -> tuple[int, str]:
    return (UNIT_ORDER.index(unit), "") if unit in UNIT_ORDER else (len(UNIT_ORDER), unit)


def _entries(registry: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
    """Per unit, its boards as display texts, by enterprise name (stable for equal names)."""
    rows: dict[str, list[dict[str, str]]] = {}
    columns = {field: registry[field] if field in registry else pd.Series([None] * len(registry))
               for field in REGISTRY_FIELDS}
    for position, unit in enumerate(_units_column(registry)):
        rows.setdefault(unit, []).append({field: _text(values.iloc[position]) for field, values in columns.items()})
    return {unit: sorted(boards, key=lambda board: board["enterprise"]) for unit, boards in rows.items()}


def _text(value: object) -> str:
    """A cell as printed: blank for missing (None, NaN, NA, “nan”), whole numbers without “.0”,
    runs of whitespace (a clerk's line breaks) as one space."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", " ", str(value)).strip()
    return "" if text.lower() in _MISSING_TEXT else text


# --- drawing ---------------------------------------------------------------------------------

class _FillInLine(Flowable):
    """A blank to fill in by hand: a thin line along the bottom of one text line."""

    def __init__(self, height: float):
        super().__init__()
        self.height = height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.height

    def draw(self) -> None:
        self.canv.setLineWidth(0.6)
        self.canv.line(0, 2, self.width, 2)


def _fitted(text: str, font: str, width: float, sizes: tuple[int, int], max_lines: int = 1,
            one_line_floor: int | None = None) -> Flowable:
    """``text`` on one line at the largest size from ``sizes[0]`` down to ``one_line_floor``, else in at
    most ``max_lines`` lines at the largest size down to ``sizes[1]``; at that smallest size it wraps
    onto as many lines as it needs. Blank text is a line to fill in by hand."""
    largest, smallest = sizes
    if not text:
        return _FillInLine(largest * 1.25)
    markup = escape(text)  # workbook text never reaches ReportLab's markup parser as markup
    attempts = [(1, size) for size in range(largest, (one_line_floor or largest + 1) - 1, -1)]
    attempts += [(max_lines, size) for size in range(largest, smallest - 1, -1)]
    for lines, size in attempts:
        style = ParagraphStyle(f"v{size}", fontName=font, fontSize=size, leading=size * 1.25,
                               wordWrap="CJK", alignment=TA_LEFT)
        paragraph = Paragraph(markup, style)
        _, height = paragraph.wrap(width, 10_000)
        if height <= lines * style.leading + 0.01:
            return paragraph
    return paragraph


def _board(row: dict[str, str], fonts: FontNames, frame_width: float, frame_height: float) -> list[Flowable]:
    label_style = ParagraphStyle("label", fontName=fonts.heading, fontSize=LABEL_SIZE, leading=LABEL_SIZE * 1.25,
                                 wordWrap="CJK", alignment=TA_LEFT)
    first_label = max(stringWidth(label, fonts.heading, LABEL_SIZE) for line in TEMPLATE_ROWS for label, _ in line[:1])
    second_label = max(stringWidth(label, fonts.heading, LABEL_SIZE) for line in TEMPLATE_ROWS for label, _ in line[1:])
    widths = [math.ceil(first_label) + 2 * PADDING + 2, 0.0, math.ceil(second_label) + 2 * PADDING + 2, 0.0]
    rest = frame_width - widths[0] - widths[2]
    widths[1], widths[3] = rest * 0.42, rest * 0.58
    inner = [w - 2 * PADDING for w in widths]

    span_width = sum(widths[1:]) - 2 * PADDING
    cells, cell_widths, spans = [], [], []
    for index, line in enumerate(TEMPLATE_ROWS):
        (label, field), *second = line
        if not second:
            value = _fitted(row[field], fonts.body, span_width, VALUE_SIZES[field], max_lines=3, one_line_floor=22)
            cells.append([Paragraph(escape(label), label_style), value, "", ""])
            cell_widths.append([inner[0], span_width])
            spans.append(("SPAN", (1, index), (3, index)))
        else:
            ((phone_label, phone_field),) = second
            cells.append([Paragraph(escape(label), label_style),
                          _fitted(row[field], fonts.body, inner[1], PERSON_SIZES, max_lines=2, one_line_floor=20),
                          Paragraph(escape(phone_label), label_style),
                          _fitted(row[phone_field], fonts.body, inner[3], PHONE_SIZES, max_lines=2, one_line_floor=18)])
            cell_widths.append(inner)

    title_style = ParagraphStyle("title", fontName=fonts.heading, fontSize=TITLE_SIZE, leading=TITLE_SIZE * 1.3,
                                 alignment=TA_CENTER)
    title = Paragraph(escape(BOARD_TITLE), title_style)
    title_gap = 12 * mm
    _, title_height = title.wrap(frame_width, frame_height)
    # Rows share the page below the title; a row whose text needs more takes it.
    needed = [max(cell.wrap(w, 10_000)[1] for cell, w in zip(row_cells, row_widths)) + 2 * PADDING
              for row_cells, row_widths in zip(cells, cell_widths)]
    share = (frame_height - title_height - title_gap - 2) / len(cells)
    heights = [max(need, share) for need in needed]
    table = Table(cells, colWidths=widths, rowHeights=heights)
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 2, FRAME_COLOUR),
        ("INNERGRID", (0, 0), (-1, -1), 0.8, FRAME_COLOUR),
        ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
        ("BACKGROUND", (2, 2), (2, -1), LABEL_BACKGROUND),
        ("FONTNAME", (0, 0), (-1, -1), fonts.body),  # the spanned empty cells: no base-14 font
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PADDING),
        *spans,
    ]))
    return [title, Spacer(1, title_gap), table]


def _render(boards: Sequence[tuple[str, dict[str, str]]], title: str) -> bytes:
    """The PDF of ``boards`` ((unit, row) pairs), one page each."""
    fonts = register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 5 * mm,
                            bottomMargin=MARGIN + 3 * mm, title=title, author="hazardboard", creator="hazardboard",
                            subject="赣州市重大事故隐患专项排查整治 附件1", invariant=1,
                            initialFontName=fonts.body)
    # The page frame keeps 6 pt of padding on each side; a board fills what is inside.
    width, height = doc.width - 12, doc.height - 13
    story: list[Flowable] = []
    counts: dict[str, int] = {}
    for unit, _ in boards:
        counts[unit] = counts.get(unit, 0) + 1
    marks, seen = [], dict.fromkeys(counts, 0)
    for index, (unit, row) in enumerate(boards):
        seen[unit] += 1
        marks.append(f"{unit}  第 {seen[unit]} / {counts[unit]} 张")
        if index:
            story.append(PageBreak())
        # A board that still does not fit (a name of hundreds of characters) is scaled down whole.
        story.append(KeepInFrame(width, height, _board(row, fonts, width, height), mode="shrink"))

    def page_mark(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(fonts.body, MARK_SIZE)
        canvas.setFillColor(colors.grey)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, marks[canvas.getPageNumber() - 1])
        canvas.restoreState()

    doc.build(story, onFirstPage=page_mark, onLaterPages=page_mark)
    return buffer.getvalue()
