"""A server that stays up for weeks: bounded shared caches, uploads that fail cleanly or are too
large, the websocket limit, and the Panel internals the app relies on (issue 8, points 5, 6, 7, 10)."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import re
import gc
import threading
import tomllib
import weakref
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import panel as pn
from panel.io.notifications import NotificationArea
import pytest
from bokeh.document import Document

from components import upload
from components.data import CampaignSnapshot, SharedCampaign
from components.dispatch_views import review_for
from components.state import DashboardState
from components.upload import UploadJob, UploadPanel
from tests.conftest import SAMPLE_CAMPAIGN, recording_serve

ROOT = Path(__file__).resolve().parents[1]


# --- point 5: shared caches are bounded ------------------------------------------------

def _fresh(shared: SharedCampaign, **bounds) -> CampaignSnapshot:
    """A snapshot of the shared campaign with an empty cache of its own."""
    snapshot = CampaignSnapshot.build(shared.snapshot.campaign, 0)
    for name, value in bounds.items():
        setattr(snapshot, name, value)
    return snapshot


def test_derived_cache_is_bounded_in_entries_and_keeps_the_recent(shared):
    snapshot = _fresh(shared, max_entries=50)
    for index in range(300):
        snapshot.derived(("period_end", index), lambda index=index: index)
        snapshot.derived("hazard_index", lambda: "index")  # used by every page: stays
    assert len(snapshot._derived) == 50
    assert "hazard_index" in snapshot._derived
    assert ("period_end", 299) in snapshot._derived and ("period_end", 0) not in snapshot._derived
    builds = []
    assert snapshot.derived(("period_end", 299), lambda: builds.append(1)) == 299 and not builds


def test_derived_cache_is_bounded_in_bytes(shared):
    snapshot = _fresh(shared, max_bytes=10 * 1024 * 1024)
    for index in range(40):  # about 1.6 MB each
        snapshot.derived(("frame", index), lambda index=index: pd.DataFrame({"x": range(200_000)}) + index)
    assert snapshot.derived_bytes <= 10 * 1024 * 1024
    assert ("frame", 39) in snapshot._derived and ("frame", 0) not in snapshot._derived
    # A value over the whole budget is still returned and kept until the next one.
    big = snapshot.derived("big", lambda: pd.DataFrame({"x": range(2_000_000)}))
    assert len(big) == 2_000_000 and list(snapshot._derived) == ["big"]


def test_weekly_review_since_dates_stay_within_the_cache_bounds(shared):
    """60 ``since`` dates on 周调度 held 49.7 MB on main; now at most the bounds."""
    snapshot = _fresh(shared, max_entries=20)
    period = snapshot.latest_period
    for day in range(60):
        review_for(snapshot, period, dt.date(2023, 6, 1) + dt.timedelta(days=day))
    assert len(snapshot._derived) == 20


# --- point 6: a failed upload leaves the page usable -----------------------------------

@pytest.fixture
def small_store(tmp_path):
    shared = SharedCampaign(tmp_path / "store")
    august = sorted((SAMPLE_CAMPAIGN / "2023年08月").glob("*.xlsx"))[:3]
    shared.ingest([(p.name, p.read_bytes()) for p in august])
    return shared


def _one_file():
    path = sorted((SAMPLE_CAMPAIGN / "2023年09月").glob("*.xlsx"))[0]
    return [(path.name, path.read_bytes())]


@pytest.mark.parametrize("where", ["store", "build"])
def test_a_failed_upload_ends_the_job_says_why_and_changes_nothing(small_store, monkeypatch, where):
    state = DashboardState()
    panel = UploadPanel(state=state, shared=small_store, job=UploadJob())
    before = small_store.snapshot

    def fail(*_args, **_kwargs):
        raise MemoryError()

    if where == "store":
        monkeypatch.setattr(small_store.store, "ingest_upload", fail)
    else:
        monkeypatch.setattr(small_store, "_build", fail)
    panel.file_input.param.update(filename=[name for name, _ in _one_file()], value=[data for _, data in _one_file()])
    asyncio.run(panel._import(None))
    job = panel.job
    assert not job.running
    assert "导入失败" in job.status_text("zh") and "MemoryError" in job.status_text("zh")
    assert "import failed" in job.status_text("en")
    assert not panel.import_button.disabled
    assert small_store.snapshot is before and small_store.snapshot.revision == before.revision
    # The page's status line shows it.
    assert "导入失败" in panel._progress_view().object
    # And the next upload works.
    monkeypatch.undo()
    asyncio.run(job.run(small_store, _one_file()))
    # (after a failed build the file is already stored: the retry skips it and builds with it)
    assert not job.error and [o.status for o in job.outcomes] == ["accepted" if where == "store" else "skipped"]
    assert small_store.snapshot.revision == before.revision + 1
    assert job.after["files"] == job.before["files"] + 1


def test_an_upload_of_files_already_stored_rebuilds_nothing(small_store):
    """Sessions recompute their views on a new revision: files all stored before change nothing."""
    small_store.ingest(_one_file())
    snapshot = small_store.snapshot
    outcomes = small_store.ingest(_one_file())
    assert [o.status for o in outcomes] == ["skipped"]
    assert small_store.snapshot is snapshot and small_store.snapshot.revision == snapshot.revision


def test_revision_and_snapshot_change_together(small_store):
    revision = small_store.snapshot.revision
    small_store.ingest(_one_file())
    assert small_store.snapshot.revision == small_store._revision == revision + 1


# --- point 7: the upload limit ---------------------------------------------------------

def test_an_oversized_selection_is_refused_with_the_limit_named(small_store, monkeypatch):
    monkeypatch.setattr(upload, "UPLOAD_LIMIT_BYTES", 1024 * 1024)
    panel = UploadPanel(state=DashboardState(), shared=small_store, job=UploadJob())
    revision = small_store.snapshot.revision
    files_before = len(small_store.store.files_frame())
    panel.file_input.param.update(filename=["大.xlsx"], value=[b"x" * (3 * 1024 * 1024)])
    asyncio.run(panel._import(None))
    message = panel._message.object
    assert panel._message.visible and "3 MB" in message and "上限 1 MB" in message
    assert len(small_store.store.files_frame()) == files_before and small_store.snapshot.revision == revision
    assert panel.file_input.value == []  # the bytes are not kept in the session
    assert "limit of 200 MB" in upload.too_large_text(300 * 1024 * 1024, "en", 200 * 1024 * 1024)


def _send(chooser, files: list[tuple[str, bytes]], chunk: int = 3, announce: list[int] | None = None):
    """What the chooser's JavaScript sends for a selection within the limit."""
    import base64

    sizes = announce or [len(data) for _, data in files]
    chooser._handle_msg({"type": "start", "id": "s1", "names": [name for name, _ in files], "sizes": sizes})
    for index, (_, data) in enumerate(files):
        for offset in range(0, len(data), chunk):
            chooser._handle_msg({"type": "chunk", "id": "s1", "file": index,
                                 "data": base64.b64encode(data[offset:offset + chunk]).decode()})
    chooser._handle_msg({"type": "end", "id": "s1"})


