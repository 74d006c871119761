"""The Word and PDF briefings (简报) of the sample campaign: structure, figures, fonts, determinism."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest
from docx import Document
from PIL import Image
from pypdf import PdfReader

from briefing.text import Chart, Table, briefing_document, plain_markdown
from briefing.word import write_docx
from loaders import load_paths
from metrics.briefing import briefing_figures

from .conftest import SAMPLE_CAMPAIGN

PERIOD = "2023-08"
UNIT = "章贡区"
ISSUE_DATE = dt.date(2023, 9, 23)
HEADINGS = ("一、总体进展", "二、各地各部门进展和通报排名", "三、行业领域分布", "四、执法检查情况",
            "五、宣传培训和领导履职", "六、逾期和挂牌督办隐患", "七、工作批注")
NASTY = "测试<b>&企业"

pytestmark = pytest.mark.skipif(shutil.which("pdffonts") is None or shutil.which("pdftoppm") is None,
                                reason="poppler-utils (pdffonts, pdftoppm) not installed")


@pytest.fixture(scope="module")
def campaign():
    return load_paths([str(SAMPLE_CAMPAIGN)], None)


@pytest.fixture(scope="module")
def annotations() -> pd.DataFrame:
    return pd.DataFrame([
        {"kind": "unit", "unit": UNIT, "text": "**请于9月底前**复核台账，见[通知](http://x)", "tag": "复核",
         "status": "open", "author": "王科长", "follow_up": dt.date(2023, 9, 30), "orphaned": False},
        {"kind": "hazard", "hazard_id": "0000000000000000", "unit": "于都县", "text": f"企业名称写作 {NASTY}",
         "tag": None, "status": "resolved", "author": "李四", "follow_up": None, "orphaned": True},
        {"subject_kind": "figure", "unit": "会昌县", "indicator": "penalties", "period": PERIOD,
         "text": "# 处罚次数偏低\n- 已电话核实", "tag": "需关注", "status": "open", "author": "张三",
         "follow_up": None, "orphaned": False},
    ])


@pytest.fixture(scope="module")
def figures(campaign, annotations):
    return briefing_figures(campaign, PERIOD, None, annotations=annotations)


@pytest.fixture(scope="module")
def unit_figures(campaign, annotations):
    return briefing_figures(campaign, PERIOD, UNIT, annotations=annotations)


@pytest.fixture(scope="module")
def charts(figures) -> dict[str, bytes]:
    """The pack's charts when ``briefing.charts`` is there, else small stand-ins (one per key)."""
    try:
        from briefing.charts import render_charts
    except ImportError:
        render_charts = None
    if render_charts is not None:
        return render_charts(figures)
    stand_ins = {}
    for i, key in enumerate(("counties", "departments", "sectors", "quota", "enforcement", "map")):
        buffer = io.BytesIO()
        Image.new("RGB", (400, 200 + 20 * i), (200, 30, 30)).save(buffer, format="PNG")
        stand_ins[key] = buffer.getvalue()
    return stand_ins


@pytest.fixture(scope="module")
def built(tmp_path_factory, figures, unit_figures, charts):
    """Word and PDF of 全市 and of one unit, each built twice (for the determinism checks)."""
    from briefing.pdf import write_pdf

    out = tmp_path_factory.mktemp("briefings")
    paths = {}
    for scope, figs in (("city", figures), ("unit", unit_figures)):
        document = briefing_document(figs, 4, ISSUE_DATE)
        for run in (1, 2):
            paths[scope, "docx", run] = write_docx(document, charts, out / f"{scope}-{run}.docx")
            paths[scope, "pdf", run] = write_pdf(document, charts, out / f"{scope}-{run}.pdf")
        paths[scope, "document"] = document
    return paths


def _docx_texts(path) -> list[str]:
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


