"""The briefing as a Word document (.docx), in the house style of the bureau's 简报.

A4, red title in 方正小标宋简体 centred, 第N期, the organisation and date above a red rule, headings in
黑体, body in 仿宋_GB2312 16 pt (三号) with a first-line indent of two characters, bordered tables,
charts 15 cm wide under their section, and the 抄报/分送 block and the 印发 line between rules at the
end. Chinese faces are named in ``w:eastAsia`` so Word on an officer's PC uses them.

The same inputs give the same file: core properties carry the issue date and the office as author,
and the zip entries are rewritten with the issue date as their time.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from briefing.text import BriefingDocument, Chart, Paragraph, Table

RED = RGBColor(0xE6, 0x00, 0x12)
TITLE_FACE = "方正小标宋简体"
HEADING_FACE = "黑体"
BODY_FACE = "仿宋_GB2312"
NOTE_FACE = "楷体_GB2312"
LATIN_FACE = "Times New Roman"
BODY_PT = 16
TABLE_PT = 10.5
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 21.0, 29.7
MARGINS_CM = (3.7, 3.5, 2.8, 2.6)  # top, bottom, left, right (公文 layout)
TEXT_WIDTH_CM = PAGE_WIDTH_CM - MARGINS_CM[2] - MARGINS_CM[3]
CHART_WIDTH_CM = 15.0
# The page's text height less a caption: a taller chart is scaled down whole, never cut.
MAX_CHART_HEIGHT_CM = PAGE_HEIGHT_CM - MARGINS_CM[0] - MARGINS_CM[1] - 2.0


def write_docx(document: BriefingDocument, charts: dict[str, bytes], path: str | Path) -> Path:
    """Write ``document`` (charts by key; unknown keys ignored, missing ones skipped) to ``path``."""
    doc = Document()
    _page_setup(doc)
    _default_font(doc)
    _title_block(doc, document)
    _body_paragraph(doc, document.headline)
    for section in document.sections:
        _heading(doc, section.heading)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                if block.style == "note":
                    _note(doc, block.text)
                else:
                    _body_paragraph(doc, block.text)
            elif isinstance(block, Table):
                _table(doc, block)
            elif isinstance(block, Chart) and block.key in charts:
                _chart(doc, charts[block.key], block.caption)
    _distribution(doc, document)
    _core_properties(doc, document)
    buffer = io.BytesIO()
    doc.save(buffer)
    path = Path(path)
    path.write_bytes(_fixed_zip(buffer.getvalue(), document.issue_date))
    return path


# --- page and styles ----------------------------------------------------------------------------

def _page_setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = (Cm(v) for v in MARGINS_CM)
    section.footer_distance = Cm(2.0)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", LATIN_FACE, 14, east_asia=BODY_FACE)
    _field(footer, "PAGE")
    _run(footer, " —", LATIN_FACE, 14, east_asia=BODY_FACE)


def _default_font(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = LATIN_FACE
    style.font.size = Pt(BODY_PT)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FACE)
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)


def _run(paragraph, text: str, face: str, size: float, bold: bool = False, color: RGBColor | None = None,
         east_asia: str | None = None):
    run = paragraph.add_run(text)
    # A copy of one properties element per look: setting them property by property took seconds per pack.
    run._r.insert(0, copy.deepcopy(_run_properties(face, east_asia or face, size, bold, str(color or ""))))
    return run


@functools.lru_cache(maxsize=None)
def _run_properties(latin: str, east_asia: str, size: float, bold: bool, color: str):
    properties = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    for attribute, face in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(attribute), face)
    properties.append(fonts)
    if bold:
        properties.append(OxmlElement("w:b"))
    if color:
        element = OxmlElement("w:color")
        element.set(qn("w:val"), color)
        properties.append(element)
    for tag in ("w:sz", "w:szCs"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), str(int(round(size * 2))))
        properties.append(element)
    return properties


def _field(paragraph, code: str) -> None:
    """A simple field (PAGE) Word fills in when it lays the page out."""
    run = paragraph.add_run()
    run._r.insert(0, copy.deepcopy(_run_properties(LATIN_FACE, BODY_FACE, 14, False, "")))
    for kind, text in (("begin", None), (None, f" {code} "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text.strip() == code else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)


def _line_spacing(paragraph, points: float) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)


def _border(paragraph, side: str, color: str = "E60012", size: int = 12, space: int = 1) -> None:
    """A rule drawn along one side (top/bottom) of a paragraph; ``size`` in eighths of a point."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        # w:pBdr comes before spacing/indentation/alignment in CT_PPr's sequence.
        anchor = next((child for child in p_pr if child.tag in {qn("w:spacing"), qn("w:ind"), qn("w:jc"),
                                                                qn("w:tabs")}), None)
        if anchor is not None:
            anchor.addprevious(borders)
        else:
            p_pr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), str(space))
    line.set(qn("w:color"), color)
    borders.append(line)


