"""The briefing pack's chart images (briefing.charts) and slide deck (briefing.slides) on the sample campaign."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import replace

import holoviews as hv
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Inches

from briefing.charts import CHART_FILES, CHART_NAMES, DPI, briefing_elements, chart_files, chart_inches, render_charts
from briefing.slides import SLIDE_TITLES, slide_titles, write_pptx
from dashboards.meeting import _fmt
from loaders.reference import COUNTIES
from metrics.briefing import sector_counts

ISSUE_DATE = dt.date(2023, 9, 25)
PERIOD = "2023-08"
UNIT = "会昌县"


@pytest.fixture(scope="module")
def charts(figures):
    return render_charts(figures)


@pytest.fixture(scope="module")
def deck(figures, charts, tmp_path_factory):
    path = write_pptx(figures, charts, tmp_path_factory.mktemp("deck") / "简报.pptx", ISSUE_DATE)
    return path, Presentation(path)


def _empty_figures(figures):
    """The same pack with no data in any frame a chart draws."""
    return replace(figures, hazards=figures.hazards.iloc[:0], county_ranking=figures.county_ranking.iloc[:0],
                   department_ranking=figures.department_ranking.iloc[:0], quota=figures.quota.iloc[:0],
                   sectors=sector_counts(figures.hazards.iloc[:0]), enforcement=figures.enforcement.iloc[:0])


def _bars(element):
    """The bars of a chart drawn as an overlay (bars and their labels, or bars and a quota line)."""
    return element.get(0) if isinstance(element, hv.Overlay) else element


# --- chart images ------------------------------------------------------------------------------

def test_every_chart_is_a_png_of_its_page_size_and_not_blank(figures, charts):
    assert list(charts) == list(CHART_NAMES)
    elements = briefing_elements(figures)
    for name, data in charts.items():
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.format == "PNG"
        width, height = chart_inches(name, elements[name])
        assert image.size == (round(width * DPI), round(height * DPI)), name
        assert abs(width * 2.54 - 16) < 0.01  # the text width of an A4 page
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 50, name  # bars, labels, colours: not a blank canvas
        assert (pixels.min(axis=1) < 128).mean() > 0.01, name
        assert "Software" not in image.info and "Creation Time" not in image.info


def test_charts_render_byte_identical_twice(figures, charts):
    again = render_charts(figures)
    assert again.keys() == charts.keys()
    for name in charts:
        assert again[name] == charts[name], name


def test_chart_data_are_the_figures(figures):
    elements = briefing_elements(figures)
    counties = _bars(elements["counties"])
    # The first factor is drawn at the bottom: the chart holds the ranking reversed.
    assert list(counties.dimension_values("unit"))[::-1] == list(figures.county_ranking["unit"])
    assert list(counties.dimension_values("value"))[::-1] == list(figures.county_ranking["value"].astype(float))
    departments = _bars(elements["departments"])
    assert list(departments.dimension_values("unit"))[::-1] == list(figures.department_ranking["unit"])
    local = figures.quota[figures.quota["unit_type"].isin(("county", "zone"))]
    quota = _bars(elements["quota"])
    assert list(quota.dimension_values("unit")) == list(local["unit"])
    assert list(quota.dimension_values("found")) == list(local["hazards_found"].fillna(0))
    sectors = elements["sectors"].dframe()
    for status in ("rectified", "in_progress", "not_started"):
        label = {"rectified": "已整改", "in_progress": "整改中", "not_started": "未整改"}[status]
        assert sectors.loc[sectors["status"] == label, "count"].sum() == figures.sectors[status].sum()
    assert sectors["count"].sum() == figures.sectors["hazards"].sum()
    enforcement = _bars(elements["enforcement"])
    by_unit = dict(zip(enforcement.dimension_values("unit"), enforcement.dimension_values("value")))
    assert by_unit == dict(zip(figures.enforcement["unit"], figures.enforcement["penalties"].astype(float)))
    polygons = elements["map"].get(0)
    drawn = {county: value for county, value in zip(polygons.dimension_values("county", expanded=False),
                                                     [p["value"] for p in polygons.data])}
    counted = figures.hazards["unit"].value_counts()
    assert drawn == {county: float(counted.get(county, 0)) for county in COUNTIES}


def test_unit_pack_charts(unit_figures):
    charts = render_charts(unit_figures)
    assert {"counties", "departments", "sectors", "quota", "enforcement", "map"} <= set(charts)
    assert "quota_departments" not in charts  # 会昌县 is no department
    enforcement = _bars(briefing_elements(unit_figures)["enforcement"])
    assert list(enforcement.dimension_values("unit")) == [UNIT]
    for data in charts.values():
        Image.open(io.BytesIO(data)).verify()


def test_charts_without_data_are_left_out(figures):
    assert render_charts(_empty_figures(figures)) == {}
    no_hazards = replace(figures, hazards=figures.hazards.iloc[:0], sectors=sector_counts(figures.hazards.iloc[:0]))
    assert set(render_charts(no_hazards)) == set(CHART_NAMES) - {"map", "sectors"}


def test_chart_files_are_named_in_chinese(figures, tmp_path):
    paths = chart_files(figures, tmp_path / "图表")
    assert [p.name for p in paths] == [CHART_FILES[name] for name in CHART_NAMES]
    assert paths[0].name == "图1_各县市区排查隐患数.png"
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


# --- the deck ------------------------------------------------------------------------------------

def _texts(slide) -> list[str]:
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.append(shape.text_frame.text)
        if getattr(shape, "has_table", False) and shape.has_table:
            out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


def _runs(shape):
    frames = []
    if shape.has_text_frame:
        frames.append(shape.text_frame)
    if getattr(shape, "has_table", False) and shape.has_table:
        frames += [cell.text_frame for row in shape.table.rows for cell in row.cells]
    return [run for frame in frames for paragraph in frame.paragraphs for run in paragraph.runs]


def test_deck_is_16_9_with_its_slides_in_order(figures, deck):
    _path, prs = deck
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # PowerPoint's 16:9, 13.333 × 7.5 in
    assert abs(prs.slide_width / Inches(1) - 13.333) < 0.001 and prs.slide_height == Inches(7.5)
    titles = [slide.shapes.title.text for slide in prs.slides]
    assert titles[0] == "赣州市重大事故隐患专项排查整治"
    assert titles[1:] == slide_titles(figures)
    assert titles[1:7] == [SLIDE_TITLES[k] for k in ("overview", "ranking", "map", "overdue", "stalled", "enforcement")]
    first = " ".join(_texts(prs.slides[0]))
    assert "2023年8月" in first and "全市" in first and "2023年9月25日" in first
    for slide in prs.slides:  # every position is a whole number of EMU (PowerPoint refuses "457200.0")
        for shape in slide.shapes:
            assert all(isinstance(v, int) for v in (shape.left, shape.top, shape.width, shape.height))
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= prs.slide_width and shape.top + shape.height <= prs.slide_height


def test_big_figures_are_the_meeting_screens(figures, deck):
    texts = _texts(deck[1].slides[1])
    kpis = figures.kpis
    for value in (_fmt(kpis.hazards_found), _fmt(kpis.rectified), f"{kpis.rectification_rate:.1%}", _fmt(kpis.overdue),
                  _fmt(kpis.supervised), _fmt(kpis.penalties), _fmt(kpis.fines_wan, 2), _fmt(kpis.suspensions)):
        assert value in texts
    assert "424" in texts and "253.60" in texts


def test_ranking_map_and_enforcement_slides(figures, deck):
    prs = deck[1]
    ranking = _texts(prs.slides[2])
    assert figures.county_ranking["unit"].iloc[0] in ranking
    assert figures.department_ranking["unit"].iloc[0] in ranking
    assert sum(t.startswith(("↑", "↓")) for t in ranking) > 0
    assert any(shape.shape_type == 13 for shape in prs.slides[3].shapes)  # the map picture
    assert any(shape.shape_type == 13 for shape in prs.slides[6].shapes)
    assert "253.60" in _texts(prs.slides[6])


def test_type_is_big_enough_and_names_a_chinese_face(deck):
    prs = deck[1]
    for number, slide in enumerate(prs.slides):
        for run in _runs(slide.shapes.title):
            assert run.font.size.pt >= 36
        tables = [shape for shape in slide.shapes if getattr(shape, "has_table", False) and shape.has_table]
        for shape in tables:
            assert len(shape.table.rows) <= 11  # a header and at most 10 rows
            assert all(run.font.size.pt >= 18 for run in _runs(shape))
        for shape in slide.shapes:
            for run in _runs(shape):
                assert run.font.size is not None and run.font.size.pt >= 18, (number, run.text)
                ea = run._r.find(qn("a:rPr")).find(qn("a:ea"))
                assert ea is not None and ea.get("typeface") in ("微软雅黑", "黑体")
    numbers = [run for shape in prs.slides[1].shapes for run in _runs(shape) if run.text.replace(",", "").replace(".", "")
               .replace("%", "").isdigit()]
    # 54 pt; a long figure ("253.60", "44.3%") shrinks to stay on one line in its card, never under 40.
    assert len(numbers) == 8 and all(run.font.size.pt >= 40 for run in numbers)
    assert all(run.font.size.pt == 54 for run in numbers if len(run.text) <= 4)


def test_workbook_text_shows_literally(figures, tmp_path):
    name = "<b>&amp;</b> 测试 & Co"
    overdue = figures.overdue.copy()
    overdue.loc[0, "enterprise"] = name
    path = write_pptx(replace(figures, overdue=overdue), {}, tmp_path / "deck.pptx", ISSUE_DATE)
    assert name in _texts(Presentation(path).slides[4])
    with zipfile.ZipFile(path) as package:
        xml = package.read("ppt/slides/slide5.xml").decode("utf-8")
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt; 测试 &amp; Co" in xml


def test_long_names_are_shrunk_not_overflowing(figures, tmp_path):
    overdue = figures.overdue.copy()
    overdue.loc[0, "enterprise"] = "赣州市某某县某某镇某某村某某某某某某某某有限责任公司第一分公司第二车间"
    slide = Presentation(write_pptx(replace(figures, overdue=overdue), {}, tmp_path / "d.pptx", ISSUE_DATE)).slides[4]
    table = next(shape.table for shape in slide.shapes if getattr(shape, "has_table", False) and shape.has_table)
    cell = table.cell(1, 1)
    assert cell.text.endswith("…") and cell.text_frame.paragraphs[0].runs[0].font.size.pt == 18


def test_open_annotations_get_their_slide(figures, tmp_path):
    notes = pd.DataFrame({"unit": [UNIT, "章贡区"], "text": ["**请核实** 8月数据", "已处理"],
                          "status": ["open", "resolved"], "author": ["张三", "李四"], "subject_kind": ["unit", "unit"]})
    with_notes = replace(figures, annotations=notes)
    prs = Presentation(write_pptx(with_notes, {}, tmp_path / "n.pptx", ISSUE_DATE))
    assert [s.shapes.title.text for s in prs.slides][-1] == SLIDE_TITLES["annotations"]
    texts = _texts(prs.slides[-1])
    assert "请核实 8月数据" in texts and "已处理" not in texts  # Markdown read as plain text


def test_deck_is_reproducible_and_dated(figures, charts, deck, tmp_path):
    path, prs = deck
    again = write_pptx(figures, charts, tmp_path / "again.pptx", ISSUE_DATE)
    assert again.read_bytes() == path.read_bytes()
    assert prs.core_properties.created == dt.datetime(2023, 9, 25) == prs.core_properties.modified


def test_deck_without_data(figures, tmp_path):
    empty = _empty_figures(figures)
    prs = Presentation(write_pptx(empty, render_charts(empty), tmp_path / "e.pptx", ISSUE_DATE))
    assert len(prs.slides) == 7
