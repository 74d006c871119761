"""Backing up a store while the server runs, and restoring it (``hazardboard backup|restore``).

A backup is one SQLite file holding every table of the store as it stood at one instant:

- SQLite store: the sqlite3 online-backup API (``source.backup(target)``) in a single step, so
  the copy is one read snapshot of the database; in WAL mode the server's readers and writers
  carry on meanwhile (a writer's commit lands in the next backup).
- any other database (PostgreSQL): every table of ``store.db.metadata`` read inside one
  REPEATABLE READ transaction (one snapshot) and written into a new SQLite file.

The copy is written next to DEST under a temporary name, checked (``PRAGMA integrity_check``),
synced, and only then linked to DEST, which is never overwritten: a backup that failed halfway
leaves nothing that looks like a backup. It carries the store's secrets (the cookie secret), so
keep backups where the store itself is kept.

Restoring checks that the file is a readable hazardboard backup of this schema version or an
older one, refuses a store that holds anything unless ``replace``, copies it in (SQLite: the
backup API again; other databases: every table emptied and refilled in one transaction), then
opens the store once so that migrations bring an older backup up to date. Servers on the store
must be stopped first and started again after: their in-memory dataset is the old one.

Both record an audit entry: "backup" in the source store (after the copy, so a backup does not
hold its own entry), "restore" in the restored store.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import audit
from .audit import CLI_ACTOR, Actor
from .db import (
    SCHEMA_VERSION,
    Store,
    StoreError,
    _guard_audit_log,
    annotation_versions,
    annotations,
    audit_log,
    campaign_cache,
    files,
    metadata,
    read_data_revision,
    schema_info,
    submissions,
)

BACKUP_NAME_FORMAT = "hazardboard-%Y%m%d-%H%M%S.sqlite"
# Rows read and written at a time when copying table by table (files rows hold whole workbooks).
_CHUNK_ROWS = 200
# The built campaign (store/campaign_cache.py) is derived from the other tables: not worth a backup's
# bytes (30 MB at province scale), and rebuilt after a restore.
BACKED_UP_TABLES = [table for table in metadata.sorted_tables if table is not campaign_cache]
_COUNTED = {"files": files, "submissions": submissions, "annotations": annotations,
            "annotation_versions": annotation_versions, "audit_entries": audit_log}


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds (or a restore brought in): the backup file, its row counts and size."""

    path: Path
    files: int
    submissions: int
    annotations: int
    annotation_versions: int
    audit_entries: int
    bytes: int
    schema_version: int

    def summary(self) -> str:
        """文件 406 个、提交记录 1,020 条、批注 3 条（5 个版本）、审计记录 12 条"""
        return (f"文件 {self.files:,} 个、提交记录 {self.submissions:,} 条、批注 {self.annotations:,} 条"
                f"（{self.annotation_versions:,} 个版本）、审计记录 {self.audit_entries:,} 条")


def backup(store: Store, dest: str | os.PathLike, actor: Actor | None = CLI_ACTOR) -> BackupInfo:
    """A consistent copy of ``store`` into the SQLite file ``dest`` (a directory: a file named
    ``hazardboard-YYYYmmdd-HHMMSS.sqlite`` in it, local time), safe while servers write to the
    store. Refuses an existing file; checks the copy; records a "backup" audit entry as ``actor``
    (None: no entry). Raises StoreError with a message for the officer."""
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / dt.datetime.now().strftime(BACKUP_NAME_FORMAT)
    if dest.exists():
        raise StoreError(f"备份文件“{dest}”已存在，未覆盖。请换一个文件名，或指定一个目录（自动按时间命名）。")
    if not dest.parent.is_dir():
        raise StoreError(f"备份目录“{dest.parent}”不存在，请先创建。")
    handle, partial_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(handle)
    partial = Path(partial_name)
    try:
        if store.engine.dialect.name == "sqlite":
            _backup_sqlite(store, partial)
        else:
            _backup_tables(store, partial)
        info = _checked(partial, dest)
        _fsync(partial)
        try:
            os.link(partial, dest)  # never replaces: fails if DEST appeared meanwhile
        except FileExistsError:
            raise StoreError(f"备份文件“{dest}”已存在，未覆盖。") from None
        _fsync(dest.parent)
    finally:
        partial.unlink(missing_ok=True)
    if actor is not None:
        audit.record(store, actor, "backup", target=str(dest.resolve()), detail=f"{info.summary()}；{info.bytes:,} 字节")
    return info


