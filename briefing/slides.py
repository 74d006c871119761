"""The meeting screen as a PowerPoint deck (16:9), for a room whose screen is not the dashboard.

Usage::

    from briefing.charts import render_charts
    from briefing.slides import write_pptx

    write_pptx(figures, render_charts(figures), "简报.pptx", dt.date(2023, 9, 25))

Slides, in order: the title (campaign, period, scope, date); 工作总览 (the meeting screen's eight
big figures, ``figures.kpis``, formatted as there); 通报排名 (counties and departments, top 10,
rank changes ↑/↓); 挂图作战 (the map image); 逾期未整改隐患 (top 10 by days overdue);
挂牌督办超期无实质进展 (stalled supervised hazards, top 10); 执法情况 (the penalties chart and
the enforcement totals); 工作批注 (open annotations, 8 a slide) when there are any.

Readable from the back of a room: titles 36 pt, big figures 54 pt, table text 20 pt (at least
18 pt where a long name is shrunk), at most 10 table rows a slide. Every run names a Chinese
face for East Asian text (``a:ea`` 微软雅黑, 黑体 for the big figures). Workbook text goes in
as plain text (never markup); a name too long for its cell is shrunk to 18 pt, wrapped to two
lines and, past that, shortened with "…".

The file is reproducible: core properties and every zip entry are dated ``issue_date``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from briefing.text import plain_markdown
from components.i18n import indicator_label, supervision_label
from components.kpi import format_count, format_rate, format_wan
from metrics.briefing import BriefingFigures
from metrics.overview import rank_change_text

__all__ = ["SLIDE_TITLES", "write_pptx", "slide_titles"]

CAMPAIGN_TITLE = "赣州市重大事故隐患专项排查整治"
SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in, PowerPoint's own 16:9
TITLE_PT, FIGURE_PT, LABEL_PT, TABLE_PT, MIN_TABLE_PT = 36, 54, 24, 20, 18
TOP_ROWS = 10          # table rows a slide (the meeting screen's top 10)
ANNOTATION_ROWS = 8    # annotations are longer: fewer a slide
FONT_LATIN = "Microsoft YaHei"
FONT_EA = "微软雅黑"
FONT_EA_FIGURES = "黑体"
RED = RGBColor(0xB7, 0x1C, 0x1C)
UP = RGBColor(0x1B, 0x5E, 0x20)
BLACK = RGBColor(0x21, 0x21, 0x21)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
GREY = RGBColor(0x9E, 0x9E, 0x9E)
HEADER_FILL = RGBColor(0x21, 0x21, 0x21)
MISSING = "—"
MARGIN = Inches(0.5)
BODY_TOP = Inches(1.45)

SLIDE_TITLES = {
    "overview": "工作总览",
    "ranking": "通报排名",
    "map": "挂图作战",
    "overdue": "逾期未整改隐患（逾期最久的前10条）",
    "stalled": "挂牌督办超期无实质进展",
    "enforcement": "执法情况",
    "annotations": "工作批注",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(value: object) -> str:
    """Workbook or officer text as one line of plain text (XML refuses control characters)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return " ".join(_CONTROL.sub("", str(value)).split())


def _text_width(text: str, size_pt: float) -> float:
    """Approximate width in points: CJK and full-width characters one em, others about half."""
    return sum(size_pt * (1.0 if ord(ch) > 0x2E7F else 0.55) for ch in text)


def _figure_pt(number: str, width_pt: float) -> int:
    """The big figure's size: FIGURE_PT unless "253.60" or "44.3%" would wrap in the card. Bold
    digits and "%" run wider than ``_text_width``'s half em (LibreOffice's stand-in for 黑体 wrapped
    both at 54 pt), so they are measured at 0.7 em, with room for the box's insets."""
    em = sum(1.0 if ord(ch) > 0x2E7F else 0.7 for ch in number)
    return max(MIN_TABLE_PT, min(FIGURE_PT, int((width_pt - 20) / max(em, 1))))


