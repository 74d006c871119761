"""The briefing as a PDF, with ReportLab: the same content and look as the Word document.

CJK TrueType faces are embedded as subsets (``briefing.fonts``: a Song face for text, a Hei face for
headings and table heads). Every text is escaped before it becomes a ReportLab paragraph (workbook
text may hold ``<`` and ``&``), and wraps with ``wordWrap='CJK'``. ``invariant=1``: the same inputs
give byte-identical files.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import platypus
from reportlab.lib import textsplit
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from briefing.fonts import register_fonts
from briefing.text import BriefingDocument, Chart, Paragraph, Table

# Chinese line breaking (禁则). ReportLab's CJK wrap of a one-font paragraph breaks anywhere and
# repairs one character at most, so a line could start with "，" or "、" or end on "（" before a
# number. ``_word_split`` does it for this module's paragraphs (``_Paragraph``), leaving ReportLab
# itself unchanged for the rest of the process (the notice boards): greedy, breaking only where a
# break is allowed, a closing mark may hang in the right margin.
_CANNOT_START = set(textsplit.ALL_CANNOT_START) | set("，。、；：？！”’）》〉」』】〕％%")
_CANNOT_END = set(textsplit.ALL_CANNOT_END) | set("（“‘《〈「『【〔")
_WORD = re.compile(r"[0-9A-Za-z.%+\-_/]")


def _may_break(before: str, after: str) -> bool:
    if after in _CANNOT_START or before in _CANNOT_END:
        return False
    return not (_WORD.match(before) and _WORD.match(after))


def _word_split(word: str, max_widths: list[float], font_name: str, font_size: float) -> list[list]:
    """Lines of ``word`` as ReportLab's ``textsplit.wordSplit`` returns them: [[extra space, text], …]."""
    widths = [stringWidth(ch, font_name, font_size) for ch in word]
    lines, start = [], 0
    while start < len(word):
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        used, end, last_break = 0.0, start, None
        while end < len(word) and used + widths[end] <= limit + 1e-6:
            used += widths[end]
            end += 1
            if end < len(word) and _may_break(word[end - 1], word[end]):
                last_break = end
        if end < len(word):
            if word[end] in _CANNOT_START and end > start and (end + 1 == len(word) or
                                                               _may_break(word[end], word[end + 1])):
                end += 1                        # one closing mark hangs in the margin
            elif last_break is not None and last_break > start:
                end = last_break                # back to the last allowed break
            end = max(end, start + 1)
        text = word[start:end].strip()
        lines.append([limit - stringWidth(text, font_name, font_size), text])
        start = end
        while start < len(word) and word[start] == " ":
            start += 1
    return lines


class _Paragraph(platypus.Paragraph):
    """A paragraph of one font wrapped by ``_word_split`` (others: ReportLab's CJK wrap)."""

    def breakLinesCJK(self, maxWidths):
        frags = self.frags
        if (len(frags) != 1 or hasattr(frags[0], "cbDefn") or self.style.endDots or self.bulletText
                or getattr(self, "_splitpara", 0)):
            return super().breakLinesCJK(maxWidths)
        widths = list(maxWidths) if isinstance(maxWidths, (list, tuple)) else [maxWidths]
        self.height = 0
        frag = frags[0]
        text = frag.text if hasattr(frag, "text") else "".join(getattr(frag, "words", []))
        lines = _word_split(text, widths, frag.fontName, frag.fontSize)
        return frag.clone(kind=0, lines=[(space, [line]) for space, line in lines],
                          ascent=frag.fontSize, descent=-0.2 * frag.fontSize)

RED = colors.HexColor("#E60012")
BODY_PT = 16
TABLE_PT = 10.5
MARGINS_CM = (3.7, 3.5, 2.8, 2.6)  # top, bottom, left, right: the Word document's
TEXT_WIDTH = A4[0] - (MARGINS_CM[2] + MARGINS_CM[3]) * cm
CHART_WIDTH = 15 * cm
# The page's text height less the frame's padding, the spacer and a two-line caption.
MAX_CHART_HEIGHT = A4[1] - (MARGINS_CM[0] + MARGINS_CM[1]) * cm - 72