# --- blocks -------------------------------------------------------------------------------------

def _title_block(doc, document: BriefingDocument) -> None:
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(12)
    title.paragraph_format.space_after = Pt(12)
    _run(title, document.title, TITLE_FACE, 26, color=RED)
    issue = doc.add_paragraph()
    issue.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(issue, document.issue_line, LATIN_FACE, BODY_PT, east_asia=BODY_FACE)
    if document.subtitle:
        scope = doc.add_paragraph()
        scope.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(scope, document.subtitle, LATIN_FACE, BODY_PT, east_asia=NOTE_FACE)
    line = doc.add_paragraph()
    line.paragraph_format.space_before = Pt(12)
    line.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
    _run(line, document.organisation, LATIN_FACE, BODY_PT, east_asia=BODY_FACE)
    _run(line, "\t" + document.date_text, LATIN_FACE, BODY_PT, east_asia=BODY_FACE)
    _border(line, "bottom", size=18, space=4)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _body_paragraph(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    _line_spacing(paragraph, 28)
    _run(paragraph, text, LATIN_FACE, BODY_PT, east_asia=BODY_FACE)


def _note(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Pt(2 * 14)
    _line_spacing(paragraph, 24)
    _run(paragraph, text, LATIN_FACE, 14, east_asia=NOTE_FACE)


def _heading(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.keep_with_next = True
    _line_spacing(paragraph, 28)
    _run(paragraph, text, HEADING_FACE, BODY_PT)


def _caption(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.keep_with_next = True
    _run(paragraph, text, HEADING_FACE, 12)


def _table(doc, block: Table) -> None:
    if block.title:
        _caption(doc, block.title)
    widths = block.widths if len(block.widths) == len(block.headers) else (1.0,) * len(block.headers)
    scale = TEXT_WIDTH_CM / sum(widths)
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    header_row = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row._tr.get_or_add_trPr().append(repeat)
    # Row by row: table.cell(r, c) walks the whole grid each call (seconds for a 30-row table).
    for r, (row, values) in enumerate(zip(table.rows, (block.headers, *block.rows))):
        for c, (cell, value) in enumerate(zip(row.cells, values)):
            cell.width = Cm(widths[c] * scale)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(paragraph, value, HEADING_FACE if r == 0 else LATIN_FACE, TABLE_PT,
                 east_asia=HEADING_FACE if r == 0 else BODY_FACE)
    for c, width in enumerate(widths):
        table.columns[c].width = Cm(width * scale)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header (IHDR)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _chart(doc, png: bytes, caption: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.keep_with_next = True
    width_px, height_px = _png_size(png)
    if height_px * CHART_WIDTH_CM / width_px > MAX_CHART_HEIGHT_CM:
        paragraph.add_run().add_picture(io.BytesIO(png), height=Cm(MAX_CHART_HEIGHT_CM))
    else:
        paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(CHART_WIDTH_CM))
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(6)
    _run(paragraph, caption, LATIN_FACE, 12, east_asia=NOTE_FACE)


def _distribution(doc, document: BriefingDocument) -> None:
    doc.add_paragraph()
    for i, (label, text) in enumerate((("抄报：", document.copy_to), ("分送：", document.distribute_to))):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.left_indent = Pt(14 * 3)
        paragraph.paragraph_format.first_line_indent = Pt(-14 * 3)
        _line_spacing(paragraph, 22)
        if i == 0:
            _border(paragraph, "top", color="000000", size=8, space=4)
        _run(paragraph, label, HEADING_FACE, 14)
        _run(paragraph, text, LATIN_FACE, 14, east_asia=BODY_FACE)
    printed = doc.add_paragraph()
    printed.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
    _line_spacing(printed, 22)
    _border(printed, "top", color="000000", size=8, space=4)
    _border(printed, "bottom", color="000000", size=8, space=4)
    _run(printed, document.organisation, LATIN_FACE, 14, east_asia=BODY_FACE)
    _run(printed, "\t" + document.printed_line, LATIN_FACE, 14, east_asia=BODY_FACE)


# --- determinism --------------------------------------------------------------------------------

def _core_properties(doc, document: BriefingDocument) -> None:
    moment = dt.datetime.combine(document.issue_date, dt.time())
    props = doc.core_properties
    props.author = props.last_modified_by = document.organisation
    props.title = f"{document.title}（{document.issue_line}）"
    props.subject = f"{document.scope_label} {document.period}"
    props.keywords = props.comments = props.category = ""
    props.created = props.modified = props.last_printed = moment
    props.revision = 1


def _fixed_zip(data: bytes, day: dt.date) -> bytes:
    """The package with every entry dated ``day`` (python-docx stamps the time of saving)."""
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            target.writestr(info, source.read(item.filename))
    return out.getvalue()