def _fit(text: str, width_pt: float, size_pt: int = TABLE_PT, max_lines: int = 2) -> tuple[str, int]:
    """The text and font size that fit ``width_pt`` in ``max_lines``: one line at ``size_pt`` if it
    fits, else 18 pt wrapped, else shortened with "…"."""
    if _text_width(text, size_pt) <= width_pt:
        return text, size_pt
    room = width_pt * max_lines * 0.92  # wrapping breaks lines before they are full
    if _text_width(text, MIN_TABLE_PT) <= room:
        return text, MIN_TABLE_PT
    while text and _text_width(text + "…", MIN_TABLE_PT) > room:
        text = text[:-1]
    return text + "…", MIN_TABLE_PT


def _style_run(run, size_pt: float, bold: bool = False, color: RGBColor = BLACK, ea: str = FONT_EA) -> None:
    font = run.font
    font.size = Pt(size_pt)
    font.bold = bold
    font.color.rgb = color
    font.name = FONT_LATIN
    r_pr = run._r.get_or_add_rPr()
    for old in r_pr.findall(qn("a:ea")):
        r_pr.remove(old)
    east_asian = r_pr.makeelement(qn("a:ea"), {"typeface": ea})
    r_pr.find(qn("a:latin")).addnext(east_asian)


def _set_text(text_frame, lines: list[tuple[str, float, bool, RGBColor]], align=PP_ALIGN.LEFT,
              ea: str = FONT_EA, anchor=MSO_ANCHOR.TOP) -> None:
    """Replace ``text_frame``'s text by ``lines`` of (text, size, bold, colour), one paragraph each."""
    text_frame.clear()
    text_frame.word_wrap = True
    text_frame.vertical_anchor = anchor
    for i, (text, size, bold, color) in enumerate(lines):
        paragraph = text_frame.paragraphs[0] if i == 0 else text_frame.add_paragraph()
        paragraph.alignment = align
        run = paragraph.add_run()
        run.text = text
        _style_run(run, size, bold, color, ea)


def _textbox(slide, left, top, width, height, lines, align=PP_ALIGN.LEFT, ea: str = FONT_EA, anchor=MSO_ANCHOR.TOP):
    box = slide.shapes.add_textbox(left, top, width, height)
    _set_text(box.text_frame, lines, align, ea, anchor)
    return box


def _slide(prs, title: str, subtitle: str):
    """A "Title Only" slide: the title in a red band across the top, the scope and period at its right."""
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    band = slide.shapes.add_shape(1, 0, 0, SLIDE_WIDTH, Inches(1.2))  # 1: rectangle
    band.fill.solid()
    band.fill.fore_color.rgb = RED
    band.line.fill.background()
    title_shape = slide.shapes.title
    title_shape.left, title_shape.top, title_shape.width, title_shape.height = MARGIN, Inches(0.1), Inches(8.8), Inches(1.0)
    _set_text(title_shape.text_frame, [(title, TITLE_PT, True, WHITE)], anchor=MSO_ANCHOR.MIDDLE)
    # Keep the title in front of the band.
    tree = slide.shapes._spTree
    tree.remove(title_shape._element)
    tree.append(title_shape._element)
    _textbox(slide, Inches(9.3), Inches(0.1), Inches(3.55), Inches(1.0), [(subtitle, TABLE_PT, False, WHITE)],
             align=PP_ALIGN.RIGHT, anchor=MSO_ANCHOR.MIDDLE)
    return slide