def write_pdf(document: BriefingDocument, charts: dict[str, bytes], path: str | Path) -> Path:
    """Write ``document`` (charts by key; unknown keys ignored, missing ones skipped) to ``path``."""
    styles = _styles()
    story: list = []
    story += _title_block(document, styles)
    story.append(_para(document.headline, styles["body"]))
    for section in document.sections:
        story.append(_para(section.heading, styles["heading"]))
        for block in section.blocks:
            if isinstance(block, Paragraph):
                story.append(_para(block.text, styles["note" if block.style == "note" else "body"]))
            elif isinstance(block, Table):
                story += _table(block, styles)
            elif isinstance(block, Chart) and block.key in charts:
                story.append(_chart(charts[block.key], block.caption, styles))
    story += _distribution(document, styles)
    path = Path(path)
    template = platypus.SimpleDocTemplate(
        str(path), pagesize=A4, topMargin=MARGINS_CM[0] * cm, bottomMargin=MARGINS_CM[1] * cm,
        leftMargin=MARGINS_CM[2] * cm, rightMargin=MARGINS_CM[3] * cm, invariant=1,
        initialFontName=styles["body"].fontName,  # else an unembedded Helvetica is referenced on every page
        title=f"{document.title}（{document.issue_line}）", author=document.organisation,
        subject=f"{document.scope_label} {document.period}", creator="hazardboard")
    footer = _footer(styles["footer"].fontName)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return path


def _styles() -> dict[str, ParagraphStyle]:
    fonts = register_fonts()
    song, hei = fonts.body, fonts.heading
    base = dict(fontName=song, fontSize=BODY_PT, leading=28, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", fontName=hei, fontSize=28, leading=42, textColor=RED, alignment=TA_CENTER,
                                wordWrap="CJK", spaceBefore=6, spaceAfter=10),
        "issue": ParagraphStyle("issue", **base, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", **base, alignment=TA_CENTER),
        "org": ParagraphStyle("org", **base, alignment=TA_LEFT),
        "date": ParagraphStyle("date", **base, alignment=TA_RIGHT),
        "body": ParagraphStyle("body", **base, alignment=TA_JUSTIFY, firstLineIndent=2 * BODY_PT),
        "note": ParagraphStyle("note", fontName=song, fontSize=14, leading=24, wordWrap="CJK", alignment=TA_JUSTIFY,
                               firstLineIndent=28, textColor=colors.HexColor("#333333")),
        "heading": ParagraphStyle("heading", fontName=hei, fontSize=BODY_PT, leading=28, wordWrap="CJK",
                                  firstLineIndent=2 * BODY_PT, spaceBefore=6, keepWithNext=1),
        "caption": ParagraphStyle("caption", fontName=hei, fontSize=12, leading=18, wordWrap="CJK",
                                  alignment=TA_CENTER, spaceBefore=6, spaceAfter=4),
        "chart_caption": ParagraphStyle("chart_caption", fontName=song, fontSize=12, leading=18, wordWrap="CJK",
                                        alignment=TA_CENTER, spaceAfter=6),
        "cell": ParagraphStyle("cell", fontName=song, fontSize=TABLE_PT, leading=14, wordWrap="CJK",
                               alignment=TA_CENTER),
        "head_cell": ParagraphStyle("head_cell", fontName=hei, fontSize=TABLE_PT, leading=14, wordWrap="CJK",
                                    alignment=TA_CENTER),
        "distribution": ParagraphStyle("distribution", fontName=song, fontSize=14, leading=22, wordWrap="CJK",
                                       alignment=TA_JUSTIFY, leftIndent=42, firstLineIndent=-42),
        "printed_org": ParagraphStyle("printed_org", fontName=song, fontSize=14, leading=22, wordWrap="CJK"),
        "printed_date": ParagraphStyle("printed_date", fontName=song, fontSize=14, leading=22, wordWrap="CJK",
                                       alignment=TA_RIGHT),
        "footer": ParagraphStyle("footer", fontName=song, fontSize=14),
    }


