"""Nothing lost (issue 10): durable commits, uploads wholly in or wholly out, audit entries
written with the change they describe, and a writer killed with SIGKILL mid-write.

The kill test runs ``tests/durability_child.py`` (the server's write paths in a loop) in a real
process, kills it at several moments, and checks the store it left after each kill.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import Store
from store import db as store_db
from store.annotations import Annotations, add_annotation, edit_annotation, reopen_annotation, resolve_annotation, unit_subject
from store.audit import Actor, entries
from store.db import NOT_AUTHORISED_CODE, OUTCOME_LABELS, files

from . import durability_child as child
from .test_store import AUGUST_FORM, CHEMICAL_PLANT, county_form_workbook, ledger_workbook

ROOT = Path(__file__).resolve().parent.parent
OFFICER = Actor("张三", "unit", "10.0.0.7")
FORK = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _sqlite_file(store: Store | Path) -> Path:
    return Path(store.url.removeprefix("sqlite:///")) if isinstance(store, Store) else store / store_db.STORE_FILE_NAME


def test_sqlite_store_is_in_wal_with_full_sync(tmp_path):
    with Store(tmp_path) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: the WAL is synced at each commit


# --- uploads --------------------------------------------------------------------------------

def _upload_files() -> list[tuple[str, bytes]]:
    return [("章贡区8月台账.xlsx", ledger_workbook([CHEMICAL_PLANT])),
            ("章贡区8月调度表.xlsx", county_form_workbook(AUGUST_FORM)),
            ("会昌县8月调度表.xlsx", county_form_workbook(AUGUST_FORM, unit="会昌县"))]


def _only_zhanggong(result):
    units = {submission.unit for submission in result.submissions}
    return None if units <= {"章贡区"} else f"只能上传本单位（章贡区）的文件，此文件属于：{'、'.join(sorted(units))}"


def test_an_upload_is_one_batch_refused_files_are_not_stored_and_each_file_is_audited(tmp_path):
    with Store(tmp_path) as store:
        progress = []
        outcomes = store.ingest_upload(_upload_files(), authorize=_only_zhanggong, actor=OFFICER,
                                       progress=lambda i, n, name: progress.append((i, n, name)))
        assert [o.status for o in outcomes] == ["accepted", "accepted", "refused"]
        assert progress == [(0, 3, "章贡区8月台账.xlsx"), (1, 3, "章贡区8月调度表.xlsx"), (2, 3, "会昌县8月调度表.xlsx")]
        refused = outcomes[2]
        assert refused.file_id is None and refused.label == OUTCOME_LABELS["refused"] == "无权上传"
        assert [(i.code, i.severity) for i in refused.issues] == [(NOT_AUTHORISED_CODE, "error")]
        assert "会昌县" in refused.issues[0].message and refused.issues[0].file == "会昌县8月调度表.xlsx"
        stored = store.files_frame()
        assert list(stored["file_name"]) == ["章贡区8月台账.xlsx", "章贡区8月调度表.xlsx"]
        with store.engine.connect() as conn:
            assert len(set(conn.execute(sa.select(files.c.batch)).scalars())) == 1  # one upload, one batch
        log = entries(store, action="upload").iloc[::-1]  # oldest first
        assert list(log["target"]) == [name for name, _ in _upload_files()]
        assert list(log["outcome"]) == ["ok", "ok", "refused"]
        assert set(log["actor"]) == {"张三"} and set(log["origin"]) == {"10.0.0.7"}
        for (_, detail), outcome in zip(log[["target", "detail"]].itertuples(index=False), outcomes):
            assert detail.startswith(f"sha256={outcome.sha256}；{outcome.label}")
        assert log.iloc[2]["detail"].endswith(refused.issues[0].message)

        # Again: stored files are skipped (audited "ok"), the refused one refused again; no batch taken.
        batch = store.new_batch()
        again = store.ingest_upload(_upload_files(), authorize=_only_zhanggong, actor=OFFICER)
        assert [o.status for o in again] == ["skipped", "skipped", "refused"]
        assert store.new_batch() == batch + 1
        assert list(entries(store, action="upload").iloc[:3]["outcome"]) == ["refused", "ok", "ok"]
        # A skipped file is authorised against its stored result too.
        assert [o.status for o in store.ingest_upload(_upload_files()[:1], authorize=lambda r: "不允许")] == ["refused"]


def test_an_upload_that_fails_midway_stores_none_of_its_files_and_no_audit_entry(tmp_path, monkeypatch):
    with Store(tmp_path) as store:
        def failing_parse(data, name):
            if name == "会昌县8月调度表.xlsx":
                raise RuntimeError("parser died")
            return store_db.parse_and_encode(data, name)

        with pytest.raises(RuntimeError, match="parser died"):
            store.ingest_upload(_upload_files(), parse=failing_parse, actor=OFFICER)
        # Inside the write transaction: the second file's rows fail after the first file's were written.
        refresh, calls = store_db._refresh_active, []

        def failing_refresh(conn, newly_superseding=None):
            calls.append(newly_superseding)
            if len(calls) == 2:
                raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
            return refresh(conn, newly_superseding)

        monkeypatch.setattr(store_db, "_refresh_active", failing_refresh)
        with pytest.raises(sa.exc.OperationalError):
            store.ingest_upload(_upload_files(), actor=OFFICER)
        assert len(calls) == 2
        assert store.files_frame().empty and store.submission_history().empty
        assert entries(store).empty
        monkeypatch.setattr(store_db, "_refresh_active", refresh)
        assert [o.status for o in store.ingest_upload(_upload_files(), actor=OFFICER)] == ["accepted"] * 3
        assert len(entries(store, action="upload")) == 3


def test_ingest_paths_audits_each_file_in_its_transaction(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, data in _upload_files()[:2]:
        (folder / name).write_bytes(data)
    (folder / "坏文件.xlsx").write_bytes(b"not a workbook")
    with Store(tmp_path / "store") as store:
        report = store.ingest_paths([folder], workers=1, actor=OFFICER)
        log = entries(store, action="upload")
        assert len(log) == 3
        by_name = dict(zip(log["target"], log["outcome"]))
        assert by_name == {"坏文件.xlsx": "failed", "章贡区8月台账.xlsx": "ok", "章贡区8月调度表.xlsx": "ok"}
        bad = next(o for o in report.outcomes if o.status == "rejected")
        assert bad.issues[0].message in log.loc[log["target"] == "坏文件.xlsx", "detail"].iloc[0]
        store.ingest_paths([folder], workers=1)  # without an actor: nothing audited
        assert len(entries(store)) == 3


# --- annotations ------------------------------------------------------------------------------

def test_annotation_changes_are_audited_in_their_own_transaction(tmp_path, monkeypatch):
    with Store(tmp_path) as store:
        note = add_annotation(store, unit_subject("会昌"), "处罚次数偏低，\n已电话核实。", "张三", actor=OFFICER)
        edited = edit_annotation(store, note["id"], 1, "李四", tag="需关注", text="已约谈", actor=OFFICER)
        resolve_annotation(store, note["id"], "李四", actor=OFFICER)
        reopen_annotation(store, note["id"], "张三", actor=OFFICER)
        add_annotation(store, unit_subject("章贡区"), "无人记录", "王五")  # no actor: not audited
        log = entries(store).iloc[::-1]
        assert list(log["action"]) == ["annotation_add", "annotation_edit", "annotation_resolve", "annotation_reopen"]
        assert set(log["target"]) == {f"批注#{note['id']} 会昌县"} and set(log["actor"]) == {"张三"}
        assert list(log["detail"]) == ["“处罚次数偏低， 已电话核实。”", "第2版：内容改为“已约谈”；标签 （无） → 需关注",
                                       "第3版：状态 未办结 → 已办结", "第4版：状态 已办结 → 未办结"]
        assert edited["author"] == "张三" and edited["updated_by"] == "李四"  # author as before

        def failing_record(*args, **kwargs):
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

        monkeypatch.setattr("store.audit.record", failing_record)
        notes = Annotations(store, actor=OFFICER)
        with pytest.raises(sa.exc.OperationalError):
            notes.add(unit_subject("会昌县"), "不应保存", "张三")
        with pytest.raises(sa.exc.OperationalError):
            notes.edit(note["id"], 4, "张三", text="不应保存")
        assert len(notes.list()) == 2 and notes.get(note["id"])["version"] == 4
        assert len(notes.history(note["id"])) == 4


# --- the store's secret -----------------------------------------------------------------------

def _secret_in_child(url: str, barrier, results) -> None:
    store = Store(url)
    barrier.wait(timeout=30)
    results.put(store.secret("cookie"))


@pytest.mark.skipif(FORK is None, reason="needs fork()")
def test_a_secret_is_made_once_and_shared_by_every_process(tmp_path):
    url = Store(tmp_path).url
    barrier, results = FORK.Barrier(3), FORK.Queue()
    children = [FORK.Process(target=_secret_in_child, args=(url, barrier, results)) for _ in range(3)]
    for process in children:
        process.start()
    values = {results.get(timeout=60) for _ in children}
    for process in children:
        process.join(timeout=30)
    assert len(values) == 1 and len(values.pop()) >= 64
    with Store(tmp_path) as store:
        assert store.secret("cookie") == Store(url).secret("cookie") != store.secret("other")


# --- SIGKILL mid-write ------------------------------------------------------------------------

class Writer:
    """``tests/durability_child.py`` in a process of its own, its lines read as they come."""

    def __init__(self, store_dir: Path, *options: str):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.durability_child", str(store_dir), *options],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        encoding="utf-8")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.committed: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, predicate) -> None:
        """Read lines until one satisfies ``predicate`` (the 120 s is a hang guard, not a measure)."""
        while True:
            line = self.lines.get(timeout=120)
            if line is None:
                raise AssertionError(f"the writer ended early: {self.process.wait()} {self.process.stderr.read()}")
            if line.startswith("COMMITTED "):
                self.committed.append(line)
            if predicate(line):
                return

    def kill(self) -> list[str]:
        """SIGKILL, then every COMMITTED line printed before the kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        while (line := self.lines.get(timeout=120)) is not None:
            if line.startswith("COMMITTED "):
                self.committed.append(line)
        return self.committed