def _table(slide, left, top, width, headers: list[str], rows: list[list[str]], widths: list[float],
           colors: list[list[RGBColor | None]] | None = None, max_lines: int = 2):
    """A table of plain texts; ``widths`` are the columns' shares of ``width``."""
    row_height = Inches(0.47)  # 11 rows (header and 10) below the title band: 5.2 in
    shape = slide.shapes.add_table(len(rows) + 1, len(headers), left, top, width, row_height * (len(rows) + 1))
    table = shape.table
    column_widths = [Emu(int(width * share)) for share in widths]
    for i, column_width in enumerate(column_widths):
        table.columns[i].width = column_width
    for j, header in enumerate(headers):
        cell = table.cell(0, j)
        cell.fill.solid()
        cell.fill.fore_color.rgb = HEADER_FILL
        _set_text(cell.text_frame, [(header, TABLE_PT, True, WHITE)])
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.fill.solid()
            cell.fill.fore_color.rgb = WHITE if i % 2 else RGBColor(0xF2, 0xF2, 0xF2)
            cell.margin_top = cell.margin_bottom = Inches(0.04)
            inner = column_widths[j] / 12700 - 14  # EMU → pt, less the cell's side margins
            text, size = _fit(value, inner, max_lines=max_lines)
            color = (colors[i - 1][j] if colors else None) or BLACK
            _set_text(cell.text_frame, [(text, size, color in (RED, UP), color)], anchor=MSO_ANCHOR.MIDDLE)
    for i in range(len(rows) + 1):
        table.rows[i].height = row_height
    return shape


def _empty(slide, text: str = "无") -> None:
    _textbox(slide, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, Inches(1.0), [(text, LABEL_PT, False, BLACK)])


def _title_slide(prs, figures: BriefingFigures, issue_date: dt.date) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    band = slide.shapes.add_shape(1, 0, Inches(2.0), SLIDE_WIDTH, Inches(2.2))
    band.fill.solid()
    band.fill.fore_color.rgb = RED
    band.line.fill.background()
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, Inches(2.1), SLIDE_WIDTH - 2 * MARGIN, Inches(2.0)
    _set_text(title.text_frame, [(CAMPAIGN_TITLE, 48, True, WHITE)], align=PP_ALIGN.CENTER, anchor=MSO_ANCHOR.MIDDLE)
    tree = slide.shapes._spTree
    tree.remove(title._element)
    tree.append(title._element)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = MARGIN, Inches(4.6), SLIDE_WIDTH - 2 * MARGIN, Inches(2.2)
    year, month = figures.period.split("-")
    _set_text(subtitle.text_frame, [
        (f"{year}年{int(month)}月工作调度情况", TITLE_PT, True, BLACK),
        (f"范围：{figures.scope_label}    统计截至 {figures.as_of:%Y-%m-%d}", LABEL_PT, False, BLACK),
        (f"{issue_date.year}年{issue_date.month}月{issue_date.day}日", LABEL_PT, False, BLACK),
    ], align=PP_ALIGN.CENTER)


def overview_figures(figures: BriefingFigures) -> list[tuple[str, str, bool]]:
    """The meeting screen's eight big figures: (label, text as on the screen, shown in red)."""
    kpis = figures.kpis
    return [
        ("排查重大隐患", format_count(kpis.hazards_found), False),
        ("已整改", format_count(kpis.rectified), False),
        ("整改率", format_rate(kpis.rectification_rate), False),
        ("逾期未整改", format_count(kpis.overdue), kpis.overdue > 0),
        ("挂牌督办", format_count(kpis.supervised), False),
        ("行政处罚（次）", format_count(kpis.penalties), False),
        ("罚款（万元）", format_wan(kpis.fines_wan), False),
        ("责令停产整顿（家）", format_count(kpis.suspensions), False),
    ]