def test_chunked_chooser_assembles_files_and_reports_progress():
    chooser = upload.ChunkedFileInput(limit=100)
    progress = []
    chooser.param.watch(lambda event: progress.append(event.new), "received")
    _send(chooser, [("a.xlsx", b"0123456789"), ("empty.xlsx", b""), ("b.xls", b"abcdefg")])
    assert chooser.filename == ["a.xlsx", "empty.xlsx", "b.xls"]
    assert chooser.value == [b"0123456789", b"", b"abcdefg"]
    assert not chooser.receiving and progress[-1] == 17 and len(progress) > 3
    chooser.clear()
    assert chooser.value == [] and chooser.filename == []


def test_chunked_chooser_refuses_past_the_limit_even_when_the_browser_lies():
    chooser = upload.ChunkedFileInput(limit=10 * 1024 * 1024)
    # The browser refuses first and sends only names and size.
    chooser._handle_msg({"type": "refused", "names": ["大.xlsx"], "size": 26 * 1024 * 1024})
    assert "26 MB" in chooser.refused and "上限 10 MB" in chooser.refused and chooser.value == []
    # A client announcing more than the limit is refused before any bytes.
    chooser._handle_msg({"type": "start", "id": "x", "names": ["a"], "sizes": [11 * 1024 * 1024]})
    assert "上限 10 MB" in chooser.refused and not chooser.receiving
    # A client sending more than it announced is cut off.
    small = upload.ChunkedFileInput(limit=100)
    _send(small, [("a.xlsx", b"x" * 50)], chunk=10, announce=[20])
    assert small.value == [] and "上限" in small.refused and not small.receiving


