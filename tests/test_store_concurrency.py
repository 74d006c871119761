"""Several writers on one store at once: none collides, none waits long.

The committee runs ``hazardboard serve`` (uploads) while officers run ``hazardboard ingest``
from a shell, so several processes write to one store: on SQLite (one writer at a time) and on
PostgreSQL (writers really run at once: sequences by max()+1 retried, counters locked for update).
Each test starts real processes (fork: the parent's imports are reused, so a child costs
milliseconds, not an import of pandas).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import loaders
from store import Store
from store import db as store_db

from .test_store import CHEMICAL_PLANT, LEDGER_HEADER, ledger_workbook

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()")
FORK = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
AS_OF = dt.date(2023, 10, 1)
assert len(LEDGER_HEADER) == len(CHEMICAL_PLANT)


def distinct_ledger(index: int) -> bytes:
    """A small ledger whose content differs from every other index's."""
    return ledger_workbook([[1, "章贡区", f"赣州第{index}化工有限公司", "危化", f"第{index}号储罐区未设置紧急切断装置",
                             "加装紧急切断装置", "无", dt.date(2023, 9, 30), "整改中"]])


def _ingest_one(url: str, data: bytes, name: str, barrier, results) -> None:
    """Child: open the store, parse, wait for every sibling, then store at the same instant."""
    try:
        store = Store(url)
        parsed = store_db.parse_and_encode(data, name)
        barrier.wait(timeout=30)
        outcome = store.ingest_bytes(data, name, parsed)
        results.put((name, outcome.status, None))
    except Exception as error:  # reported to the parent, which asserts there is none
        results.put((name, None, f"{error.__class__.__name__}: {error}"))


def _ingest_paths(url: str, folder: str, results) -> None:
    try:
        report = Store(url).ingest_paths([folder], workers=1)
        results.put((folder, [o.status for o in report.outcomes], None))
    except Exception as error:
        results.put((folder, None, f"{error.__class__.__name__}: {error}"))


def run_concurrent_ingests(url: str, count: int) -> list[tuple[str, str | None, str | None]]:
    """``count`` processes, each storing a different file at the same moment; their reports."""
    Store(url).close()  # the tables exist before the race: what is measured is the ingest
    barrier, results = FORK.Barrier(count), FORK.Queue()
    children = [FORK.Process(target=_ingest_one, args=(url, distinct_ledger(i), f"台账{i:02d}.xlsx", barrier, results))
                for i in range(count)]
    for child in children:
        child.start()
    reports = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    return reports


def test_eight_processes_ingesting_different_files_at_once_all_succeed(store_location):
    url = store_location
    reports = run_concurrent_ingests(url, 8)

    assert [error for _, _, error in reports if error] == []
    assert sorted(status for _, status, _ in reports) == ["accepted"] * 8
    with Store(url) as store:
        stored = store.files_frame()
        history = store.submission_history()
        summary = store.campaign(AS_OF).summary()
    assert len(stored) == 8 and sorted(stored["sequence"]) == list(range(1, 9))
    # Each file received on its own is a batch of its own: eight distinct batches, and the
    # ledger stored last (the highest batch) is the one that counts for 章贡区's August.
    assert history["batch"].nunique() == 8
    latest = history.sort_values("batch").iloc[-1]
    assert history.loc[history["active"], "file_name"].tolist() == [latest["file_name"]]
    assert summary["files"] == {"accepted": 8, "rejected": 0} and summary["hazards"]["unique"] == 1


