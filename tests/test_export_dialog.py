"""The export dialog (导出简报) and the notice boards download, on a SharedCampaign over a real
store holding the bundled sample: a build gives one zip of the five kinds of files whose figures
are the dashboard's own, failures are told in words, builds are bounded and the bytes released."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import threading
import time
import weakref
import zipfile

import openpyxl
import pytest
from bokeh.document import Document as BokehDocument
from docx import Document
from pypdf import PdfReader

import components.export_dialog as export_dialog
from components.export_dialog import BoardsDownload, ExportDialog, filter_summary, set_max_concurrent_builds
from components.data import SharedCampaign
from components.filters import HazardSelection
from components.i18n import tr
from components.kpi import KpiCards, format_count
from components.page_view import release_session
from components.state import DashboardState
from briefing.pack import PARTS
from store import Store
from store.annotations import add_annotation, unit_subject
from tests.conftest import SAMPLE_AS_OF, SAMPLE_CAMPAIGN

ANNOTATION = "会昌县8月复查：两处隐患整改资料待补充"
KPI_SHEET = "总体进展"
# 总体进展 rows of the workbook -> the overview card showing the same figure.
CARD_ROWS = {"排查发现重大事故隐患（个）": "found", "已完成整治（个）": "rectified", "政府挂牌督办（个）": "supervised",
             "逾期未整改隐患（条）": "overdue", "行政处罚（次）": "penalties", "责令停产整顿（家）": "suspensions",
             "移送司法机关（人）": "judicial"}


@pytest.fixture(scope="module")
def store_shared(tmp_path_factory) -> SharedCampaign:
    folder = tmp_path_factory.mktemp("export_store")
    with Store(folder) as store:
        assert store.ingest_paths([SAMPLE_CAMPAIGN], workers=1).count("accepted") > 300
        add_annotation(store, unit_subject("会昌县"), ANNOTATION, "市安委办 李明")
    return SharedCampaign(folder, as_of=SAMPLE_AS_OF)


def _dialog(shared: SharedCampaign, **state) -> ExportDialog:
    return ExportDialog(state=DashboardState(**state), shared=shared)


def _dashboard_cards(shared: SharedCampaign, state: DashboardState) -> KpiCards:
    """The overview's cards for ``state``, computed the way the page does."""
    return KpiCards(state=state, snapshot=shared.snapshot, selection=HazardSelection.for_session(state, shared))


def _kpi_sheet(xlsx: bytes) -> dict[str, object]:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)[KPI_SHEET]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and isinstance(row[0], str)}


def _members(built) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(built.zip_bytes)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def _of_kind(members: dict[str, bytes], suffix: str) -> bytes:
    return next(content for name, content in members.items() if name.endswith(suffix))


def test_defaults_follow_the_session_and_the_snapshot(store_shared):
    snapshot = store_shared.snapshot
    dialog = _dialog(store_shared, period_end="2023-08", units=["会昌县"], statuses=["in_progress"])
    assert dialog.param.period.objects == snapshot.periods
    assert (dialog.period, dialog.scope, dialog.issue_no) == ("2023-08", "会昌县", 4)  # 2023-05 is 第1期
    assert dialog.parts == list(PARTS) and dialog.keep_filters
    latest = _dialog(store_shared)
    assert (latest.period, latest.scope, latest.issue_no) == (snapshot.latest_period, "", 8)
    latest.period = "2023-06"
    assert latest.issue_no == 2
    assert filter_summary(dialog.state) == "当前筛选：单位 会昌县；整改状态 整改中"
    assert filter_summary(dialog.state, "en") == "Filters: Units 会昌县; Status In progress"
    assert filter_summary(latest.state) == "当前页面没有筛选条件。"