def _after_commits(count: int):
    seen = []

    def predicate(line: str) -> bool:
        if line.startswith("COMMITTED "):
            seen.append(line)
        return len(seen) >= count
    return predicate


def check_store(store_dir: Path, committed: list[str]) -> None:
    """Everything a killed writer reported committed is there, and nothing half-written is."""
    path = _sqlite_file(store_dir)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    rounds = child.plan()
    refused_names = child.refused_names()
    with Store(store_dir) as store, store.engine.connect() as conn:
        stored = {row.sha256: row for row in conn.execute(sa.select(files.c.id, files.c.sha256, files.c.file_name,
                                                                     files.c.batch))}
        counts = dict(conn.execute(sa.select(store_db.submissions.c.file_id, sa.func.count())
                                   .group_by(store_db.submissions.c.file_id)).all())
        versions = set(conn.execute(sa.select(store_db.annotation_versions.c.annotation_id,
                                              store_db.annotation_versions.c.version)).all())
        current = dict(conn.execute(sa.select(store_db.annotations.c.id, store_db.annotations.c.version)).all())
    log = entries(store_dir)
    uploads = log[log["action"] == "upload"]
    audited = {}
    for target, detail, outcome in uploads[["target", "detail", "outcome"]].itertuples(index=False):
        sha256 = re.match(r"sha256=([0-9a-f]{64})；", detail).group(1)
        audited.setdefault(sha256, []).append((target, outcome))

    # Every committed upload: its files, their submissions and audit entries.
    for line in committed:
        kind, _, rest = line.removeprefix("COMMITTED ").partition(" ")
        if kind == "upload":
            for name, sha256, status, submissions in json.loads(rest):
                if status == "refused":
                    assert sha256 not in stored and audited[sha256] == [(name, "refused")]
                    continue
                assert status in ("accepted", "rejected"), (name, status)
                assert stored[sha256].file_name == name
                assert counts.get(stored[sha256].id, 0) == submissions
                assert audited[sha256] == [(name, "ok" if status == "accepted" else "failed")]
        else:
            annotation_id, version = map(int, rest.split())
            assert (annotation_id, version) in versions
            assert current[annotation_id] >= version

    # No batch is partial: each holds exactly the stored files of one planned round.
    by_batch: dict[int, set[str]] = {}
    for row in stored.values():
        by_batch.setdefault(row.batch, set()).add(row.file_name)
    kept = [{name for name, _ in round_ if name not in refused_names} for round_ in rounds]
    for names in by_batch.values():
        assert names in kept, names
    # The audit log matches the files: one entry per stored file, refused ones only for rounds
    # that committed, and no entry for a file that is not stored.
    for sha256, seen in audited.items():
        if seen[0][1] == "refused":
            round_ = next(r for r in rounds if any(s == sha256 for _, s in r))
            assert all(s in stored for n, s in round_ if n not in refused_names)
            assert len(seen) == 1
        else:
            assert sha256 in stored and len(seen) == 1
    assert set(stored) <= set(audited)
    # Every annotation has all its versions and one audit entry per version.
    notes = log[log["action"].str.startswith("annotation_")]
    for annotation_id, version in current.items():
        assert {v for a, v in versions if a == annotation_id} == set(range(1, version + 1))
        assert (notes["target"].str.startswith(f"批注#{annotation_id} ")).sum() == version