def test_the_browser_refusal_text_names_the_limit(small_store):
    panel = UploadPanel(state=DashboardState(), shared=small_store, job=UploadJob())
    assert "上限 200 MB" in panel.file_input.refused_text and "{size}" in panel.file_input.refused_text
    assert panel.file_input.limit == upload.UPLOAD_LIMIT_BYTES


def test_import_waits_while_files_are_still_arriving(small_store):
    panel = UploadPanel(state=DashboardState(), shared=small_store, job=UploadJob())
    panel.file_input._handle_msg({"type": "start", "id": "x", "names": ["a.xlsx"], "sizes": [10]})
    assert panel.import_button.disabled
    asyncio.run(panel._import(None))
    assert "仍在上传" in panel._message.object and not panel.job.outcomes


def test_serve_sets_the_upload_limit_and_a_websocket_limit_that_fits_a_chunk(monkeypatch):
    from dashboards import app

    calls = []
    monkeypatch.setattr(pn, "serve", recording_serve(calls))
    monkeypatch.setattr(upload, "UPLOAD_LIMIT_BYTES", upload.UPLOAD_LIMIT_BYTES)
    app.serve(store="unused", num_procs=2, upload_limit_mb=50)
    (kwargs,) = calls
    assert upload.UPLOAD_LIMIT_BYTES == 50 * 1024 * 1024
    # One chunk, base64-encoded in a JSON message, fits; the whole selection never travels at once.
    chunk_message = len('{"type":"chunk","id":"0.123","file":0,"data":""}') + upload.UPLOAD_CHUNK_BYTES * 4 // 3 + 4
    assert chunk_message < kwargs["websocket_max_message_size"] <= 64 * 1024 * 1024
    app.serve(store="unused", num_procs=2)
    assert upload.UPLOAD_LIMIT_BYTES == 200 * 1024 * 1024
    # Sessions whose browser has gone: Bokeh's 15 s by default, checked twice as often as they expire.
    assert (calls[-1]["unused_session_lifetime_milliseconds"], calls[-1]["check_unused_sessions_milliseconds"]) == (15000, 7500)
    app.serve(store="unused", num_procs=2, session_expiry_s=5)
    assert (calls[-1]["unused_session_lifetime_milliseconds"], calls[-1]["check_unused_sessions_milliseconds"]) == (5000, 2500)
    assert all(kwargs["start"] is False for kwargs in calls)  # started once the warm-up is scheduled


def test_the_start_up_warm_up_gives_way_to_a_visitor_already_waiting(monkeypatch, small_store):
    """Once the port is open, a process draws the landing page for nobody, unless an officer's page
    was asked for first: that page does the same work, and must not wait behind it."""
    from dashboards import app

    drawn, loaded, later = [], [], []
    monkeypatch.setattr(app, "warm_up", lambda dataset: drawn.append(dataset))
    monkeypatch.setattr(app, "load_chart_modules", lambda: loaded.append(True))
    loop = SimpleNamespace(call_later=lambda delay, callback: later.append((delay, callback)))
    visited = threading.Event()
    app.warm_up_unless_visited(lambda: small_store, visited, loop)
    assert drawn == [small_store] and loaded == [True] and later == []
    visited.set()
    app.warm_up_unless_visited(lambda: small_store, visited, loop)
    # No second drawing; the other pages' chart modules load once that visitor's page is drawn.
    assert drawn == [small_store] and loaded == [True]
    assert len(later) == 1 and later[0][0] >= 3
    later[0][1]()
    assert loaded == [True, True]


def test_the_dataset_loaded_while_the_server_imports_is_the_one_it_serves_and_a_bad_store_still_fails(
        small_store, tmp_path, monkeypatch):
    """``serve`` loads the dataset in a thread while Panel is imported; the server's own call then
    finds it, and a store that cannot be read still stops the server with its error."""
    from components import data

    monkeypatch.setattr(data, "_SHARED", {})
    location = str(tmp_path / "store")
    data.start_loading_shared_campaign(location).join(timeout=120)
    (loaded,) = data._SHARED.values()
    assert data.get_shared_campaign(location, None, build_in_child=True) is loaded
    assert loaded.snapshot.units == small_store.snapshot.units

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "hazardboard.sqlite").write_bytes(b"not a database" * 100)
    data.start_loading_shared_campaign(str(broken)).join(timeout=120)
    assert len(data._SHARED) == 1  # nothing kept of the failure
    with pytest.raises(Exception, match="无法打开数据库.*broken"):
        data.get_shared_campaign(str(broken), None, build_in_child=True)