def test_a_build_zips_five_kinds_of_files_with_the_dashboards_figures(store_shared):
    state = DashboardState(period_end="2023-08", sectors=["construction", "fire"])
    dialog = ExportDialog(state=state, shared=store_shared)
    built = asyncio.run(dialog.build())
    assert dialog.phase == "done", dialog.error
    assert built is dialog.built
    members = _members(built)
    assert {name.rsplit(".", 1)[1] for name in members} == {"docx", "pdf", "xlsx", "pptx", "png"}
    assert built.filename.startswith("重大事故隐患专项排查整治简报_第4期_2023-08_全市") and built.filename.endswith(".zip")
    assert list(built.files) == [(name, len(content)) for name, content in members.items()]
    # The files open, and the PDF embeds every font.
    Document(io.BytesIO(_of_kind(members, ".docx")))
    assert len(PdfReader(io.BytesIO(_of_kind(members, ".pdf"))).pages) > 1
    # 总体进展 holds the overview cards' figures for the same filter and period.
    cards = _dashboard_cards(store_shared, state)
    figures, sheet = cards.figures(), _kpi_sheet(_of_kind(members, ".xlsx"))
    for label, card in CARD_ROWS.items():
        assert format_count(sheet[label]) == cards.cards[card].value, label
    assert sheet["行政处罚（万元）"] == pytest.approx(figures.fines_wan)
    # The ledger figures follow every filter: the sector filter reached the pack.
    unfiltered = _dashboard_cards(store_shared, DashboardState(period_end="2023-08")).figures()
    assert sheet["逾期未整改隐患（条）"] == figures.overdue != unfiltered.overdue
    # The download offers the zip; the dialog lists every file with its size.
    assert dialog._download.filename == built.filename
    listing = dialog._result.objects[1].object
    assert all(name in listing for name, _ in built.files) and "KB" in listing


def test_without_the_pages_filters_and_for_one_unit(store_shared):
    state = DashboardState(period_end="2023-08", sectors=["construction"])
    dialog = ExportDialog(state=state, shared=store_shared, keep_filters=False, parts=["xlsx"])
    dialog.scope = "会昌县"
    built = asyncio.run(dialog.build())
    assert dialog.phase == "done", dialog.error
    members = _members(built)
    assert [name.rsplit(".", 1)[1] for name in members] == ["xlsx"]
    assert "会昌县" in built.filename
    unit_only = _dashboard_cards(store_shared, DashboardState(period_end="2023-08", units=["会昌县"]))
    sheet = _kpi_sheet(members[next(iter(members))])
    for label, card in CARD_ROWS.items():
        assert format_count(sheet[label]) == unit_only.cards[card].value, label
    # The store's annotations on the unit are in the pack.
    workbook = openpyxl.load_workbook(io.BytesIO(members[next(iter(members))]))
    notes = [cell for row in workbook["工作批注"].iter_rows(values_only=True) for cell in row if cell]
    assert ANNOTATION in notes


def test_an_unknown_period_is_told_in_chinese(store_shared):
    dialog = _dialog(store_shared, period_end="2023-08")
    dialog.param.period.objects = [*dialog.param.period.objects, "2024-02"]
    dialog.param.update(period="2024-02", parts=["xlsx"])
    assert asyncio.run(dialog.build()) is None
    assert dialog.phase == "failed" and dialog.built is None
    assert dialog.error.startswith("无法生成简报：没有 2024-02 期的报送数据；已收到的期次：2023-05")
    alert = dialog._status.objects[0]
    assert "hb-export-error" in alert.css_classes and "无法生成简报" in alert.object
    assert not dialog._build_button.disabled


def test_an_unexpected_failure_names_the_step_and_logs_the_traceback(store_shared, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        progress = _args[-1] if _args else None
        progress(2, 4, "生成Excel 汇总表")
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_dialog, "build_pack", lambda *args: broken(*args))
    dialog = _dialog(store_shared)
    with caplog.at_level(logging.ERROR, logger="components.export_dialog"):
        assert asyncio.run(dialog.build()) is None
    assert dialog.error == "生成简报失败：在“生成Excel 汇总表”这一步出错（RuntimeError）。请稍后重试；如仍失败请联系管理员。"
    assert "Traceback" not in dialog.error and "disk full" not in dialog.error
    assert any(record.exc_info and "disk full" in str(record.exc_info[1]) for record in caplog.records)
    dialog.parts = []
    asyncio.run(dialog.build())
    assert dialog.error == tr("ex_no_parts")