def _overview_slide(prs, figures: BriefingFigures, subtitle: str) -> None:
    slide = _slide(prs, SLIDE_TITLES["overview"], subtitle)
    card_width, card_height, gap = Inches(2.9), Inches(2.55), Inches(0.2)
    for i, (label, number, alert) in enumerate(overview_figures(figures)):
        left = MARGIN + (card_width + gap) * (i % 4)
        top = BODY_TOP + Inches(0.25) + (card_height + gap) * (i // 4)
        card = slide.shapes.add_shape(1, left, top, card_width, card_height)
        card.fill.solid()
        card.fill.fore_color.rgb = WHITE
        card.line.color.rgb = BLACK
        card.line.width = Pt(3)
        inner = card_width - Inches(0.2)
        _textbox(slide, left + Inches(0.1), top + Inches(0.15), inner, Inches(0.7),
                 [(label, LABEL_PT if _text_width(label, LABEL_PT) <= inner / 12700 - 14 else TABLE_PT, False, BLACK)])
        _textbox(slide, left + Inches(0.1), top + Inches(0.9), card_width - Inches(0.2), Inches(1.4),
                 [(number, _figure_pt(number, inner / 12700), True, RED if alert else BLACK)], ea=FONT_EA_FIGURES,
                 anchor=MSO_ANCHOR.MIDDLE)


def _ranking_slide(prs, figures: BriefingFigures, subtitle: str) -> None:
    slide = _slide(prs, SLIDE_TITLES["ranking"], subtitle)
    half = Emu((SLIDE_WIDTH - 3 * MARGIN) // 2)
    for k, (heading, ranking) in enumerate((("县（市、区）按排查隐患数", figures.county_ranking),
                                            ("市直部门按排查隐患数", figures.department_ranking))):
        left = MARGIN + k * (half + MARGIN)
        _textbox(slide, left, BODY_TOP, half, Inches(0.6), [(heading, LABEL_PT, True, BLACK)])
        top = ranking.head(TOP_ROWS)
        if top.empty:
            _textbox(slide, left, BODY_TOP + Inches(0.7), half, Inches(0.6), [("无", LABEL_PT, False, BLACK)])
            continue
        changes = [rank_change_text(c) for c in top["rank_change"]]
        rows = [[str(int(r)), _plain(u), format_count(v), c] for r, u, v, c in zip(top["rank"], top["unit"], top["value"], changes)]
        colors = [[None, None, None, UP if c.startswith("↑") else RED if c.startswith("↓") else None] for c in changes]
        _table(slide, left, BODY_TOP + Inches(0.65), half, ["名次", "单位", "数量", "变化"], rows, [0.16, 0.48, 0.18, 0.18],
               colors, max_lines=1)


def _picture_slide(prs, title: str, subtitle: str, image: bytes | None) -> None:
    slide = _slide(prs, title, subtitle)
    if image is None:
        _empty(slide, "当前范围内没有隐患，无可显示的数据。")
        return
    height = SLIDE_HEIGHT - BODY_TOP - Inches(0.2)
    picture = slide.shapes.add_picture(io.BytesIO(image), 0, BODY_TOP, height=height)
    picture.left = int((SLIDE_WIDTH - picture.width) / 2)


def _overdue_slide(prs, figures: BriefingFigures, subtitle: str) -> None:
    slide = _slide(prs, SLIDE_TITLES["overdue"], subtitle)
    overdue = figures.overdue.head(TOP_ROWS)  # most days overdue first (metrics.briefing)
    if overdue.empty:
        _empty(slide)
        return
    rows = [[_plain(u), _plain(e), _plain(d), str(-int(days))]
            for u, e, d, days in zip(overdue["unit"], overdue["enterprise"], overdue["description"], overdue["days_to_deadline"])]
    _table(slide, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, ["单位", "企业", "隐患", "逾期天数"], rows,
           [0.17, 0.36, 0.33, 0.14], max_lines=1)


def _stalled_slide(prs, figures: BriefingFigures, subtitle: str) -> None:
    slide = _slide(prs, SLIDE_TITLES["stalled"], subtitle)
    stalled = figures.stalled.head(TOP_ROWS)
    if stalled.empty:
        _empty(slide)
        return
    rows = [[_plain(u), _plain(e), supervision_label(level), str(int(days))]
            for u, e, level, days in zip(stalled["unit"], stalled["enterprise"], stalled["supervision_level"],
                                         stalled["days_supervised"])]
    _table(slide, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, ["单位", "企业", "督办层级", "督办天数"], rows,
           [0.22, 0.48, 0.15, 0.15], max_lines=1)


def enforcement_rows(figures: BriefingFigures) -> list[list[str]]:
    """The enforcement totals as shown: label, cumulative, this period's increment ("—" when not reported)."""
    rows = []
    for key, cumulative, increment in zip(figures.enforcement_totals["key"], figures.enforcement_totals["cumulative"],
                                          figures.enforcement_totals["increment"]):
        formatter = format_wan if key == "fines_wan" else format_count
        rows.append([indicator_label(key), formatter(cumulative), formatter(increment)])
    return rows


def _enforcement_slide(prs, figures: BriefingFigures, subtitle: str, image: bytes | None) -> None:
    slide = _slide(prs, SLIDE_TITLES["enforcement"], subtitle)
    table_left = MARGIN
    if image is not None:
        height = SLIDE_HEIGHT - BODY_TOP - Inches(0.2)
        picture = slide.shapes.add_picture(io.BytesIO(image), MARGIN, BODY_TOP, height=height)
        if picture.width > Inches(5.6):  # a short chart: keep it in the left half
            picture.width, picture.height = Inches(5.6), int(picture.height * Inches(5.6) / picture.width)
        table_left = picture.left + picture.width + Inches(0.3)
    rows = enforcement_rows(figures)
    if not rows:
        return
    _table(slide, table_left, BODY_TOP, SLIDE_WIDTH - table_left - MARGIN, ["执法指标", "累计", "本月新增"],
           rows[:TOP_ROWS], [0.56, 0.22, 0.22], max_lines=2)


def _annotation_slides(prs, figures: BriefingFigures, subtitle: str) -> None:
    notes = figures.annotations
    if notes.empty or "text" not in notes.columns:
        return
    if "status" in notes.columns:
        notes = notes[notes["status"] == "open"]
    rows = [[_plain(row.get("unit")) or "全市", _plain(plain_markdown(row.get("text"))), _plain(row.get("author"))]
            for _, row in notes.iterrows()]
    pages = [rows[i:i + ANNOTATION_ROWS] for i in range(0, len(rows), ANNOTATION_ROWS)]
    for n, page in enumerate(pages, start=1):
        title = SLIDE_TITLES["annotations"] + (f"（{n}/{len(pages)}）" if len(pages) > 1 else "")
        slide = _slide(prs, title, subtitle)
        _table(slide, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, ["单位", "批注", "批注人"], page, [0.18, 0.67, 0.15],
               max_lines=2)


def slide_titles(figures: BriefingFigures) -> list[str]:
    """The titles of the deck's slides after the title slide, in order."""
    titles = [SLIDE_TITLES[name] for name in ("overview", "ranking", "map", "overdue", "stalled", "enforcement")]
    notes = figures.annotations
    if not notes.empty and "text" in notes.columns:
        count = int((notes["status"] == "open").sum()) if "status" in notes.columns else len(notes)
        pages = -(-count // ANNOTATION_ROWS)
        titles += [SLIDE_TITLES["annotations"] + (f"（{n}/{pages}）" if pages > 1 else "") for n in range(1, pages + 1)]
    return titles


def write_pptx(figures: BriefingFigures, charts: dict[str, bytes], path: str | Path, issue_date: dt.date) -> Path:
    """Write the deck for ``figures`` to ``path``; ``charts`` are ``briefing.charts.render_charts`` images."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    year, month = figures.period.split("-")
    subtitle = f"{figures.scope_label} · {year}年{int(month)}月"
    _title_slide(prs, figures, issue_date)
    _overview_slide(prs, figures, subtitle)
    _ranking_slide(prs, figures, subtitle)
    _picture_slide(prs, SLIDE_TITLES["map"], subtitle, charts.get("map"))
    _overdue_slide(prs, figures, subtitle)
    _stalled_slide(prs, figures, subtitle)
    _enforcement_slide(prs, figures, subtitle, charts.get("enforcement"))
    _annotation_slides(prs, figures, subtitle)
    stamp = dt.datetime(issue_date.year, issue_date.month, issue_date.day)
    core = prs.core_properties
    core.title = f"{CAMPAIGN_TITLE} {year}年{int(month)}月 {figures.scope_label}"
    core.author = core.last_modified_by = "赣州市安委办"
    core.created = core.modified = stamp
    core.last_printed = stamp
    core.revision = 1
    buffer = io.BytesIO()
    prs.save(buffer)
    path = Path(path)
    path.write_bytes(_dated_zip(buffer.getvalue(), stamp))
    return path


def _dated_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The package with every entry dated ``stamp`` (python-pptx dates them with the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