def _numbers(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return float(found.group(1))


def _overall_paragraph(paragraphs: list[str]) -> str:
    start = paragraphs.index(HEADINGS[0])
    return paragraphs[start + 1]


# --- text ---------------------------------------------------------------------------------------

def test_document_has_every_section_and_no_missing_marker(built):
    for scope in ("city", "unit"):
        document = built[scope, "document"]
        assert tuple(section.heading for section in document.sections) == HEADINGS
        text = "\n".join(document.texts())
        assert "nan" not in text.lower() and "None" not in text
        assert document.date_text == "2023年9月23日" and document.issue_line == "第4期"


def test_plain_markdown():
    assert plain_markdown("## 标题\n- **要点**一\n- 见[通知](http://x)") == "标题；要点一；见通知"


def test_empty_figures_give_sentences_not_a_crash(figures, tmp_path):
    from briefing.pdf import write_pdf

    empty_kpis = dataclasses.replace(figures.kpis, **{
        field.name: 0 for field in dataclasses.fields(figures.kpis) if field.type in ("int", "float")})
    empty_kpis = dataclasses.replace(empty_kpis, units_reporting=0, period=None)
    frames = {field.name: getattr(figures, field.name).iloc[0:0] for field in dataclasses.fields(figures)
              if isinstance(getattr(figures, field.name), pd.DataFrame)}
    empty = dataclasses.replace(figures, kpis=empty_kpis, previous_kpis=None, **frames)
    assert empty.is_empty
    document = briefing_document(empty, 1, ISSUE_DATE)
    text = "\n".join(document.texts())
    assert "尚未报送" in text and "本期无工作批注" in text and "nan" not in text.lower()
    write_docx(document, {}, tmp_path / "empty.docx")
    write_pdf(document, {}, tmp_path / "empty.pdf")
    assert "本期无工作批注" in "".join(page.extract_text() for page in PdfReader(tmp_path / "empty.pdf").pages)


# --- Word ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["city", "unit"])
def test_docx_title_block_and_sections_in_order(built, scope):
    paragraphs = [p.text for p in Document(str(built[scope, "docx", 1])).paragraphs]
    assert paragraphs[0] == "重大事故隐患专项排查整治简报"
    assert "第4期" in paragraphs[1:4]
    assert any(p.startswith("赣州市安全生产委员会办公室") and p.endswith("2023年9月23日") for p in paragraphs[:5])
    positions = [paragraphs.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)
    assert any(p.startswith("抄报：") for p in paragraphs[positions[-1]:])
    assert any(p.startswith("分送：") for p in paragraphs[positions[-1]:])
    assert paragraphs[-1].startswith("赣州市安全生产委员会办公室") and paragraphs[-1].endswith("2023年9月23日印发")


@pytest.mark.parametrize("scope", ["city", "unit"])
def test_docx_overall_paragraph_states_the_kpis(built, figures, unit_figures, scope):
    kpis = (figures if scope == "city" else unit_figures).kpis
    paragraphs = [p.text for p in Document(str(built[scope, "docx", 1])).paragraphs]
    overall = _overall_paragraph(paragraphs)
    assert _numbers(r"累计排查重大事故隐患(\d+)条", overall) == kpis.hazards_found
    assert _numbers(r"已整改(\d+)条", overall) == kpis.rectified
    assert _numbers(r"整改率([\d.]+)%", overall) == round(kpis.rectification_rate * 100, 1)
    assert ("全市" in overall) == (scope == "city")
    assert (UNIT in overall) == (scope == "unit")


def test_docx_ranking_names_the_first_ranked_unit(built, figures, unit_figures):
    paragraphs = [p.text for p in Document(str(built["city", "docx", 1])).paragraphs]
    section = paragraphs[paragraphs.index(HEADINGS[1]):paragraphs.index(HEADINGS[2])]
    first = figures.county_ranking.iloc[0]
    assert any(f"{first['unit']}（{int(first['value'])}条）居第1位" in p for p in section)
    assert any(f"{figures.department_ranking.iloc[0]['unit']}（" in p for p in section)
    # a unit's briefing names its own rank among its peers
    paragraphs = [p.text for p in Document(str(built["unit", "docx", 1])).paragraphs]
    own = unit_figures.county_ranking.set_index("unit").loc[UNIT]
    section = paragraphs[paragraphs.index(HEADINGS[1]):paragraphs.index(HEADINGS[2])]
    assert any(f"{UNIT}累计排查重大事故隐患{int(own['value'])}条，在各县（市、区）中排第{int(own['rank'])}位" in p
               for p in section)


def test_docx_annotations_section(built):
    paragraphs = [p.text for p in Document(str(built["city", "docx", 1])).paragraphs]
    section = "\n".join(paragraphs[paragraphs.index(HEADINGS[6]):])
    assert "请于9月底前复核台账，见通知" in section and "**" not in section and "http" not in section
    assert "王科长" in section and "复核" in section and "待办" in section and "2023-09-30" in section
    assert NASTY in section and "所批注对象已不在本期数据中" in section
    assert "会昌县2023-08期“行政处罚（次）”" in section and "处罚次数偏低；已电话核实" in section
    # a unit's pack carries only that unit's annotations
    unit_section = "\n".join(_docx_texts(built["unit", "docx", 1]))
    assert "王科长" in unit_section and NASTY not in unit_section


def test_docx_tables_charts_fonts_and_properties(built, charts):
    path = built["city", "docx", 1]
    doc = Document(str(path))
    assert len(doc.tables) >= 6
    placed = [b.key for s in built["city", "document"].sections for b in s.blocks if isinstance(b, Chart)]
    assert len(doc.inline_shapes) == len([key for key in placed if key in charts])
    assert doc.core_properties.author == "赣州市安全生产委员会办公室"
    assert doc.core_properties.created.date() == ISSUE_DATE == doc.core_properties.modified.date()
    assert doc.sections[0].page_width.cm == pytest.approx(21.0, abs=0.01)
    body = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert 'w:eastAsia="仿宋_GB2312"' in body and 'w:eastAsia="黑体"' in body and 'w:eastAsia="方正小标宋简体"' in body
    assert 'w:color w:val="E60012"' in body  # the red title and rule


def test_docx_is_deterministic(built):
    for scope in ("city", "unit"):
        first, second = (zipfile.ZipFile(built[scope, "docx", run]) for run in (1, 2))
        assert first.namelist() == second.namelist()
        for name in first.namelist():
            assert first.read(name) == second.read(name), name
        assert built[scope, "docx", 1].read_bytes() == built[scope, "docx", 2].read_bytes()


# --- PDF ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["city", "unit"])
def test_pdf_fonts_embedded(built, scope):
    listing = subprocess.run(["pdffonts", str(built[scope, "pdf", 1])], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert listing, "no fonts"
    for line in listing:
        assert line.split()[-5] == "yes", line  # the emb column


@pytest.mark.parametrize("scope", ["city", "unit"])
def test_pdf_text_carries_the_headline_numbers(built, figures, unit_figures, scope):
    kpis = (figures if scope == "city" else unit_figures).kpis
    reader = PdfReader(str(built[scope, "pdf", 1]))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert "重大事故隐患专项排查整治简报" in text
    for heading in HEADINGS:
        assert heading in text
    assert _numbers(r"累计排查重大事故隐患(\d+)条", text) == kpis.hazards_found
    assert f"整改率{kpis.rectification_rate * 100:.1f}%" in text
    assert "2023年9月23日印发" in text


def test_pdf_first_page_renders(built, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(built["city", "pdf", 1]),
                    str(tmp_path / "page")], check=True, capture_output=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 10, "blank page"
    assert any(r > 180 and g < 90 and b < 90 for _, (r, g, b) in colours), "no red title"


def test_pdf_is_deterministic(built):
    for scope in ("city", "unit"):
        assert built[scope, "pdf", 1].read_bytes() == built[scope, "pdf", 2].read_bytes()


# --- hostile text -------------------------------------------------------------------------------

def test_markup_in_names_is_printed_literally(figures, charts, tmp_path):
    from briefing.pdf import write_pdf

    overdue = figures.overdue.copy()
    overdue.loc[0, "enterprise"] = NASTY
    overdue.loc[1, "unit"] = "单位<i>&amp;"
    document = briefing_document(dataclasses.replace(figures, overdue=overdue), 4, ISSUE_DATE)
    tables = [b for s in document.sections for b in s.blocks if isinstance(b, Table)]
    assert any(NASTY in row for table in tables for row in table.rows)
    write_docx(document, charts, tmp_path / "nasty.docx")
    write_pdf(document, charts, tmp_path / "nasty.pdf")
    word = "\n".join(_docx_texts(tmp_path / "nasty.docx"))
    assert NASTY in word and "单位<i>&amp;" in word
    pdf = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(tmp_path / "nasty.pdf").pages))
    assert NASTY in pdf and "单位<i>&amp;" in pdf



# --- the same figures as the workbook -----------------------------------------------------------

@pytest.mark.parametrize("scope", ["city", "unit"])
def test_every_number_in_the_word_text_is_in_the_workbook(built, figures, unit_figures, scope, tmp_path):
    workbook = pytest.importorskip("briefing.workbook")
    openpyxl = pytest.importorskip("openpyxl")
    workbook.write_workbook(figures if scope == "city" else unit_figures, tmp_path / "pack.xlsx", ISSUE_DATE)
    known: set[float] = set()
    for sheet in openpyxl.load_workbook(tmp_path / "pack.xlsx").worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    known |= {round(float(value), 6), round(float(value), 1), round(float(value) * 100, 1)}
                elif isinstance(value, str):
                    known |= {float(number) for number in re.findall(r"\d+(?:\.\d+)?", value)}
                elif isinstance(value, (dt.date, dt.datetime)):
                    known |= {float(value.year), float(value.month), float(value.day)}
    text = "\n".join(_docx_texts(built[scope, "docx", 1]))
    text = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月底|第\d+期", "", text)  # dates, the issue number
    unknown = {number for number in re.findall(r"\d+(?:\.\d+)?", text) if float(number) not in known}
    assert not unknown