def _para(text: str, style: ParagraphStyle, markup_before: str = "") -> platypus.Paragraph:
    """A paragraph of plain text: escaped, so "<b>&" prints as written."""
    return _Paragraph(markup_before + escape(text), style)


def _footer(font: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 14)
        canvas.drawCentredString(A4[0] / 2, 2.0 * cm, f"— {doc.page} —")
        canvas.restoreState()
    return draw


def _two_ends(left: platypus.Paragraph, right: platypus.Paragraph, rules: list[tuple]) -> platypus.Table:
    """One line with ``left`` at the left margin and ``right`` at the right one (the 发文机关/date line)."""
    table = platypus.Table([[left, right]], colWidths=[TEXT_WIDTH * 0.6, TEXT_WIDTH * 0.4])
    table.setStyle(platypus.TableStyle([("FONTNAME", (0, 0), (-1, -1), left.style.fontName),
                                        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), *rules]))
    return table


def _title_block(document: BriefingDocument, styles) -> list:
    flow = [_para(document.title, styles["title"]), _para(document.issue_line, styles["issue"])]
    if document.subtitle:
        flow.append(_para(document.subtitle, styles["subtitle"]))
    flow.append(platypus.Spacer(1, 10))
    flow.append(_two_ends(_para(document.organisation, styles["org"]), _para(document.date_text, styles["date"]),
                          [("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    flow.append(platypus.HRFlowable(width="100%", thickness=2.2, color=RED, spaceBefore=2, spaceAfter=18))
    return flow


def _table(block: Table, styles) -> list:
    widths = block.widths if len(block.widths) == len(block.headers) else (1.0,) * len(block.headers)
    scale = TEXT_WIDTH / sum(widths)
    data = [[_para(h, styles["head_cell"]) for h in block.headers]]
    data += [[_para(cell, styles["cell"]) for cell in row] for row in block.rows]
    table = platypus.Table(data, colWidths=[w * scale for w in widths], repeatRows=1)
    table.setStyle(platypus.TableStyle([
        # Cells are paragraphs, but a table still sets its cell font (Helvetica by default, not embedded).
        ("FONTNAME", (0, 0), (-1, -1), styles["cell"].fontName),
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    # A table splits over pages (its head repeated); only its title must not be left alone at a page foot.
    flow = [platypus.CondPageBreak(4 * cm)]
    if block.title:
        flow.append(_para(block.title, styles["caption"]))
    return [*flow, table, platypus.Spacer(1, 10)]


def _chart(png: bytes, caption: str, styles) -> platypus.KeepTogether:
    width, height = ImageReader(io.BytesIO(png)).getSize()
    # A chart taller than the page's frame (with its caption) is scaled down whole, never cut.
    scale = min(CHART_WIDTH / width, MAX_CHART_HEIGHT / height)
    image = platypus.Image(io.BytesIO(png), width=width * scale, height=height * scale)
    return platypus.KeepTogether([platypus.Spacer(1, 6), image, _para(caption, styles["chart_caption"])])


def _distribution(document: BriefingDocument, styles) -> list:
    hei = styles["heading"].fontName
    rule = dict(width="100%", thickness=0.8, color=colors.black)
    block = [
        platypus.HRFlowable(**rule, spaceBefore=0, spaceAfter=4),
        _para(document.copy_to, styles["distribution"], f'<font name="{hei}">抄报：</font>'),
        _para(document.distribute_to, styles["distribution"], f'<font name="{hei}">分送：</font>'),
        platypus.HRFlowable(**rule, spaceBefore=4, spaceAfter=4),
        _two_ends(_para(document.organisation, styles["printed_org"]),
                  _para(document.printed_line, styles["printed_date"]), []),
        platypus.HRFlowable(**rule, spaceBefore=4, spaceAfter=0),
    ]
    return [platypus.Spacer(1, 24), platypus.KeepTogether(block)]