def restore(src: str | os.PathLike, store_location: str | os.PathLike | None, replace: bool = False,
            actor: Actor | None = CLI_ACTOR) -> BackupInfo:
    """Put the backup ``src`` into the store at ``store_location`` (a ``--store`` value).

    Refuses a file that is not a readable hazardboard backup (or one from a newer program), and
    a store holding any file, annotation or audit entry unless ``replace``. Records a "restore"
    audit entry as ``actor`` in the restored store. Stop servers on the store before, restart
    them after. Returns the counts of the restored store."""
    src = Path(src).expanduser()
    source_version = _check_backup(src)
    with Store(store_location) as target:
        held = _counts(target)
        held_revision = target.data_revision()
        if not replace and (held["files"] or held["annotations"] or held["audit_entries"]):
            raise StoreError(f"目标数据库“{target.display_url}”已有数据（文件 {held['files']:,} 个、批注 {held['annotations']:,} 条、"
                             f"审计记录 {held['audit_entries']:,} 条），未恢复。确需用备份替换其全部内容时请加 --replace"
                             "（建议先用 hazardboard backup 备份当前数据）。")
        if target.engine.dialect.name == "sqlite":
            _restore_sqlite(src, target)
        else:
            _restore_tables(src, target)
    with Store(store_location) as restored:  # migrations bring an older backup up to this version
        with restored._write() as conn:
            # The restored data is a change like any other: every process rebuilds (no cached dataset
            # of the backup's revision is trusted), and the revision moves past any the store had.
            conn.execute(campaign_cache.delete())
            conn.execute(schema_info.update().where(schema_info.c.key == "data_revision")
                         .values(value=str(max(held_revision, read_data_revision(conn)) + 1)))
        counts = _counts(restored)
        info = BackupInfo(src, **counts, bytes=src.stat().st_size, schema_version=source_version)
        if actor is not None:
            audit.record(restored, actor, "restore", target=str(src.resolve()),
                         detail=f"{info.summary()}；备份结构版本 {source_version}" + ("；替换了原有数据" if replace else ""))
    return info


def inspect(path: str | os.PathLike) -> BackupInfo:
    """The counts of a backup file (checked as ``restore`` checks it)."""
    path = Path(path).expanduser()
    version = _check_backup(path)
    with _sqlite(path, readonly=True) as conn:
        counts = {name: conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]  # noqa: S608 - our names
                  for name, table in _COUNTED.items() if _has_table(conn, table.name)}
    return BackupInfo(path, **{name: counts.get(name, 0) for name in _COUNTED}, bytes=path.stat().st_size,
                      schema_version=version)


# --- backing up ---------------------------------------------------------------------------

def _backup_sqlite(store: Store, partial: Path) -> None:
    """The online-backup API in one step (pages=-1): one read transaction on the source, so
    one snapshot; WAL lets writers go on. The copy is switched to a rollback journal, so the
    backup is a single self-contained file."""
    raw = store.engine.raw_connection()
    try:
        with _sqlite(partial) as target:
            raw.driver_connection.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
    finally:
        raw.close()


def _backup_tables(store: Store, partial: Path) -> None:
    """Every table read in one REPEATABLE READ transaction (a snapshot on PostgreSQL and MySQL;
    on SQLite, where the tests run it, every transaction is one)."""
    engine = sa.create_engine(f"sqlite:///{partial}")
    try:
        with store.engine.connect() as source:
            if source.dialect.name != "sqlite":
                source = source.execution_options(isolation_level="REPEATABLE READ")
            with source.begin(), engine.begin() as target:
                metadata.create_all(target)
                _guard_audit_log(target)
                _copy_tables(source, target)
    finally:
        engine.dispose()


