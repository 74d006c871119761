"""``hazardboard backup`` and ``restore`` (issue 10, "Nothing lost"): a consistent copy taken
while another writer keeps uploading, annotating and auditing; restored and compared row by row."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboards.cli import main
from store import Store, StoreError
from store import backup as store_backup
from store.annotations import Annotations, unit_subject
from store.audit import CLI_ACTOR, Actor, cli_actor, entries, record
from store.backup import BACKED_UP_TABLES, BackupInfo, backup, restore
from store.db import SCHEMA_VERSION, STORE_FILE_NAME, _refresh_active, metadata

from .test_store import AUGUST_FORM, CHEMICAL_PLANT, county_form_workbook, ledger_workbook, with_value

OFFICER = Actor("张三", "committee", "10.0.0.7")
TABLES = [table.name for table in BACKED_UP_TABLES]
# Tables whose rows are only ever added (ids in commit order): a snapshot holds a prefix of each.
APPEND_ONLY = ("files", "annotation_versions", "audit_log")
# Columns of a submission that a later upload may change (which one counts).
SUBMISSION_STATE = ("state", "active", "superseded_by_file_id")


@functools.cache
def upload(index: int) -> list[tuple[str, bytes]]:
    """Two files a round: a new ledger, and a resend of the August form (it supersedes the last)."""
    ledger = [[1, "章贡区", f"赣州第{index}化工有限公司", *CHEMICAL_PLANT[3:]]]
    form = county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", index), filed_on=f"2023年9月{1 + index % 20}日")
    return [(f"第{index}批/台账.xlsx", ledger_workbook(ledger)), (f"第{index}批/调度表.xlsx", form)]


ROUNDS = 24


def write_one_round(store: Store, notes: Annotations, index: int) -> None:
    store.ingest_upload(upload(index), actor=OFFICER)
    note = notes.add(unit_subject("章贡区"), f"第{index}条批注", "张三", tag="需关注")
    notes.edit(note["id"], 1, "李四", text=f"第{index}条批注（已核实）")
    if index % 2:
        notes.resolve(note["id"], "李四")
    record(store, OFFICER, "export", target=f"简报{index}")


def sqlite_path(location: Path) -> Path:
    return location / STORE_FILE_NAME


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        key = "key" if table == "schema_info" else "id"
        return conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()  # noqa: S608 - our names


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def assert_same_tables(copy: Path, source: Path, skip_last_audit: int = 0) -> None:
    """Every table row by row; the last ``skip_last_audit`` entries of ``copy`` (its own restore) aside."""
    for table in TABLES:
        assert columns(copy, table) == columns(source, table)
        copied = rows(copy, table)
        expected = rows(source, table)
        if table == "audit_log" and skip_last_audit:
            copied = copied[:-skip_last_audit]
        if table == "schema_info" and skip_last_audit:  # a restore moves the data revision on (tests/test_freshness.py)
            copied, expected = ([row for row in found if row[0] != "data_revision"] for found in (copied, expected))
        assert copied == expected, table


def assert_snapshot_of(snapshot: Path, source: Path) -> None:
    """``snapshot`` is ``source`` as it stood at one instant, though ``source`` was written on after."""
    with sqlite3.connect(snapshot) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    for table in APPEND_ONLY:  # a prefix, without gaps
        copied = rows(snapshot, table)
        assert copied and copied == rows(source, table)[:len(copied)], table
    info = dict(rows(snapshot, "schema_info"))
    moving = ("last_batch", "data_revision")
    assert {k: v for k, v in info.items() if k not in moving} == \
           {k: v for k, v in rows(source, "schema_info") if k not in moving}
    batch = columns(snapshot, "files").index("batch")
    assert int(info["last_batch"]) == max(row[batch] for row in rows(snapshot, "files"))
    assert int(info["data_revision"]) == len(rows(snapshot, "files"))  # each stored file moved it once
    # Annotations: each as one of its versions, the latest the snapshot holds.
    versions = {(row[1], row[2]): row for row in rows(snapshot, "annotation_versions")}
    source_notes = {row[0]: row for row in rows(source, "annotations")}
    names = columns(snapshot, "annotations")
    for note in rows(snapshot, "annotations"):
        current = dict(zip(names, note))
        assert current["version"] == max(v for a, v in versions if a == current["id"])
        version = dict(zip(columns(snapshot, "annotation_versions"), versions[(current["id"], current["version"])]))
        assert [current[c] for c in ("text", "tag", "follow_up", "status", "updated_by", "updated_at")] == \
               [version[c] for c in ("text", "tag", "follow_up", "status", "editor", "edited_at")]
        fixed = [c for c in names if c not in ("text", "tag", "follow_up", "status", "updated_by", "updated_at", "version")]
        assert [current[c] for c in fixed] == [dict(zip(names, source_notes[current["id"]]))[c] for c in fixed]
    # Submissions: the rows of the files it holds; which ones count is what the resend rules give.
    names = columns(snapshot, "submissions")
    fixed = [i for i, c in enumerate(names) if c not in SUBMISSION_STATE]
    copied, later = rows(snapshot, "submissions"), rows(source, "submissions")
    assert [[r[i] for i in fixed] for r in copied] == [[r[i] for i in fixed] for r in later[:len(copied)]]
    engine = sa.create_engine(f"sqlite:///{snapshot}")
    try:
        with engine.connect() as conn, conn.begin():
            _refresh_active(conn)
            recomputed = conn.exec_driver_sql("SELECT * FROM submissions ORDER BY id").all()
            conn.rollback()
    finally:
        engine.dispose()
    assert [tuple(r) for r in recomputed] == copied
    # Uploads whole, each file and each annotation version with its audit entry.
    files_rows = rows(snapshot, "files")
    batches: dict[int, int] = {}
    for row in files_rows:
        batches[row[batch]] = batches.get(row[batch], 0) + 1
    assert set(batches.values()) == {2}
    log = rows(snapshot, "audit_log")
    action, target = columns(snapshot, "audit_log").index("action"), columns(snapshot, "audit_log").index("target")
    assert sorted(r[target] for r in log if r[action] == "upload") == sorted(r[2] for r in files_rows)
    assert sum(r[action].startswith("annotation_") for r in log) == len(versions)


def test_a_backup_taken_while_another_writer_works_is_one_instant_and_restores_row_by_row(tmp_path):
    source_dir = tmp_path / "source"
    store = Store(source_dir)
    rounds, stop, errors = [], threading.Event(), []

    def writer() -> None:
        try:
            with Store(source_dir) as own:
                notes = Annotations(own, actor=OFFICER)
                for index in range(ROUNDS):
                    if stop.is_set():
                        return
                    write_one_round(own, notes, index)
                    rounds.append(index)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    taken = []
    try:
        for at_least in (2, 6):
            while len(rounds) < at_least and thread.is_alive():
                threading.Event().wait(0.01)
            taken.append(backup(store, tmp_path / f"while-writing-{at_least}.sqlite", actor=CLI_ACTOR))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(rounds) > 6  # the writer carried on after the backups
    source = sqlite_path(source_dir)
    for info in taken:
        assert isinstance(info, BackupInfo) and info.bytes == info.path.stat().st_size
        assert_snapshot_of(info.path, source)
        restored = tmp_path / f"restored-{info.path.stem}"
        counts = restore(info.path, restored)
        assert (counts.files, counts.annotations, counts.audit_entries) == (info.files, info.annotations, info.audit_entries)
        assert_same_tables(sqlite_path(restored), info.path, skip_last_audit=1)
        assert entries(restored).iloc[0][["action", "actor"]].tolist() == ["restore", "命令行"]
    # The source records each backup; quiet now, a backup is the whole source.
    assert list(entries(store, action="backup")["target"]) == [str(i.path) for i in reversed(taken)]
    final = backup(store, tmp_path)
    assert final.path.parent == tmp_path and final.path.name.startswith("hazardboard-")
    assert_same_tables(source, final.path, skip_last_audit=1)  # the source has the backup's own entry
    restored = tmp_path / "restored-final"
    restore(final.path, restored)
    assert_same_tables(sqlite_path(restored), final.path, skip_last_audit=1)
    with Store(restored) as again:
        assert again.campaign().summary()["files"]["accepted"] == final.files
    store.close()


def test_restore_refuses_a_store_that_holds_data_unless_replace(tmp_path):
    with Store(tmp_path / "a") as store:
        write_one_round(store, Annotations(store, actor=OFFICER), 0)
        cookie = store.secret("cookie")
        saved = backup(store, tmp_path / "a.sqlite")
    with Store(tmp_path / "b") as other:
        other.ingest_upload(upload(1))
    with pytest.raises(StoreError, match="已有数据.*--replace"):
        restore(saved.path, tmp_path / "b")
    assert list(Store(tmp_path / "b").files_frame()["file_name"]) == [name for name, _ in upload(1)]
    restore(saved.path, tmp_path / "b", replace=True)
    with Store(tmp_path / "b") as replaced:
        assert list(replaced.files_frame()["file_name"]) == [name for name, _ in upload(0)]
        assert replaced.secret("cookie") == cookie  # a restored store signs cookies as before
        assert "替换了原有数据" in entries(replaced, action="restore").iloc[0]["detail"]
    with pytest.raises(StoreError, match="已存在"):
        backup(Store(tmp_path / "a"), saved.path)


def test_a_file_that_is_not_a_backup_is_refused_naming_it(tmp_path):
    text = tmp_path / "笔记.sqlite"
    text.write_text("这不是数据库" * 100, encoding="utf-8")
    empty = tmp_path / "空库.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    newer = tmp_path / "新版.sqlite"
    with Store(tmp_path / "s") as store:
        backup(store, newer, actor=None)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE schema_info SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    for path, reason in ((text, "不是 hazardboard 的备份文件"), (empty, "不是 hazardboard 的备份文件"),
                         (newer, "较新版本"), (tmp_path / "没有.sqlite", "找不到备份文件")):
        with pytest.raises(StoreError) as refused:
            restore(path, tmp_path / "target")
        assert reason in refused.value.message and str(path) in refused.value.message
    assert not Store(tmp_path / "target").files_frame().shape[0]


def test_backup_and_restore_table_by_table_as_on_postgresql(tmp_path):
    """The path for other databases, run on SQLite: every table copied in one read transaction,
    then every table emptied and refilled in one write transaction."""
    with Store(tmp_path / "a") as store:
        write_one_round(store, Annotations(store, actor=OFFICER), 0)
        write_one_round(store, Annotations(store, actor=OFFICER), 1)
        by_api = backup(store, tmp_path / "api.sqlite", actor=None)
        by_table = tmp_path / "tables.sqlite"
        store_backup._backup_tables(store, by_table)
    assert_same_tables(by_table, by_api.path)
    with Store(tmp_path / "b") as target:
        store_backup._restore_tables(by_table, target)
    assert_same_tables(sqlite_path(tmp_path / "b"), by_api.path)


def test_the_cli_backs_up_and_restores(tmp_path, capsys):
    with Store(tmp_path / "a") as store:
        write_one_round(store, Annotations(store, actor=OFFICER), 0)
    dest = tmp_path / "备份.sqlite"
    assert main(["backup", str(dest), "--store", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert str(dest) in out and "文件 2 个" in out and "批注 1 条（2 个版本）" in out and "KB" in out
    assert main(["restore", str(dest), "--store", str(tmp_path / "b")]) == 0
    captured = capsys.readouterr()
    assert "先停止" in captured.err and "文件 2 个" in captured.out and "重新启动" in captured.out
    assert main(["restore", str(dest), "--store", str(tmp_path / "b")]) != 0
    assert "--replace" in capsys.readouterr().err
    assert main(["restore", str(dest), "--store", str(tmp_path / "b"), "--replace"]) == 0
    assert main(["backup", str(dest), "--store", str(tmp_path / "a")]) != 0
    assert "已存在" in capsys.readouterr().err
    assert_same_tables(sqlite_path(tmp_path / "b"), dest, skip_last_audit=1)  # its own restore entry
    log = entries(tmp_path / "a")
    assert log.iloc[0]["action"] == "backup" and log.iloc[0]["actor"] == cli_actor().name  # 命令行:<account>
    assert entries(tmp_path / "b").iloc[0]["actor"] == cli_actor().name


def test_a_backup_from_an_older_release_is_brought_up_to_date_on_restore(tmp_path):
    with Store(tmp_path / "a") as store:
        write_one_round(store, Annotations(store), 0)
        old = backup(store, tmp_path / "v5.sqlite", actor=None).path
    with sqlite3.connect(old) as conn:  # as schema version 5 wrote it: no audit log yet
        conn.execute("DROP TABLE audit_log")
        conn.execute("UPDATE schema_info SET value = '5' WHERE key = 'schema_version'")
    info = restore(old, tmp_path / "b")
    assert (info.schema_version, info.files, info.annotation_versions) == (5, 2, 2)
    with Store(tmp_path / "b") as restored:
        with restored.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT value FROM schema_info WHERE key = 'schema_version'").scalar() == \
                   str(SCHEMA_VERSION)
        assert list(entries(restored)["action"]) == ["restore"]
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with restored._write() as conn:
                conn.exec_driver_sql("DELETE FROM audit_log")
        assert list(restored.files_frame()["file_name"]) == [name for name, _ in upload(0)]


def test_a_postgresql_store_backed_up_while_written_and_restored_into_postgresql(postgresql_database, tmp_path):
    """The table-by-table path on a real PostgreSQL: one REPEATABLE READ snapshot while another
    connection keeps writing; restored into another database (its counters set past the ids),
    and over a store holding data with ``replace`` (the audit log's TRUNCATE guard lifted only
    inside the restore)."""
    from auth.users import UsersTable

    source_url, target_url = postgresql_database(), postgresql_database()
    store = Store(source_url)
    accounts = UsersTable(source_url)
    accounts.add("admin", "committee", sso=True)
    rounds, stop, errors = [], threading.Event(), []

    def writer() -> None:
        try:
            with Store(source_url) as own:
                notes = Annotations(own, actor=OFFICER)
                for index in range(8):
                    if stop.is_set():
                        return
                    write_one_round(own, notes, index)
                    rounds.append(index)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(rounds) < 2 and thread.is_alive():
            threading.Event().wait(0.01)
        taken = backup(store, tmp_path / "while-writing.sqlite", actor=CLI_ACTOR)
    finally:
        stop.set()
        thread.join()
    assert not errors and len(rounds) >= 2
    final = backup(store, tmp_path / "final.sqlite", actor=None)
    assert_snapshot_of(taken.path, final.path)
    assert rows(final.path, "accounts")[0][1] == 1  # the accounts travel with a database store

    info = restore(final.path, target_url)
    assert (info.files, info.annotations) == (final.files, final.annotations)
    check = backup(Store(target_url), tmp_path / "restored.sqlite", actor=None)
    assert_same_tables(check.path, final.path, skip_last_audit=1)
    with Store(target_url) as restored:
        restored.ingest_upload(upload(20), actor=OFFICER)  # new ids after the restored ones
        Annotations(restored).add(unit_subject("会昌县"), "恢复后新增", "张三")
        assert UsersTable(target_url).get("admin").role == "committee"
    restore(taken.path, target_url, replace=True)
    with Store(target_url) as replaced:
        assert len(replaced.files_frame()) == taken.files
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), replaced._write() as conn:
            conn.exec_driver_sql("TRUNCATE audit_log")
    accounts.close()
    store.close()
