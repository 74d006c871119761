"""The briefing pack as officers get it: `hazardboard brief` from the store (with annotations) and from
workbooks, the same pack for the same inputs, and the pack's figures equal to the screen's."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest

from briefing.pack import PARTS, build_pack, default_issue_no
from components.filters import HazardSelection
from components.kpi import KpiCards, format_count, format_rate, format_wan
from components.ranking import ranking_for
from components.state import DashboardState
from dashboards.cli import main
from metrics import overview
from metrics.briefing import BriefingScopeError
from store import Store
from store.annotations import add_annotation, hazard_subject, list_annotations, mark_orphans, unit_subject
from tests.conftest import SAMPLE_AS_OF, SAMPLE_CAMPAIGN

AUGUST = ["2023年08月"]


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _deck_text(source) -> str:
    deck = pptx.Presentation(source if isinstance(source, io.BytesIO) else str(source))
    texts = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts.extend(cell.text for row in shape.table.rows for cell in row.cells)
    return "\n".join(texts)


def _xlsx_strings(path: Path) -> set[str]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    return {str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
            for value in row if value is not None}


@pytest.fixture(scope="module")
def august_store(tmp_path_factory) -> Path:
    """A store holding the sample's May–August workbooks, with two annotations."""
    location = tmp_path_factory.mktemp("store")
    with Store(location) as store:
        store.ingest_paths([SAMPLE_CAMPAIGN / f"2023年0{m}月" for m in (5, 6, 7, 8)])
        campaign = store.campaign(SAMPLE_AS_OF)
        hazard = campaign.unique_hazards.iloc[0]
        add_annotation(store, hazard_subject(hazard["hazard_id"]), "企业**承诺**9月底前完成整改，需现场核实", "李明",
                       tag="待核实")
        add_annotation(store, unit_subject("会昌县"), "=HYPERLINK(\"http://x\",\"会昌县罚款数字待核实\")", "王芳", tag="需关注")
    return location