def test_the_landing_page_needs_no_holoviews_backend_and_the_other_pages_load_it_with_a_canvas():
    """HoloViews' Bokeh backend and matplotlib (~0.4 s) are not on the way to a server's first page:
    the overview draws Bokeh figures. ``load_chart_modules`` loads the other pages' charts after it,
    drawn on a canvas, not WebGL."""
    import subprocess
    import sys

    script = """
import sys
from components.data import SharedCampaign
from dashboards.app import load_chart_modules, warm_up
from loaders import load_paths
from tests.conftest import SAMPLE_CAMPAIGN
warm_up(SharedCampaign.from_campaign(load_paths([SAMPLE_CAMPAIGN])))
backend = ("holoviews.plotting.bokeh", "matplotlib")
print(sorted(name for name in backend if name in sys.modules))
load_chart_modules()
print(sorted(name for name in backend if name in sys.modules))
from holoviews.plotting.bokeh import BokehRenderer
print(BokehRenderer.webgl)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:3] == ["[]", "['holoviews.plotting.bokeh', 'matplotlib']", "False"]


def test_pn_serve_hands_the_websocket_limit_to_tornado():
    """The setting travels pn.serve -> Bokeh Server -> Tornado's ``websocket_max_message_size``."""
    server = pn.serve({"/": lambda: pn.pane.Markdown("x")}, port=0, start=False, show=False,
                      websocket_max_message_size=300 * 1024 * 1024)
    try:
        assert server._tornado.settings["websocket_max_message_size"] == 300 * 1024 * 1024
    finally:
        server.stop()


# --- point 10: Panel internals, version bounds, session clean-up ---------------------------

def test_private_panel_debounce_still_exists():
    """components/filters.py sets ``widget._debounce = 0`` (a private Panel attribute) so a filter
    change is handled at once. If this fails, Panel renamed it: the filters wait 50 ms again
    (setting the attribute does nothing); find the new mechanism before moving the Panel bound."""
    import inspect

    from panel.reactive import Syncable

    assert isinstance(Syncable._debounce, int)
    assert "self._debounce" in inspect.getsource(Syncable._server_change)


def test_panel_and_bokeh_have_upper_bounds_that_admit_the_installed_versions():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for package in ("panel", "bokeh"):
        (spec,) = [d for d in dependencies if re.match(rf"{package}\b", d)]
        upper = re.search(r"<\s*([\d.]+)", spec)
        assert upper, f"{package} needs an upper bound: {spec}"
        installed = tuple(int(part) for part in importlib.metadata.version(package).split(".")[:2])
        assert installed < tuple(int(part) for part in upper.group(1).split(".")), (package, spec)


def test_app_uses_no_private_periodic_callback_keyword():
    source = (ROOT / "dashboards" / "app.py").read_text()
    assert "background=True" not in source and "panel.io.callbacks" not in source


def test_revision_poll_stops_when_the_session_ends(shared, monkeypatch):
    from dashboards.app import watch_revision

    class Context:  # stands in for Bokeh's session context
        id = "test-session"

    context = Context()
    doc = Document()
    doc._session_context = weakref.ref(context)
    monkeypatch.setattr(type(pn.state), "curdoc", property(lambda self: doc))
    state = DashboardState()
    callback = watch_revision(state, shared)
    assert callback in doc.session_callbacks
    callback.callback()  # one poll: follows the shared revision
    assert state.data_revision == shared.snapshot.revision
    for destroyed in doc.session_destroyed_callbacks:
        destroyed(context)
    assert callback not in doc.session_callbacks


def test_chunked_chooser_renders_inside_a_designed_template():
    """A page rebuilt after an upload renders the chooser with the template's design set on it
    (Panel then passed ``design`` to the Bokeh model, which refused it)."""
    from panel.theme import Bootstrap

    chooser = upload.ChunkedFileInput(limit=10, design=Bootstrap)
    model = chooser.get_root()
    assert "filename" not in model.data.properties_with_values() and "value" not in model.data.properties_with_values()