def _copy_tables(source: Connection, target: Connection) -> None:
    """Every row of every backed-up table, parents before children, in chunks, ordered by key."""
    for table in BACKED_UP_TABLES:
        result = source.execution_options(yield_per=_CHUNK_ROWS).execute(
            sa.select(table).order_by(*table.primary_key.columns))
        for rows in result.mappings().partitions():
            target.execute(table.insert(), [dict(row) for row in rows])


# --- restoring ----------------------------------------------------------------------------

def _restore_sqlite(src: Path, target: Store) -> None:
    """The backup API from the backup file into the store's database (its WAL mode kept); every
    pooled connection is dropped first and after, so none keeps the old schema cached."""
    target.engine.dispose()
    raw = target.engine.raw_connection()
    try:
        with _sqlite(src, readonly=True) as source:
            source.backup(raw.driver_connection)
    finally:
        raw.close()
        target.engine.dispose()


def _restore_tables(src: Path, target: Store) -> None:
    """Other databases: the backup brought up to this schema version in a temporary SQLite copy,
    then every table emptied and refilled in ONE transaction. The audit log refuses DELETE row by
    row; on PostgreSQL TRUNCATE, whose guard is disabled for this transaction only."""
    with tempfile.TemporaryDirectory(prefix="hazardboard-restore-") as folder:
        copy = Path(folder) / "backup.sqlite"
        with _sqlite(src, readonly=True) as source, _sqlite(copy) as staged:
            source.backup(staged)
        with Store(f"sqlite:///{copy}") as upgraded, upgraded.engine.connect() as source:
            with source.begin(), target._write() as conn:
                tables = BACKED_UP_TABLES
                if conn.dialect.name == "postgresql":
                    names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
                    conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate")
                    conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                    conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate")
                else:
                    for table in reversed(tables):
                        conn.execute(table.delete())
                _copy_tables(source, conn)
                if conn.dialect.name == "postgresql":
                    # The serial counters past the ids just inserted.
                    for table in tables:
                        if "id" in table.c and table.c.id.primary_key:
                            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                                 f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"))


# --- checks -------------------------------------------------------------------------------

def _check_backup(path: Path) -> int:
    """The schema version of a readable, intact hazardboard backup; StoreError otherwise."""
    if not path.is_file():
        raise StoreError(f"找不到备份文件“{path}”。")
    try:
        with _sqlite(path, readonly=True) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                problems = "；".join(str(row[0]) for row in check[:3])
                raise StoreError(f"备份文件“{path}”已损坏（完整性检查未通过：{problems}），未恢复。")
            if not _has_table(conn, schema_info.name) or not _has_table(conn, files.name):
                raise StoreError(f"“{path}”不是 hazardboard 的备份文件（缺少数据表），未恢复。")
            row = conn.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as error:
        raise StoreError(f"“{path}”不是 hazardboard 的备份文件（无法作为 SQLite 数据库读取：{error}），未恢复。") from error
    if row is None or not str(row[0]).isdigit():
        raise StoreError(f"“{path}”不是 hazardboard 的备份文件（没有结构版本），未恢复。")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise StoreError(f"备份文件“{path}”由较新版本的程序创建（结构版本 {version}，本程序支持 {SCHEMA_VERSION}），"
                         "请升级程序后再恢复。")
    return version


def _checked(partial: Path, dest: Path) -> BackupInfo:
    """The copy's integrity and counts (reported under its final name)."""
    with _sqlite(partial, readonly=True) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise StoreError(f"备份副本未通过完整性检查（{check[0][0]}），未保存。请稍后重试。")
        version = int(conn.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0])
        counts = {name: conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]  # noqa: S608 - our names
                  for name, table in _COUNTED.items()}
    return BackupInfo(dest, **counts, bytes=partial.stat().st_size, schema_version=version)


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in _COUNTED.items()}


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


class _sqlite:
    """A plain sqlite3 connection, closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path, readonly: bool = False):
        uri = f"{Path(path).resolve().as_uri()}?mode=ro" if readonly else f"{Path(path).resolve().as_uri()}?mode=rwc"
        self.connection = sqlite3.connect(uri, uri=True, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