def test_a_command_line_ingest_while_another_process_ingests(store_location, tmp_path):
    url = store_location
    Store(url).close()
    folders = []
    for side in ("cli", "upload"):
        folder = tmp_path / side
        folder.mkdir()
        for i in range(6):
            index = i if side == "cli" else 100 + i
            (folder / f"台账{index:03d}.xlsx").write_bytes(distinct_ledger(index))
        folders.append(folder)
    results = FORK.Queue()
    children = [FORK.Process(target=_ingest_paths, args=(url, str(folder), results)) for folder in folders]
    for child in children:
        child.start()
    reports = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)

    assert [error for _, _, error in reports if error] == []
    assert [sorted(statuses) for _, statuses, _ in reports] == [["accepted"] * 6] * 2
    with Store(url) as store:
        history = store.submission_history()
        stored = store.files_frame()
    assert sorted(stored["sequence"]) == list(range(1, 13))
    # Each ingest_paths call is one batch, whichever order the two interleaved in.
    batches = history.assign(side=history["file_name"].str.slice(2, 3).map({"0": "cli", "1": "upload"})).groupby("side")["batch"]
    assert batches.nunique().to_dict() == {"cli": 1, "upload": 1}
    assert batches.first()["cli"] != batches.first()["upload"]


def _open_at_once(url: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=30)
        with Store(url) as store:
            results.put((store.secret("cookie"), None))
    except Exception as error:
        results.put((None, f"{error.__class__.__name__}: {error}"))


def test_processes_opening_a_new_postgresql_store_at_once_all_succeed(postgresql_database):
    """Servers started together on an empty database: one creates the tables, the others wait
    for it (an advisory lock), and all share one cookie secret."""
    url = postgresql_database()
    barrier, results = FORK.Barrier(4), FORK.Queue()
    children = [FORK.Process(target=_open_at_once, args=(url, barrier, results)) for _ in range(4)]
    for child in children:
        child.start()
    reports = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [error for _, error in reports if error] == []
    assert len({secret for secret, _ in reports}) == 1


def _write_lock_waits(path: str, ready, stop, results) -> None:
    """Child: take SQLite's write lock again and again (as another ingest would), timing each wait."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    waits = []
    ready.set()
    while not stop.is_set():
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        waits.append(time.perf_counter() - started)
        connection.execute("UPDATE schema_info SET value = value WHERE key = 'schema_version'")
        connection.execute("COMMIT")
        started = time.perf_counter()
        connection.execute("SELECT count(*) FROM files").fetchone()
        waits.append(time.perf_counter() - started)
        time.sleep(0.005)
    connection.close()
    results.put((len(waits), max(waits)))


def test_a_reparse_does_not_hold_the_write_lock(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    url = f"sqlite:///{path}"
    with Store(url) as store:
        for i in range(30):
            store.ingest_bytes(distinct_ledger(i), f"台账{i:02d}.xlsx")
        expected = store.campaign(AS_OF).summary()
    # A parser 60 ms slower per file: 30 stale files take about two seconds to read again.
    parse = loaders.load_workbook

    def slow_parse(*args, **kwargs):
        time.sleep(0.06)
        return parse(*args, **kwargs)

    monkeypatch.setattr(loaders, "load_workbook", slow_parse)
    monkeypatch.setattr(loaders, "PARSER_VERSION", loaders.PARSER_VERSION + 1)
    ready, stop, results = FORK.Event(), FORK.Event(), FORK.Queue()
    writer = FORK.Process(target=_write_lock_waits, args=(str(path), ready, stop, results))
    writer.start()
    assert ready.wait(timeout=30)
    try:
        started = time.perf_counter()
        with Store(url) as store:
            summary = store.campaign(AS_OF).summary()
            versions = set(store.files_frame()["parser_version"])
        reparse_seconds = time.perf_counter() - started
    finally:
        stop.set()
        locks, longest_wait = results.get(timeout=30)
        writer.join(timeout=30)

    assert summary == expected and versions == {loaders.PARSER_VERSION}
    assert reparse_seconds > 1.5  # the re-parse really ran while the other writer wrote
    assert locks > 50
    # Before: the whole re-parse was one write transaction, the writer waited for all of it.
    assert longest_wait < 0.5, f"another writer waited {longest_wait:.2f} s during a {reparse_seconds:.2f} s re-parse"