def test_data_page_visits_leave_no_watchers_on_the_session_upload_job(small_store):
    from components.page_view import begin_page

    state = DashboardState()
    job = UploadJob.for_session(state)

    def watchers() -> int:
        return sum(len(group) for names in job.param.watchers.values() for group in names.values())

    counts = []
    for _visit in range(5):
        begin_page(state)
        UploadPanel(state=state, shared=small_store).__panel__()
        counts.append(watchers())
    assert counts[0] > 0 and len(set(counts)) == 1, counts


def test_panel_still_registers_rendered_roots_where_the_session_end_forgets_them():
    """``forget_panel_views`` relies on Panel's private ``state._views`` (ref → (view, model,
    document, comm)); this fails the day Panel changes it, before sessions start to leak."""
    from components.page_view import forget_panel_views

    doc, other = Document(), Document()
    root = pn.Column(pn.pane.Markdown("x")).get_root(doc)
    kept = pn.Column().get_root(other)
    entry = pn.state._views[root.ref["id"]]
    assert isinstance(entry, tuple) and len(entry) == 4 and entry[1] is root and entry[2] is doc
    forget_panel_views(doc)
    assert root.ref["id"] not in pn.state._views and kept.ref["id"] in pn.state._views
    forget_panel_views(other)


def test_the_landing_page_drawn_at_start_up_keeps_nothing_after_a_data_change(small_store):
    """``serve`` draws the landing page once after the port opens (``warm_up``), in a document no
    session owns. Once the data change, that page must not keep the first dataset alive: at
    province scale it held 190 MB in every server process until the restart."""
    from dashboards.app import warm_up

    warm_up(small_store)
    first = weakref.ref(small_store.snapshot)
    small_store.ingest(_one_file())
    assert small_store.snapshot is not first()
    gc.collect()
    assert first() is None, "something still holds the dataset the start-up page was drawn on"


def test_panel_still_has_the_session_end_hooks_an_unserved_document_is_released_with():
    """``destroy_unserved_document`` runs Panel's private ``state._destroy_session`` and clears
    ``state._stylesheets``; this fails the day Panel changes them."""
    from components.page_view import destroy_unserved_document

    doc = Document()
    area = NotificationArea()  # as the process-wide one outside a session: drawn into many documents
    template = pn.template.BootstrapTemplate(main=[pn.pane.Markdown("x")])
    template.server_doc(doc)
    area_root = area.get_root(doc)
    assert doc in pn.state._templates and doc in pn.state._stylesheets and area._documents[doc] is area_root
    destroy_unserved_document(doc)
    assert doc not in pn.state._templates and doc not in pn.state._stylesheets and doc not in area._documents
    assert all(entry[2] is not doc for entry in pn.state._views.values())


def test_a_server_never_loads_matplotlib_plotting_and_exports_still_style_their_charts():
    """HoloViews' matplotlib backend and pyplot cost a server ~1 s of start-up and their memory for
    charts it only draws with Bokeh: serving imports neither, nor ``matplotlib.figure`` (which
    Panel imported to ask whether an object is a figure: ~0.3 s). The exports load the backend
    first (``briefing/charts.py``), so the charts they draw keep their matplotlib options, and
    Panel still shows a matplotlib figure."""
    import subprocess
    import sys

    script = """
import sys
import dashboards.app, dashboards.meeting, dashboards.signin, components.export_dialog
from dashboards.pages import annotations, data, dispatch, enforcement, hazards, map, overview, training
import panel as pn
pn.panel(None)  # Panel asks whether it is a matplotlib figure
print(sorted(name for name in ("holoviews.plotting.mpl", "matplotlib.pyplot", "matplotlib.figure") if name in sys.modules))
import briefing.charts
from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg
figure = Figure()
FigureCanvasAgg(figure)
print(type(pn.panel(figure)).__name__)  # once a figure can exist, Panel shows it
import holoviews as hv
import pandas as pd
from components.county_map import county_choropleth
print(hv.Store.current_backend)
figure = hv.render(county_choropleth(pd.Series({"章贡区": 12, "南康区": 40}), "隐患数"), backend="matplotlib")
print("隐患数" in {axes.get_ylabel() for axes in figure.axes})
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["[]", "Matplotlib", "bokeh", "True"]
