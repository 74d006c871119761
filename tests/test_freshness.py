"""One live dataset for every process: the store carries the data revision, a change made anywhere
(an upload in another process, ``hazardboard ingest`` from the shell) reaches a running server
without a restart, the process that made the change builds the dataset once and the others load
it from the store's cache, and a stale or damaged cache only means building again.

Each ``SharedCampaign`` here stands for one server process over the same store; every test runs
on SQLite and on a real PostgreSQL (``store_location``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import loaders
from components.data import SharedCampaign, describe_change
from store import Store, campaign_cache
from store.db import campaign_cache as cache_table
from store.db import parse_and_encode

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"
HAZARDBOARD = Path(sys.executable).with_name("hazardboard")
AS_OF = dt.date(2023, 12, 31)


def month(name: str) -> list[tuple[str, bytes]]:
    """The workbooks of one month folder of the sample campaign, as an upload: (name, bytes)."""
    folder = SAMPLE / name
    return [(f"{name}/{path.name}", path.read_bytes()) for path in sorted(folder.glob("*.xls*"))]


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """How many times the campaign was built from stored results (each call: the files' count)."""
    counted: list[int] = []
    build = loaders.build_campaign

    def counting(results, as_of=None):
        counted.append(len(results))
        return build(results, as_of)

    monkeypatch.setattr(loaders, "build_campaign", counting)
    return counted


_PARSED: dict[str, tuple] = {}


def seeded(location: str, months: tuple[str, ...] = ("2023年05月",)) -> str:
    """A store holding the sample's ``months``, as one batch (each file parsed once per test process)."""
    with Store(location) as store:
        batch = store.new_batch()
        for name in months:
            for file_name, data in month(name):
                if file_name not in _PARSED:
                    _PARSED[file_name] = parse_and_encode(data, file_name)
                store.ingest_bytes(data, file_name, parsed=_PARSED[file_name], batch=batch)
    return location


def test_an_upload_in_one_process_reaches_another_which_loads_it_instead_of_building(store_location, builds):
    here = SharedCampaign(seeded(store_location), as_of=AS_OF)
    there = SharedCampaign(store_location, as_of=AS_OF)
    assert len(builds) == 1  # the first process built it, the second loaded it from the store
    before = there.snapshot
    assert before.store_revision == here.snapshot.store_revision > 0

    outcomes = here.ingest(month("2023年06月"))
    assert {o.status for o in outcomes} == {"accepted"}
    assert len(builds) == 2  # the uploading process built it once
    assert there.catch_up() is True  # cached by the uploader: taken at once, no settling
    assert len(builds) == 2
    after = there.snapshot
    assert after.revision > before.revision and after.store_revision == here.snapshot.store_revision
    assert after.periods == ["2023-05", "2023-06"]
    pd.testing.assert_frame_equal(after.campaign.unique_hazards, here.snapshot.campaign.unique_hazards)
    assert there.catch_up() is False  # nothing new: nothing done
    note = describe_change(before, after)
    assert note.startswith("数据已更新：新增50个文件") and "重大隐患" in note
    assert describe_change(before, after, "en").startswith("Data updated: 50 new files")


def test_an_ingest_from_the_command_line_reaches_a_running_server(store_location, builds):
    server = SharedCampaign(seeded(store_location), as_of=AS_OF)
    shown = server.snapshot
    run = subprocess.run([str(HAZARDBOARD), "ingest", "--store", store_location, str(SAMPLE / "2023年07月")],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    deadline = time.monotonic() + 10
    while server.snapshot is shown and time.monotonic() < deadline:
        server.refresh()  # what each session's poll does: returns at once, the work is in a thread
        time.sleep(0.1)
    fresh = server.snapshot
    assert fresh is not shown, "the server did not take the command line's ingest within 10 s"
    assert fresh.periods == ["2023-05", "2023-07"]
    assert len(builds) == 1  # the server loaded what the command built
    assert len(fresh.campaign.unique_hazards) > len(shown.campaign.unique_hazards)


def test_a_change_without_a_cached_dataset_is_built_once_the_store_settles(store_location, builds):
    server = SharedCampaign(seeded(store_location), as_of=AS_OF)
    with Store(store_location) as store:  # e.g. an older program, or an ingest still running
        for name, data in month("2023年06月")[:4]:
            store.ingest_bytes(data, name)
    assert len(builds) == 1
    assert server.catch_up() is False  # new since the last look: the store may still be changing
    assert server.catch_up() is True  # unchanged since: built here
    assert len(builds) == 2 and len(server.snapshot.campaign.files) == 54


def test_a_process_waits_for_the_one_that_claimed_the_build_unless_the_claim_is_abandoned(store_location, builds, monkeypatch):
    server = SharedCampaign(seeded(store_location), as_of=AS_OF)
    with Store(store_location) as store:
        store.ingest_bytes(*reversed(month("2023年06月")[0]))
        revision = store.data_revision()
        assert campaign_cache.claim(store, revision)  # another process is building it
        assert not campaign_cache.claim(store, revision)
    assert server.catch_up(settle=False) is False and len(builds) == 1
    monkeypatch.setattr(campaign_cache, "CLAIM_TIMEOUT_S", 0)  # its process died
    assert server.catch_up(settle=False) is True and len(builds) == 2


def test_the_builder_claims_the_revision_before_reading_the_stored_results(store_location, builds, monkeypatch):
    """Reading every stored result (and a server's child starting) takes seconds at province
    scale: another process that looks meanwhile must find the claim and wait, not build too."""
    location = seeded(store_location)
    uploading, other = SharedCampaign(location, as_of=AS_OF), SharedCampaign(location, as_of=AS_OF)
    assert len(builds) == 1
    looked: list[bool] = []
    read = Store.results_at_revision

    def reading_while_the_other_looks(store):
        if not looked:
            looked.append(None)
            looked[0] = other.catch_up(settle=False)
        return read(store)

    monkeypatch.setattr(Store, "results_at_revision", reading_while_the_other_looks)
    uploading.ingest(month("2023年06月")[:4])
    assert looked == [False] and len(builds) == 2  # the other waited; built once, by the uploader
    assert other.catch_up(settle=False) is True and len(builds) == 2  # and it loads that build
    assert other.snapshot.campaign.summary() == uploading.snapshot.campaign.summary()


def test_a_restart_loads_the_cached_dataset_and_never_trusts_a_stale_or_damaged_one(store_location, builds, monkeypatch):
    location = seeded(store_location, ("2023年05月", "2023年06月"))
    cold = SharedCampaign(location, as_of=AS_OF).snapshot
    assert len(builds) == 1
    warm = SharedCampaign(location, as_of=AS_OF).snapshot
    assert len(builds) == 1
    # Every frame as built, column by column (names, order, dtypes, values, index, attrs), and the rest.
    for field in dataclasses.fields(loaders.Campaign):
        warm_value, cold_value = getattr(warm.campaign, field.name), getattr(cold.campaign, field.name)
        if isinstance(cold_value, pd.DataFrame):
            pd.testing.assert_frame_equal(warm_value, cold_value, check_exact=True)
            assert warm_value.attrs == cold_value.attrs
        else:
            assert warm_value == cold_value, field.name
    assert warm.campaign.summary() == cold.campaign.summary()

    with Store(location) as store, store.engine.begin() as conn:  # damaged bytes
        conn.execute(cache_table.update().values(payload=b"\x00" * 64))
    damaged = SharedCampaign(location, as_of=AS_OF).snapshot
    assert len(builds) == 2 and damaged.campaign.summary() == cold.campaign.summary()

    # Another parser or program version: its fingerprint differs, the cache is not used.
    monkeypatch.setattr(campaign_cache, "builder_fingerprint", lambda: "another-program")
    SharedCampaign(location, as_of=AS_OF)
    assert len(builds) == 3
    with Store(location) as store, store.engine.connect() as conn:
        keys = conn.execute(sa.select(cache_table.c.key)).scalars().all()
    assert keys == [f"another-program:{cold.store_revision}"]  # only the latest entry is kept


def test_a_cached_dataset_is_dated_as_a_cold_build_would_be(store_location, builds):
    location = seeded(store_location, ("2023年05月", "2023年06月"))
    SharedCampaign(location, as_of=dt.date(2023, 7, 1))  # built and cached on one day
    for day in (dt.date(2023, 7, 20), dt.date(2023, 9, 5)):
        with Store(location) as store:
            cached, _revision = campaign_cache.campaign_for(store, day)
            cold = loaders.build_campaign(store.results(), day)
        assert cached.as_of == day
        pd.testing.assert_frame_equal(cached.unique_hazards, cold.unique_hazards)
        assert cached.summary() == cold.summary()


def test_a_restore_moves_the_revision_on_so_every_process_rebuilds(tmp_path, builds):
    from store.backup import backup, restore

    location = seeded(str(tmp_path / "store"))
    server = SharedCampaign(location, as_of=AS_OF)
    with Store(location) as store:
        copy = backup(store, tmp_path / "copy.sqlite").path
        before = store.data_revision()
    restore(copy, location, replace=True)
    with Store(location) as store:
        assert store.data_revision() > before
    assert server.catch_up(settle=False) is True and len(builds) == 2


def test_a_server_builds_in_a_child_process_and_loads_what_it_kept(store_location, builds):
    server = SharedCampaign(seeded(store_location), as_of=AS_OF, build_in_child=True)
    assert builds == []  # the start-up build ran in a child process
    server.ingest(month("2023年06月")[:6])
    assert builds == [] and len(server.snapshot.campaign.files) == 56
    with Store(store_location) as store:
        cold = loaders.build_campaign(store.results(), AS_OF)
    assert server.snapshot.campaign.summary() == cold.summary()


def test_the_replaced_dataset_is_let_go_and_its_memory_given_back_once(store_location, builds, monkeypatch):
    """A server runs for weeks through many data changes: once its sessions have moved to the new
    dataset, nothing keeps the old one, and its pages are given back to the OS (once per change)."""
    import gc
    import weakref

    import components.data as data

    trims: list[float] = []
    monkeypatch.setattr(data, "_return_freed_memory", lambda collect=True: trims.append(time.monotonic()))
    monkeypatch.setattr(data, "TRIM_AFTER_SWAP_S", 0.5)
    monkeypatch.setattr(data, "STORE_POLL_S", 0.05)
    here = SharedCampaign(seeded(store_location), as_of=AS_OF)
    server = SharedCampaign(store_location, as_of=AS_OF)
    old = weakref.ref(server.snapshot)
    here.ingest(month("2023年06月"))

    def poll_until(condition, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            server.refresh()  # each session's poll
            time.sleep(0.05)

    poll_until(lambda: server.snapshot is not old())
    swapped = time.monotonic()
    trims.clear()  # those after each build, while the sessions still held the old dataset
    assert server.snapshot.periods == ["2023-05", "2023-06"]
    gc.collect()
    assert old() is None, "the process still holds the replaced dataset"
    poll_until(lambda: bool(trims))
    assert len(trims) == 1 and trims[0] - swapped >= 0.4
    poll_until(lambda: len(trims) > 1, seconds=1)
    assert len(trims) == 1  # nothing new: no more trims


def _open_page(shared: SharedCampaign, page: str, **filters):
    """A session's whole app (``create_app``) showing ``page``; returns its state and a finder of its views."""
    import panel as pn

    from components.state import DashboardState
    from dashboards.app import create_app

    state = DashboardState(page=page, **filters)
    app = create_app(shared, state)

    def views(kind, css_class: str | None = None) -> list:
        found = [view for root in app.main for view in root.select(kind)]
        return [view for view in found if css_class is None or css_class in view.css_classes]

    return state, views, pn


def test_an_open_hazards_page_takes_new_data_in_place(store_location, campaign):
    """A data change (the session's poll sets ``data_revision``) redraws the hazards page's views where
    they stand: the same summary, table and charts show the new dataset under the session's filter,
    no watcher is added, and the replaced dataset is let go. A page whose views do not follow new
    data (the overview) is built again."""
    import gc
    import weakref

    from components.page_view import release_session, session_scope
    from components.read_only_table import ReadOnlyTable

    here = SharedCampaign(seeded(store_location), as_of=AS_OF)
    state, views, pn = _open_page(here, "hazards", units=["信丰县"])
    summary = views(pn.pane.Markdown, "hb-hazards-summary")[0]
    table = views(ReadOnlyTable)[0]
    bars = next(pane.object for pane in views(pn.pane.Bokeh) if "hb-chart-by-unit" in pane.object.css_classes)

    def bar_total() -> int:
        data = bars.renderers[0].data_source.data
        assert list(data["x"]) == ["信丰县"]
        return int(sum(values[0] for column, values in data.items() if column != "x"))

    watchers = session_scope(state).page_watcher_count
    old = weakref.ref(here.snapshot)
    assert set(table.value["first_period"]) == {"2023-05"}
    assert bar_total() == len(table.value)
    county = lambda: here.snapshot.campaign.unique_hazards.query("unit == '信丰县'")  # noqa: E731

    # Its detail is open beside the table: a hazard June's ledger reports again.
    ledger = campaign.hazards
    in_june = set(ledger.loc[ledger["period"] == "2023-06", "hazard_id"])
    state.hazard = next(hazard for hazard in table.value["hazard_id"] if hazard in in_june)
    history = lambda: views(pn.pane.DataFrame, "hb-detail-history")[0].object  # noqa: E731
    assert list(history()["报送月份"]) == ["2023-05"]

    here.ingest(month("2023年06月"))
    with pn.io.hold():  # what the session's poll does (``dashboards.app.watch_revision``)
        state.data_revision = here.snapshot.revision
    expected = county()
    assert len(expected) > 0 and set(expected["first_period"]) == {"2023-05", "2023-06"}
    assert views(pn.pane.Markdown, "hb-hazards-summary") == [summary]  # the same view, not a new page
    assert summary.object.startswith(f"共 {len(expected)} 条隐患")
    assert views(ReadOnlyTable) == [table] and set(table.value["first_period"]) == {"2023-05", "2023-06"}
    assert set(table.value["unit"]) == {"信丰县"}
    assert bar_total() == len(expected)
    assert list(history()["报送月份"]) == ["2023-05", "2023-06"]  # the hazard as June's ledger has it too
    assert session_scope(state).page_watcher_count == watchers
    gc.collect()
    assert old() is None, "the open page still holds the replaced dataset"

    release_session(state)
    state, views, pn = _open_page(here, "overview")
    heading = views(pn.pane.Markdown, "hb-overview-heading")[0]
    here.ingest(month("2023年07月"))
    state.data_revision = here.snapshot.revision
    rebuilt = views(pn.pane.Markdown, "hb-overview-heading")
    assert rebuilt != [heading] and "2023-07" in rebuilt[0].object