def test_a_writer_killed_mid_write_leaves_every_commit_and_nothing_half_written(tmp_path):
    store_dir = tmp_path / "store"
    committed: list[str] = []
    seed = random.randrange(1_000_000)
    print(f"random seed {seed}")
    chance = random.Random(seed)
    paused = {}

    def pausing(line: str) -> bool:
        if line.startswith("WRITING "):
            paused["line"] = line.removeprefix("WRITING ")
            return True
        return False

    scenarios = [((), _after_commits(1)), ((), _after_commits(3)),
                 (("--pause", "upload"), pausing),  # inside an upload's write transaction
                 (("--pause", "annotation"), pausing)]  # inside an annotation edit's
    for options, predicate in scenarios:
        writer = Writer(store_dir, *options)
        writer.wait_for(predicate)
        committed += writer.kill()
        check_store(store_dir, committed)
        if options:  # what it was writing when killed is not there
            kind, _, rest = paused.pop("line").partition(" ")
            with Store(store_dir) as store, store.engine.connect() as conn:
                if kind == "upload":
                    written = json.loads(rest)
                    assert len(written) == child.FILES_PER_ROUND
                    assert not conn.execute(sa.select(files.c.id).where(files.c.sha256.in_(written))).first()
                else:
                    annotation_id, version = map(int, rest.split())
                    assert conn.execute(sa.select(store_db.annotations.c.version)
                                        .where(store_db.annotations.c.id == annotation_id)).scalar_one() == version - 1
    # At a random moment, transactions widened by a sleep after each audit entry.
    writer = Writer(store_dir, "--slow", "0.01")
    writer.wait_for(_after_commits(1))
    threading.Event().wait(chance.uniform(0.0, 1.0))
    committed += writer.kill()
    check_store(store_dir, committed)
    assert sum(line.startswith("COMMITTED upload") for line in committed) >= 4

    # Restart-equivalent: the dataset builds from what was left.
    with Store(store_dir) as store:
        stored = store.files_frame()
        assert store.campaign().summary()["files"] == {"accepted": int(stored["accepted"].sum()),
                                                       "rejected": int((~stored["accepted"]).sum())}