def test_brief_from_the_store_writes_the_five_kinds_with_the_annotations(august_store, tmp_path, capsys):
    out = tmp_path / "pack"
    code = main(["brief", "--store", str(august_store), "--period", "2023-08", "--as-of", "2023-09-25",
                 "--issue-no", "7", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    files = sorted(p.name for p in out.iterdir())
    assert {Path(name).suffix for name in files} == {".docx", ".pdf", ".xlsx", ".pptx", ".png"}
    for name in files:
        assert name in printed
    stem = "重大事故隐患专项排查整治简报_第7期_2023-08_全市"
    text = _docx_text(out / f"{stem}.docx")
    assert "第7期" in text and "2023年9月25日" in text
    # Both annotations reach the Word text and the workbook, the formula-looking one as text.
    assert "9月底前完成整改" in text and "会昌县罚款数字待核实" in text
    strings = _xlsx_strings(out / f"{stem}.xlsx")
    assert any("会昌县罚款数字待核实" in s for s in strings)
    workbook = openpyxl.load_workbook(out / f"{stem}.xlsx")
    assert not any(cell.data_type == "f" for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row)
    deck = _deck_text(out / f"{stem}.pptx")
    assert "企业承诺9月底前完成整改" in deck and "**" not in deck  # Markdown read as plain text on a slide


def test_brief_refuses_a_period_or_unit_it_does_not_have(august_store, tmp_path, capsys):
    assert main(["brief", "--store", str(august_store), "--period", "2023-11", "--out", str(tmp_path / "a")]) == 1
    error = capsys.readouterr().err
    assert "2023-11" in error and "2023-08" in error  # names what was received
    assert not (tmp_path / "a").exists()
    assert main(["brief", "--store", str(august_store), "--period", "2023-08", "--unit", "火星县",
                 "--out", str(tmp_path / "b")]) == 1
    assert "火星县" in capsys.readouterr().err
    assert main(["brief", "--store", str(august_store), "--period", "8月", "--out", str(tmp_path / "c")]) == 2
    assert "--period" in capsys.readouterr().err


def test_the_same_workbooks_give_the_same_pack_byte_for_byte(tmp_path):
    folder = tmp_path / "august"
    shutil.copytree(SAMPLE_CAMPAIGN / "2023年08月", folder)
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        assert main(["brief", str(folder), "--period", "2023-08", "--unit", "会昌", "--out", str(out)]) == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) >= 8
    assert all("会昌县" in name for name in names if not name.endswith(".png"))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_pack_carries_the_figures_the_overview_shows_for_the_same_filter(shared, campaign):
    state = DashboardState(period_end="2023-08", sectors=["fire", "construction"], units=["章贡区", "会昌县"])
    cards = KpiCards(state=state, snapshot=shared.snapshot, selection=HazardSelection(state, shared))
    pack = build_pack(campaign, "2023-08", spec=state.hazard_filter, parts=("xlsx", "pptx"))
    kpis = pack.figures.kpis
    assert kpis == cards.figures()
    screen = {name: card.value for name, card in cards.cards.items()}
    assert screen["found"] == format_count(kpis.hazards_found)
    assert screen["overdue"] == format_count(kpis.overdue)
    assert screen["fines"] == format_wan(kpis.fines_wan)
    assert sorted(pack.figures.hazards["hazard_id"]) == sorted(cards.selection.hazards["hazard_id"])
    # The slides' big figures are the screen's texts.
    deck = pptx.Presentation(io.BytesIO(next(c for n, c in pack.files.items() if n.endswith(".pptx"))))
    overview_slide = "\n".join(shape.text_frame.text for shape in deck.slides[1].shapes if shape.has_text_frame)
    assert "工作总览" in overview_slide
    for value in (screen["found"], screen["rectified"], screen["overdue"], format_rate(kpis.rectification_rate)):
        assert value in overview_slide
    # The ranking is the one the ranking tables and the meeting screen show.
    for unit_types, ranked in ((("county", "zone"), pack.figures.county_ranking),
                               (("department",), pack.figures.department_ranking)):
        shown = ranking_for(shared.snapshot, unit_types, overview.HAZARDS_FOUND, "2023-08")
        assert ranked[["rank", "unit", "value"]].equals(shown[["rank", "unit", "value"]])


def test_the_pack_zip_holds_every_file_under_one_folder_and_is_reproducible(campaign):
    pack = build_pack(campaign, "2023-08", unit="章贡区")
    archive = zipfile.ZipFile(io.BytesIO(pack.zip_bytes()))
    names = archive.namelist()
    assert names == [f"{pack.stem}/{name}" for name in pack.files]
    assert {Path(n).suffix for n in names} == {f".{part}" for part in PARTS}
    assert pack.zip_bytes() == build_pack(campaign, "2023-08", unit="章贡区").zip_bytes()
    assert pack.issue_no == default_issue_no("2023-08") == 4


def test_progress_is_reported_step_by_step_in_chinese(campaign):
    steps = []
    build_pack(campaign, "2023-08", parts=("docx", "png"), progress=lambda i, total, label: steps.append((i, total, label)))
    assert [label for _, _, label in steps] == ["整理数据", "绘制图表", "生成Word 简报", "完成"]
    assert [i for i, _, _ in steps] == [0, 1, 2, 3] and {total for _, total, _ in steps} == {3}


def test_an_unknown_period_is_refused_in_chinese(campaign):
    with pytest.raises(BriefingScopeError, match="2031-01"):
        build_pack(campaign, "2031-01")


def test_orphaned_annotations_stay_in_the_pack(tmp_path):
    with Store(tmp_path / "s") as store:
        store.ingest_paths([SAMPLE_CAMPAIGN / "2023年08月"])
        add_annotation(store, hazard_subject("0" * 16), "这条隐患已从台账中消失，原因待查", "李明")
        campaign = store.campaign(SAMPLE_AS_OF)
        annotations = mark_orphans(list_annotations(store), campaign)
    assert annotations["orphaned"].tolist() == [True]
    pack = build_pack(campaign, "2023-08", annotations=annotations, parts=("docx",))
    document = docx.Document(io.BytesIO(next(iter(pack.files.values()))))
    assert "这条隐患已从台账中消失" in "\n".join(p.text for p in document.paragraphs + [
        p for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs])


def test_a_province_scale_ranking_is_drawn_to_fit_one_page(campaign, tmp_path):
    """At province scale (~100 units) a ranking chart was taller than an A4 page and ReportLab refused
    the whole PDF; the bars now thin out to the page and the documents scale any taller picture."""
    import datetime as dt
    from dataclasses import replace

    import pandas as pd
    from PIL import Image

    from briefing.charts import DPI, MAX_CHART_INCHES, render_charts
    from briefing.pdf import write_pdf
    from briefing.text import briefing_document
    from briefing.word import MAX_CHART_HEIGHT_CM, write_docx
    from metrics.briefing import briefing_figures

    figures = briefing_figures(campaign, "2023-08")
    many = pd.DataFrame({"rank": range(1, 101), "unit": [f"第{i}县" for i in range(1, 101)], "unit_type": "county",
                         "value": [float(v) for v in range(300, 200, -1)]})
    many["previous_rank"] = pd.array([pd.NA] * 100, dtype="Int64")
    many["rank_change"] = pd.array([pd.NA] * 100, dtype="Int64")
    figures = replace(figures, county_ranking=many)
    charts = render_charts(figures)
    height_inches = Image.open(io.BytesIO(charts["counties"])).height / DPI
    assert 8 < height_inches <= MAX_CHART_INCHES + 0.01
    document = briefing_document(figures, 4, dt.date(2023, 9, 25))
    write_pdf(document, charts, tmp_path / "province.pdf")
    write_docx(document, charts, tmp_path / "province.docx")
    pictures = docx.Document(str(tmp_path / "province.docx")).inline_shapes
    assert pictures and max(p.height.cm for p in pictures) <= MAX_CHART_HEIGHT_CM + 0.01
    assert "第100县" in _docx_text(tmp_path / "province.docx")  # the whole ranking is listed