def test_builds_queue_for_a_slot_and_one_runs_per_session(store_shared, monkeypatch):
    release = threading.Event()

    def slow_pack(*args):
        release.wait(30)
        return real_pack(*args)

    real_pack = export_dialog.build_pack
    monkeypatch.setattr(export_dialog, "build_pack", slow_pack)
    set_max_concurrent_builds(1)
    try:
        first, second = _dialog(store_shared), _dialog(store_shared)
        first.parts = second.parts = ["xlsx"]
        threads = [threading.Thread(target=asyncio.run, args=(d.build(),)) for d in (first, second)]
        threads[0].start()
        _wait(lambda: first.phase == "running")
        threads[1].start()
        _wait(lambda: second.phase == "queued")
        time.sleep(0.5)
        assert second.phase == "queued"  # still waiting for the slot
        assert second._build_button.disabled
        assert "排队中" in second._status.objects[1].object
        assert asyncio.run(first.build()) is None  # one build per session at a time
        release.set()
        for thread in threads:
            thread.join(60)
        assert first.phase == second.phase == "done"
        assert not second._build_button.disabled
    finally:
        release.set()
        set_max_concurrent_builds(2)


def _wait(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.filterwarnings("ignore:To use the Modal")
def test_closing_after_the_download_drops_the_pack(store_shared):
    """The officer downloaded the pack (its bytes now sit in the rendered button's model), then
    closed the dialog: the pack goes and the dialog opens on a new build (in the browser the
    close once failed Bokeh's validation and the old download stayed)."""
    dialog = _dialog(store_shared)
    dialog.parts = ["xlsx"]
    dialog.modal.open = True
    asyncio.run(dialog.build())
    download = dialog._download
    download.get_root(BokehDocument())  # as on a page
    download._transfer()  # what the click on the download button runs
    assert download.data.startswith("data:")
    dialog.modal.open = False
    assert dialog.built is None and dialog._download is None and dialog._result.objects == []
    assert not download.data and download.file is None


@pytest.mark.filterwarnings("ignore:To use the Modal")  # no browser here: the modal has no model to open
def test_the_bytes_go_when_the_dialog_closes_and_when_the_session_ends(store_shared):
    dialog = _dialog(store_shared)
    dialog.parts = ["xlsx"]
    dialog.modal.open = True
    asyncio.run(dialog.build())
    assert dialog.built is not None and dialog._download.file is not None
    dialog.modal.open = False
    assert dialog.built is None and dialog._download is None and dialog._result.objects == []
    asyncio.run(dialog.build())  # finished while the dialog was closed: offered when it is opened
    dialog.open()
    assert dialog.built is not None and dialog._download is not None
    dialog.open()  # opened again without a close reaching the server: the pack shown before is dropped
    assert dialog.built is None and dialog._download is None
    asyncio.run(dialog.build())
    assert dialog.built is not None
    release_session(dialog.state)  # what the end of a server session runs
    assert dialog.built is None and dialog.modal.objects == []
    state, reference = dialog.state, weakref.ref(dialog)
    del dialog
    gc.collect()
    # Nothing of the dialog stays with the session's state.
    assert reference() is None and sum(len(w) for what in state.param.watchers.values() for w in what.values()) == 0


def test_english_labels_and_a_language_switch(store_shared):
    dialog = _dialog(store_shared, lang="en")
    assert dialog.open_button.label == "Export briefing"
    dialog.open()  # its widgets are made when the officer first opens it
    assert dialog._build_button.label == "Build the pack"
    parts = next(w for w in dialog.modal.objects[0].objects if "hb-export-parts" in w.css_classes)
    assert list(parts.options) == ["Word briefing", "PDF briefing", "Excel summary", "Meeting slides", "Chart images"]
    dialog.state.lang = "zh"
    assert dialog.open_button.label == "导出简报" and dialog._build_button.label == "生成简报"
    zh_parts = next(w for w in dialog.modal.objects[0].objects if "hb-export-parts" in w.css_classes)
    assert list(zh_parts.options) == ["Word 简报", "PDF 简报", "Excel 汇总表", "会议幻灯片", "图表图片"]


def test_notice_boards_download_one_page_per_enterprise(store_shared):
    registry = store_shared.snapshot.campaign.registry
    boards = BoardsDownload(state=DashboardState(page="data"), shared=store_shared)
    assert list(boards.picker.options)[0] == "全部单位"
    unit = "章贡区"
    boards.picker.value = unit
    assert boards.download.filename.endswith(".pdf") and unit in boards.download.filename
    assert boards.download.label == "下载责任公示牌（PDF）"
    pdf = asyncio.run(boards._pdf()).getvalue()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == int((registry["unit"] == unit).sum()) > 0


def test_the_data_page_offers_the_boards(store_shared):
    from dashboards.pages import data

    page = data.build(DashboardState(page="data"), store_shared.snapshot, store_shared)
    assert any("hb-boards" in view.css_classes for view in page.objects)
