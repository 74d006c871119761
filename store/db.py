"""The embedded store: every file received, byte for byte, with what the loaders read from it.

SQLite by default (``<data dir>/hazardboard.sqlite``), any SQLAlchemy URL otherwise, so the same
code runs on PostgreSQL. The stored results are the single source of the campaign dataset:
``Store.campaign()`` rebuilds it with ``loaders.build_campaign`` in ingestion order.

Nothing committed is lost: SQLite runs in WAL mode with ``synchronous=FULL`` (a commit survives a
power loss, not only a crash). An upload (``Store.ingest_upload``) is one write transaction, so it
is wholly in or wholly out whatever happens to the process; the CLI's ``ingest_paths`` commits
file by file. A write that is audited (``store.audit``) records its entry inside the transaction
of the change. ``store.backup`` copies a running store consistently and restores it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

import loaders
from loaders import Campaign, Issue, WorkbookResult, resends
from loaders.workbook import MAX_FILE_BYTES

from .codec import CODEC_FORMAT, READABLE_OLDER_FORMATS, result_from_dict, result_to_dict

if TYPE_CHECKING:
    from .audit import Actor

from .defaults import DEFAULT_STORE_DIR, STORE_ENV_VAR  # noqa: E402,F401 - re-exported
STORE_FILE_NAME = "hazardboard.sqlite"
from .defaults import INGEST_WORKERS  # noqa: E402,F401 - re-exported

# Bump with a migration step in ``_migrate`` whenever a table, or what a row means, changes.
SCHEMA_VERSION = 8

# SQLite: how long a writer waits for another's write transaction before giving up. Write
# transactions are short (one file each), so 30 s means something is wrong, not busy.
SQLITE_BUSY_TIMEOUT_S = 30
# Other databases assign sequences with max()+1 inside the transaction: two writers can read
# the same one, the second fails on the unique constraint and tries again this many times.
SEQUENCE_ATTEMPTS = 5
# parser_version of a file whose stored result must be read again whatever the parser
# (its result was encoded by another codec format).
STALE_PARSER_VERSION = 0
# The reason code of a file refused for its size (``loaders.workbook``): recorded by name, size and
# sha256, its bytes not kept.
OVERSIZED_CODE = "file_too_large"
# The reason code of an uploaded file the officer may not upload (``Store.ingest_upload``'s ``authorize``).
NOT_AUTHORISED_CODE = "not_authorised"
# ``schema_info`` keys of the secrets ``Store.secret`` keeps: this prefix and the secret's name.
SECRET_PREFIX = "secret:"
_HASH_CHUNK = 4 * 1024 * 1024

Parser = Callable[[bytes, str], tuple[WorkbookResult, str]]

ProgressCallback = Callable[[int, int, str], None]

metadata = sa.MetaData()

# One row per key: "schema_version" (what migrations read), "codec_format" (the format of every
# stored result_json), "last_batch" (the batch counter, advanced inside write transactions),
# "data_revision" (advanced by every write that changes what the campaign is built from: each
# process and machine compares it with the revision its dataset was built at) and
# "secret:<name>" (``Store.secret``, e.g. the server's cookie secret).
schema_info = sa.Table(
    "schema_info", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

files = sa.Table(
    "files", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),  # a refused file may be over 2 GB (PostgreSQL's integer)
    sa.Column("content", sa.LargeBinary, nullable=False),
    # False for a file refused as too large: its name, size and sha256 are recorded, its bytes
    # are not (content is empty).
    sa.Column("content_kept", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False, unique=True),
    # Files ingested together (one `ingest_paths` call, one upload) share a batch: a later
    # batch's resend replaces an earlier one's, and within a batch the contract's rules decide.
    sa.Column("batch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("parser_version", sa.Integer, nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),  # order within the file, a tie-breaker for supersession
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("unit_type", sa.String(32), nullable=False),
    sa.Column("period", sa.String(7)),
    sa.Column("sheet", sa.Text, nullable=False),
    sa.Column("layout", sa.String(32), nullable=False),
    sa.Column("reported_on", sa.Date),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("correction", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("supplement", sa.Boolean, nullable=False, server_default=sa.false()),
    # loaders.resends.Decision.state: active | added | superseded | held_aside
    sa.Column("state", sa.String(16), nullable=False, server_default="active"),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("superseded_by_file_id", sa.Integer, sa.ForeignKey("files.id")),
    sa.Index("ix_submissions_unit_period", "unit", "period"),
)

# Officers' annotations (store/annotations.py, docs/ANNOTATIONS.md): one row per annotation, its
# current state; never deleted. The subject columns are fixed at creation, the rest change by
# edits, each of which adds the full state after it to annotation_versions.
annotations = sa.Table(
    "annotations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject_kind", sa.String(16), nullable=False),  # hazard | unit | figure | view
    sa.Column("subject_key", sa.Text, nullable=False, index=True),  # annotations.Subject.key
    sa.Column("hazard_id", sa.String(64), index=True),
    sa.Column("unit", sa.Text, index=True),
    sa.Column("indicator", sa.String(64)),
    sa.Column("period", sa.String(7)),
    sa.Column("page", sa.String(64)),
    sa.Column("query", sa.Text),
    sa.Column("text", sa.Text, nullable=False),  # Markdown source, as written
    sa.Column("tag", sa.String(32)),
    sa.Column("follow_up", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Optimistic concurrency: an edit updates WHERE id = ? AND version = ? and adds 1.
    sa.Column("version", sa.Integer, nullable=False),
)

annotation_versions = sa.Table(
    "annotation_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("annotation_id", sa.Integer, sa.ForeignKey("annotations.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change", sa.String(16), nullable=False),  # created | edited | resolved | reopened
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("tag", sa.String(32)),
    sa.Column("follow_up", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("editor", sa.Text, nullable=False),
    sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("annotation_id", "version", name="uq_annotation_versions_annotation_version"),
)


# The audit log (store/audit.py): append-only; triggers created with it refuse UPDATE and DELETE.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.Text, nullable=False, index=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False, index=True),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
)

# The campaign dataset built at a data revision (store/campaign_cache.py): a process starting, or
# catching up with a change another one made, loads it instead of rebuilding from every stored
# result. ``payload`` is NULL while a process is building it (a claim, so others wait for it).
campaign_cache = sa.Table(
    "campaign_cache", metadata,
    sa.Column("key", sa.String(128), primary_key=True),  # builder fingerprint + revision
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("built_at", sa.DateTime(timezone=True)),
    sa.Column("payload", sa.LargeBinary),
)

# The accounts of a store given as a database URL (auth/users.py ``UsersTable``): servers on several
# machines share them. One row (id 1) holding the users file's JSON document; ``version`` moves
# with every change (what readers compare). A SQLite/folder store keeps users.json beside it instead.
accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

_APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_APPEND_ONLY_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    # TRUNCATE fires no row trigger; a restore (store/backup.py) disables this one in its transaction.
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _guard_audit_log(conn: Connection) -> None:
    """Make the database itself refuse changes to audit entries (another program, a mistaken SQL)."""
    statements = {"sqlite": _APPEND_ONLY_SQLITE, "postgresql": _APPEND_ONLY_POSTGRESQL}.get(conn.dialect.name, ())
    for statement in statements:
        conn.exec_driver_sql(statement)


class StoreError(Exception):
    """The store cannot be opened or used; ``message`` is for the officer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ``--store`` URLs of these schemes name no driver: they get ``POSTGRESQL_DRIVER``.
_POSTGRESQL_SCHEMES = ("postgresql", "postgres")
POSTGRESQL_DRIVER = "postgresql+psycopg"
# Seconds to wait for a database server to answer before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


def resolve_store_url(location: str | os.PathLike | None = None) -> str:
    """A database URL from a ``--store`` value: a URL as given, a folder → SQLite file inside it.

    Without a value: the ``HAZARDBOARD_STORE`` environment variable, then ``./data``.
    ``postgresql://user:pass@host:port/db`` (or ``postgres://``) uses the psycopg 3 driver
    (``postgresql+psycopg://``); a URL naming its driver is kept as given.
    """
    location = location or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE_DIR
    text = os.fspath(location)
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme.lower() in _POSTGRESQL_SCHEMES:  # no driver named: psycopg 3 (a dependency)
            return f"{POSTGRESQL_DRIVER}://{rest}"
        return text
    folder = Path(text).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"无法创建数据目录“{folder}”：{error.strerror or error}") from error
    return f"sqlite:///{folder / STORE_FILE_NAME}"


@dataclass(frozen=True)
class Replacement:
    """A submission that a newer one took over; the older stays in history, inactive."""

    kind: str
    unit: str
    period: str | None
    older_file: str
    newer_file: str


@dataclass(frozen=True)
class Placement:
    """Where one of a new file's submissions went besides replacing: ``state`` "added" (a 补报
    ledger joined its period's ledger) or "held_aside" (period outside the campaign window)."""

    kind: str
    unit: str
    period: str | None
    state: str


@dataclass
class IngestOutcome:
    """What became of one file: accepted, rejected (stored with its issues), skipped (stored
    before) or refused (the officer may not upload it: not stored, ``file_id`` None)."""

    file_name: str
    sha256: str
    status: str  # "accepted" | "rejected" | "skipped" | "refused"
    file_id: int | None
    issues: list[Issue] = field(default_factory=list)
    submissions: int = 0
    stored_as: str = ""  # for a skipped file: the name the same content was first stored under
    replaced: list[Replacement] = field(default_factory=list)
    placed: list[Placement] = field(default_factory=list)

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.status]


OUTCOME_LABELS = {"accepted": "已导入", "rejected": "未通过", "skipped": "已导入过，跳过", "refused": "无权上传"}


@dataclass
class IngestReport:
    """The outcome of every file of one ``ingest_paths`` call, and the paths that did not exist."""

    outcomes: list[IngestOutcome] = field(default_factory=list)
    missing: list[Issue] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class Store:
    """Files and their parsed results in a SQL database. Safe to reopen: state lives in the database."""

    def __init__(self, location: str | os.PathLike | None = None):
        self.url = resolve_store_url(location)
        try:
            self.engine: Engine = _create_engine(self.url)
            _check_reachable(self.engine)
            with self._write() as conn:
                _lock_schema(conn)
                metadata.create_all(conn)
                _migrate(conn)
        except ImportError as error:
            raise StoreError(f"无法打开数据库“{self.display_url}”：缺少数据库驱动（{error.name}），请先安装。") from error
        except sa.exc.SQLAlchemyError as error:
            raise StoreError(f"无法打开数据库“{self.display_url}”：{error.__class__.__name__}: {error.args[0] if error.args else ''}") from error

    @property
    def display_url(self) -> str:
        """The URL without a password, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: on SQLite it begins with ``BEGIN IMMEDIATE``, so the write lock is
        taken before anything is read (no two writers read the same ``max(sequence)``); a writer
        that finds it taken waits up to ``SQLITE_BUSY_TIMEOUT_S``. Keep what runs inside short."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def __enter__(self) -> Store:
        return self

    def secret(self, key: str) -> str:
        """A random secret of this store (``secrets.token_urlsafe(48)``), made the first time it is
        asked for and kept in ``schema_info`` under ``secret:<key>``: every process and machine
        sharing the store gets the same one, also after a restart (``secret("cookie")`` signs the
        server's cookies). Two processes asking at once get the same value. A backup carries it."""
        name = SECRET_PREFIX + key
        if not key or len(name) > schema_info.c.key.type.length:
            raise ValueError(f"secret name must be 1 to {schema_info.c.key.type.length - len(SECRET_PREFIX)} characters")
        query = sa.select(schema_info.c.value).where(schema_info.c.key == name)
        with self.engine.connect() as conn:
            if (value := conn.execute(query).scalar()) is not None:
                return value
        for attempt in range(1, SEQUENCE_ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    if (value := conn.execute(query).scalar()) is None:  # insert if absent
                        value = secrets.token_urlsafe(48)
                        conn.execute(schema_info.insert().values(key=name, value=value))
                return value
            except IntegrityError:
                # (not SQLite) another process inserted it between our read and our insert.
                if attempt == SEQUENCE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingesting ------------------------------------------------------------------

    def new_batch(self) -> int:
        """A batch number for files about to be ingested together, later than every stored one
        and than every number handed out before (also to another process)."""
        with self._write() as conn:
            return _next_batch(conn)

    def ingest_bytes(self, data: bytes, file_name: str, parsed: tuple[WorkbookResult, str] | None = None,
                     batch: int | None = None, parse: Parser | None = None) -> IngestOutcome:
        """Store one file and its parsed result; the same content a second time changes nothing.

        ``parsed`` is ``parse_and_encode(data, file_name)`` when the caller already has it; otherwise
        new content is parsed by ``parse`` (default ``parse_and_encode`` in this process; the server's
        uploads pass ``store.isolation.parse_isolated``); ``batch`` is ``new_batch()`` shared by files
        received together (default: a batch of its own). A file over ``MAX_FILE_BYTES`` is not
        parsed and its bytes are not kept: name, size, sha256 and the refusal are recorded."""
        shared = _BatchSlot(batch)
        return self._ingest(data, file_name, parsed, shared, parse=parse)

    def ingest_upload(self, files: list[tuple[str, bytes]], parse: Parser | None = None,
                      authorize: Callable[[WorkbookResult], str | None] | None = None, actor: Actor | None = None,
                      progress: ProgressCallback | None = None) -> list[IngestOutcome]:
        """Store the files of one upload (name, bytes) all together or not at all; their outcomes in order.

        Each new file is parsed first, outside any transaction, by ``parse`` (default
        ``parse_and_encode``; the server passes ``store.isolation.parse_isolated``); content stored
        before is "skipped". ``authorize(result)`` returning a message refuses that file (status
        "refused", an error issue with code ``NOT_AUTHORISED_CODE`` carrying the message; not stored;
        checked for skipped files too, against their stored result). Then every file to store goes
        in ONE write transaction with one new batch: if anything fails, or the process dies, no
        file of the upload is stored. With ``actor`` (``store.audit.Actor``) each file gets an
        "upload" audit entry (file name, sha256, outcome, the refusal or rejection reason) in that
        same transaction. ``progress(index, total, name)`` is called before each file is parsed.
        """
        if not files:
            return []
        prepared: list[ParsedFile | IngestOutcome] = []
        for index, (name, data) in enumerate(files):
            if progress:
                progress(index, len(files), name)
            item = self._prepare(data, name, parse=parse)
            if authorize is not None:
                result = item.result if isinstance(item, ParsedFile) else _stored_result(self, item.file_id)
                if (refusal := authorize(result)) is not None:
                    item = _refused(name, item.sha256, refusal)
            prepared.append(item)
        if not any(isinstance(item, ParsedFile) for item in prepared) and actor is None:
            return list(prepared)
        for attempt in range(1, SEQUENCE_ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    outcomes, batch = [], None
                    for item in prepared:
                        if isinstance(item, ParsedFile):
                            # Stored meanwhile by another process: skipped, as if known before.
                            outcome = self._outcome_if_known(item.sha256, item.name, conn)
                            if outcome is None:
                                batch = batch if batch is not None else _next_batch(conn)
                                outcome = _store_in(conn, item, batch)
                        else:
                            outcome = item
                        if actor is not None:
                            _record_upload(conn, actor, outcome)
                        outcomes.append(outcome)
                return outcomes
            except IntegrityError:
                # (not SQLite) Another writer took the same sequence number or stored the same
                # content first: the whole transaction again, which sees it.
                if attempt == SEQUENCE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _prepare(self, data: bytes | None, file_name: str, parsed: tuple[WorkbookResult, str] | None = None,
                 sha256: str | None = None, size: int | None = None,
                 parse: Parser | None = None) -> ParsedFile | IngestOutcome:
        """The parse step: a "skipped" outcome for content stored before, else the file with its
        result (parsed here, outside any transaction: it is pure and may take a while). ``data``
        is None for an oversized file on disk, given by its ``sha256`` and ``size`` (never read whole)."""
        size = len(data) if data is not None else size
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        if (known := self._outcome_if_known(sha256, file_name)) is not None:
            return known
        if size > MAX_FILE_BYTES:
            result, result_json = oversized_result(file_name, size, sha256)
        elif parsed is not None:
            result, result_json = parsed
        else:
            result, result_json = (parse or parse_and_encode)(data, file_name)
        return ParsedFile(file_name, data, sha256, size, result, result_json)

    def _ingest(self, data: bytes | None, file_name: str, parsed: tuple[WorkbookResult, str] | None,
                shared: _BatchSlot, sha256: str | None = None, size: int | None = None,
                parse: Parser | None = None, actor: Actor | None = None) -> IngestOutcome:
        """``ingest_bytes`` with a batch shared by the files of one call: numbered by the write
        transaction of the first file actually stored, so a call whose files were all stored
        before takes no number. One write transaction for the file (and its audit entry with ``actor``)."""
        prepared = self._prepare(data, file_name, parsed, sha256, size, parse)
        if isinstance(prepared, IngestOutcome):
            if actor is not None:
                with self._write() as conn:
                    _record_upload(conn, actor, prepared)
            return prepared
        for attempt in range(1, SEQUENCE_ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    # Inside the write transaction: on SQLite no other writer runs until commit.
                    outcome = self._outcome_if_known(prepared.sha256, file_name, conn)
                    if outcome is None:
                        batch = shared.number if shared.number is not None else _next_batch(conn)
                        outcome = _store_in(conn, prepared, batch)
                    if actor is not None:
                        _record_upload(conn, actor, outcome)
                if outcome.status != "skipped":
                    shared.number = batch  # only once committed: a rolled-back number is not reused
                return outcome
            except IntegrityError:
                # (not SQLite) Another process stored the same content between our check and our
                # insert, or took the same sequence number first: read it again.
                if attempt == SEQUENCE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def ingest_paths(self, paths: Iterable[str | os.PathLike], progress: ProgressCallback | None = None,
                     workers: int = INGEST_WORKERS, actor: Actor | None = None) -> IngestReport:
        """Ingest every workbook under the given files and folders, one transaction per file.

        Files are parsed in ``workers`` processes (parsing is pure and CPU-bound) and stored
        in order, so the ingestion sequence is the order the files were named. With ``actor``
        (``store.audit.Actor``; the CLI passes ``CLI_ACTOR``) each file gets an "upload" audit
        entry in that file's transaction.

        File names are stored relative to the folder named on the command line, as officers
        named them (``8月/章贡区.xlsx``); a file named directly keeps its base name.
        """
        found: list[tuple[Path, str]] = []
        report = IngestReport()
        for root in paths:
            workbooks, missing = loaders.find_workbooks([root])
            report.missing.extend(missing)
            root_path = Path(root)
            found.extend((p, str(p.relative_to(root_path)) if root_path.is_dir() else p.name) for p in workbooks)
        if progress:
            progress(0, len(found), found[0][1] if found else "")
        with self.engine.connect() as conn:
            known = set(conn.execute(sa.select(files.c.sha256)).scalars())
        batch = _BatchSlot()  # numbered by the first file stored
        for index, file in enumerate(_parse_in_workers(found, known, workers)):
            parsed = (file.result, file.result_json) if file.result is not None else None
            report.outcomes.append(self._ingest(file.data, file.name, parsed, batch, file.sha256, file.size, actor=actor))
            if progress:
                progress(index + 1, len(found), file.name)
        if progress:
            progress(len(found), len(found), "")
        return report

    def _outcome_if_known(self, sha256: str, file_name: str, conn: Connection | None = None) -> IngestOutcome | None:
        """A "skipped" outcome when this content is stored (read in ``conn`` when given)."""
        if conn is None:
            with self.engine.connect() as conn:
                return self._outcome_if_known(sha256, file_name, conn)
        row = conn.execute(sa.select(files.c.id, files.c.file_name, files.c.result_json)
                           .where(files.c.sha256 == sha256)).first()
        if row is None:
            return None
        stored = result_from_dict(json.loads(row.result_json))
        return IngestOutcome(file_name=file_name, sha256=sha256, status="skipped", file_id=row.id,
                             issues=stored.issues, submissions=len(stored.submissions), stored_as=row.file_name)

    # --- reading --------------------------------------------------------------------

    def data_revision(self) -> int:
        """The revision of the stored data: it moves with every change the campaign is built from
        (a file stored by any process or machine, a file re-read by a new parser)."""
        with self.engine.connect() as conn:
            return read_data_revision(conn)

    def results(self) -> list[WorkbookResult]:
        """Every stored file's result in ingestion order, re-reading those from an older parser."""
        return self.results_at_revision()[0]

    def results_at_revision(self) -> tuple[list[WorkbookResult], int]:
        """``results()`` and the data revision they are, read in one transaction (a consistent
        snapshot: on PostgreSQL at REPEATABLE READ), so the two always go together."""
        self._reread_stale_results()
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                revision = read_data_revision(conn)
                rows = conn.execute(sa.select(files.c.result_json, files.c.batch).order_by(files.c.sequence)).all()
        # Decoded anew each time rather than cached: the campaign built from them holds what the
        # dashboard needs, and keeping every file's records as well would double the memory.
        results = []
        for row in rows:
            result = result_from_dict(json.loads(row.result_json))
            result.batch = row.batch
            results.append(result)
        return results, revision

    def campaign(self, as_of: dt.date | None = None) -> Campaign:
        """The campaign dataset built from everything stored, oldest ingestion first."""
        return loaders.build_campaign(self.results(), as_of)

    def is_empty(self) -> bool:
        """Whether no file was ever stored (one indexed row read, whatever the store's size)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(files.c.id).limit(1)).first() is None

    def files_frame(self) -> pd.DataFrame:
        """One row per stored file (without its bytes), in ingestion order."""
        query = (sa.select(files.c.id, files.c.sequence, files.c.file_name, files.c.sha256, files.c.size,
                           files.c.ingested_at, files.c.accepted, files.c.parser_version, files.c.content_kept)
                 .order_by(files.c.sequence))
        return self._frame(query)

    def submission_history(self, unit: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Every submission ever stored, optionally for one unit and/or period, oldest first."""
        newer = files.alias("newer")
        query = (
            sa.select(submissions.c.id, submissions.c.kind, submissions.c.unit, submissions.c.unit_type,
                      submissions.c.period, submissions.c.sheet, submissions.c.layout, submissions.c.reported_on,
                      submissions.c.records, submissions.c.state, submissions.c.correction, submissions.c.supplement,
                      submissions.c.active, submissions.c.file_id, files.c.file_name, files.c.batch,
                      files.c.ingested_at, submissions.c.superseded_by_file_id,
                      newer.c.file_name.label("superseded_by_file_name"))
            .join(files, files.c.id == submissions.c.file_id)
            .outerjoin(newer, newer.c.id == submissions.c.superseded_by_file_id)
            .order_by(submissions.c.unit, submissions.c.period, submissions.c.kind, files.c.sequence, submissions.c.position)
        )
        if unit is not None:
            query = query.where(submissions.c.unit == unit)
        if period is not None:
            query = query.where(submissions.c.period == period)
        history = self._frame(query)
        history["superseded_by_file_id"] = history["superseded_by_file_id"].astype("Int64")
        return history

    def file_content(self, file_id: int) -> bytes:
        """The original bytes of a stored file, e.g. to hand the officer's workbook back.

        Raises StoreError for a file refused as too large, whose bytes were not kept."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(files.c.content, files.c.content_kept, files.c.file_name, files.c.size)
                               .where(files.c.id == file_id)).one()
        if not row.content_kept:
            raise StoreError(f"文件“{row.file_name}”（{row.size // (1024 * 1024)}MB）超出大小上限，未保存原件"
                             "（只记录了文件名、大小和SHA-256校验值），无法取回。请向报送单位索取原文件。")
        return row.content

    def _frame(self, query: sa.Select) -> pd.DataFrame:
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys()))
        # SQLite drops the time zone; every timestamp is written in UTC.
        frame["ingested_at"] = pd.to_datetime(frame["ingested_at"], utc=True)
        return frame

    def _reread_stale_results(self) -> None:
        """Parse again the files read by another parser version or stored in another codec format.

        Nothing is parsed inside a write transaction: each file's bytes are read in a read
        transaction, parsed here, and its new result written in a short write transaction of
        its own, so another writer (an upload, an ingest) waits for one file's rows at most.
        A file another process has re-read meanwhile is left as that process wrote it.
        """
        with self.engine.connect() as conn:
            stale = conn.execute(sa.select(files.c.id).where(files.c.parser_version != loaders.PARSER_VERSION)
                                 .order_by(files.c.sequence)).scalars().all()
        if not stale:
            return
        reread = 0
        for file_id in stale:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(files.c.file_name, files.c.content, files.c.content_kept, files.c.size,
                                             files.c.sha256)
                                   .where(files.c.id == file_id, files.c.parser_version != loaders.PARSER_VERSION)).first()
            if row is None:  # re-read by another process, or gone
                continue
            if row.content_kept:
                result, result_json = parse_and_encode(row.content, row.file_name)
            else:  # refused for its size, bytes not kept: the refusal again, from name and size
                result, result_json = oversized_result(row.file_name, row.size, row.sha256)
            with self._write() as conn:
                updated = conn.execute(files.update()
                                       .where(files.c.id == file_id, files.c.parser_version != loaders.PARSER_VERSION)
                                       .values(accepted=result.accepted, parser_version=loaders.PARSER_VERSION,
                                               result_json=result_json)).rowcount
                if updated:
                    conn.execute(submissions.delete().where(submissions.c.file_id == file_id))
                    _insert_submissions(conn, file_id, result)
                    advance_data_revision(conn)
                    reread += 1
        if reread:
            with self._write() as conn:
                _refresh_active(conn)


def _store_in(conn: Connection, file: ParsedFile, batch: int) -> IngestOutcome:
    """The store step: one parsed file's row and submissions in the caller's write transaction,
    as the next in sequence, in ``batch``; which submissions count is recomputed for the keys it reports."""
    oversized = file.data is None or file.size > MAX_FILE_BYTES
    # Inside the write transaction: on SQLite no other writer runs until commit.
    sequence = conn.execute(sa.select(sa.func.coalesce(sa.func.max(files.c.sequence), 0))).scalar_one() + 1
    file_id = conn.execute(files.insert().values(
        sha256=file.sha256, file_name=file.name, size=file.size, content=b"" if oversized else file.data,
        content_kept=not oversized,
        ingested_at=dt.datetime.now(dt.timezone.utc), sequence=sequence, batch=batch,
        accepted=file.result.accepted, parser_version=loaders.PARSER_VERSION, result_json=file.result_json,
    )).inserted_primary_key[0]
    _insert_submissions(conn, file_id, file.result)
    replaced, placed = _refresh_active(conn, newly_superseding=file_id)
    advance_data_revision(conn)
    return IngestOutcome(
        file_name=file.name, sha256=file.sha256, status="accepted" if file.result.accepted else "rejected",
        file_id=file_id, issues=list(file.result.issues), submissions=len(file.result.submissions),
        replaced=replaced, placed=placed,
    )


def _refused(file_name: str, sha256: str, message: str) -> IngestOutcome:
    issue = Issue(file_name, "", "", "error", message, NOT_AUTHORISED_CODE)
    return IngestOutcome(file_name=file_name, sha256=sha256, status="refused", file_id=None, issues=[issue])


def _stored_result(store: Store, file_id: int) -> WorkbookResult:
    with store.engine.connect() as conn:
        return result_from_dict(json.loads(conn.execute(sa.select(files.c.result_json)
                                                        .where(files.c.id == file_id)).scalar_one()))


# Reasons quoted in an upload's audit entry: the file-level errors, at most this many.
_AUDIT_REASONS = 3


def _record_upload(conn: Connection, actor: Actor, outcome: IngestOutcome) -> None:
    """The "upload" audit entry of one file, in the caller's transaction: name, sha256, outcome
    and, for a refused or rejected file, why."""
    from . import audit  # audit imports this module

    detail = f"sha256={outcome.sha256}；{outcome.label}"
    if outcome.status == "skipped" and outcome.stored_as != outcome.file_name:
        detail += f"（库中名为“{outcome.stored_as}”）"
    if outcome.status in ("refused", "rejected"):
        reasons = [issue.message for issue in outcome.issues if issue.severity == "error"][:_AUDIT_REASONS]
        detail += "".join(f"；{reason}" for reason in reasons)
    result = {"refused": "refused", "rejected": "failed"}.get(outcome.status, "ok")
    audit.record(conn, actor, "upload", target=outcome.file_name, detail=detail, outcome=result)


@dataclass
class _BatchSlot:
    """The batch of the files of one call, once a number is assigned."""

    number: int | None = None


@dataclass
class ParsedFile:
    """A file read and, when its content is new, parsed and encoded for storing. An oversized
    file is not read: ``data`` is None, ``sha256`` and ``size`` describe it."""

    name: str
    data: bytes | None
    sha256: str
    size: int
    result: WorkbookResult | None = None
    result_json: str | None = None


def oversized_result(file_name: str, size: int, sha256: str) -> tuple[WorkbookResult, str]:
    """The refusal ``loaders.load_workbook`` gives a file over ``MAX_FILE_BYTES``, built from its
    name, size and hash alone (the same issue, so a file read before and after is the same)."""
    result = WorkbookResult(file=file_name, sha256=sha256)
    mb = 1024 * 1024
    result.issues.append(Issue(file_name, "", "", "error",
                               f"文件未导入：文件大小{size // mb}MB，超出上限{MAX_FILE_BYTES // mb}MB。", OVERSIZED_CODE))
    return result, json.dumps(result_to_dict(result), ensure_ascii=False)


def _read_file(path: Path, name: str) -> ParsedFile:
    """A file's bytes and hash; an oversized one is hashed streaming and not kept in memory."""
    size = path.stat().st_size
    if size <= MAX_FILE_BYTES:
        data = path.read_bytes()
        return ParsedFile(name, data, hashlib.sha256(data).hexdigest(), len(data))
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return ParsedFile(name, None, digest.hexdigest(), size)


def parse_and_encode(data: bytes, file_name: str) -> tuple[WorkbookResult, str]:
    """What ``ingest_bytes`` stores for a file: its result and that result as JSON (pure, CPU-bound)."""
    result = loaders.load_workbook(data, file_name)
    return result, json.dumps(result_to_dict(result), ensure_ascii=False)


def _parse_in_workers(found: list[tuple[Path, str]], known_sha256: set[str], workers: int) -> Iterator[ParsedFile]:
    """The files in the given order, new content parsed and encoded in a process pool when it pays.

    Results are yielded as they arrive, so the caller stores file N while the workers parse
    the next ones. Content already stored is not parsed (``ingest_bytes`` reports it skipped)."""
    files = [_read_file(path, name) for path, name in found]
    is_new = [f.sha256 not in known_sha256 and f.data is not None for f in files]
    todo = [f for f, new in zip(files, is_new) if new]
    if workers <= 1 or len(todo) < 8:
        yield from files
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Executor.map yields in submission order: the k-th result belongs to the k-th new file.
        encoded = pool.map(parse_and_encode, [f.data for f in todo], [f.name for f in todo], chunksize=2)
        for file, new in zip(files, is_new):
            if new:
                file.result, file.result_json = next(encoded)
            yield file


_WRITE_OPTION = "hazardboard_write"


def _create_engine(url: str) -> Engine:
    """An engine; on SQLite with a busy timeout and transactions begun by us (see ``_begin_sqlite``)."""
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
        return sa.create_engine(url, connect_args=connect_args)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


# PostgreSQL: the advisory lock held while a process creates or migrates the tables ("hzbd").
_SCHEMA_LOCK_KEY = 0x687A6264


def _lock_schema(conn: Connection) -> None:
    """Two processes opening a new PostgreSQL store at once would both create its tables (the
    second fails on the catalog's unique index): they take turns until the transaction ends.
    SQLite's write transaction (``BEGIN IMMEDIATE``) already excludes the other."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})")


def _check_reachable(engine: Engine) -> None:
    """StoreError naming the server, port and database when a database server cannot be reached
    (down, wrong address, refused credentials, no such database); SQLite has no server."""
    if engine.dialect.name == "sqlite":
        return
    try:
        engine.connect().close()
    except sa.exc.DBAPIError as error:
        url = engine.url
        lines = [line.strip() for line in str(error.orig or error).splitlines() if line.strip()]
        reason = lines[0] if lines else error.__class__.__name__
        raise StoreError(
            f"无法连接数据库服务器 {url.host or 'localhost'}:{url.port or _DEFAULT_PORTS.get(url.get_backend_name(), '默认端口')}（数据库“{url.database or ''}”，"
            f"用户“{url.username or ''}”）：{reason}。请确认数据库服务器正在运行、地址和端口正确、"
            "数据库已创建，且用户名和密码无误。") from error


def _begin_sqlite(conn: Connection) -> None:
    """Begin every transaction ourselves (the pattern of SQLAlchemy's pysqlite notes on
    serializable isolation): ``BEGIN IMMEDIATE`` for ``Store._write``, which takes the write
    lock at once or waits for it, a deferred ``BEGIN`` (a read snapshot in WAL) otherwise."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "BEGIN")


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    # The driver would begin transactions lazily, before the first write, and a deferred
    # transaction that read first cannot wait for the write lock: leave that to _begin_sqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL: readers (the dashboard) never block the ingest. FULL: each commit syncs the WAL, so a
    # committed upload, annotation or audit entry survives a power loss too, not only a crash
    # (NORMAL in WAL may lose the last commits before a checkpoint).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _migrate(conn: Connection) -> None:
    """Record the schema version of a new store, bring an older one up to it step by step;
    refuse a store written by a newer program. Results stored in another codec format are
    marked stale (``results()`` reads them again from the bytes)."""
    stored = conn.execute(sa.select(schema_info.c.value).where(schema_info.c.key == "schema_version")).scalar()
    if stored is None:
        conn.execute(schema_info.insert(), [{"key": "schema_version", "value": str(SCHEMA_VERSION)},
                                            {"key": "codec_format", "value": str(CODEC_FORMAT)},
                                            {"key": "last_batch", "value": "0"},
                                            {"key": "data_revision", "value": "0"}])
        _guard_audit_log(conn)
        return
    if int(stored) > SCHEMA_VERSION:
        raise StoreError(f"数据库由较新版本的程序创建（结构版本{stored}，本程序支持{SCHEMA_VERSION}），请升级程序后再使用。")
    version = int(stored)
    if version < 2:
        # Batches and the resend flags. Each file stored before was received on its own, so its
        # sequence is its batch; the flags are filled when the parser-version bump re-reads it.
        conn.execute(sa.text("ALTER TABLE files ADD COLUMN batch INTEGER NOT NULL DEFAULT 0"))
        conn.execute(sa.text("UPDATE files SET batch = sequence"))
        for column in ("correction", "supplement"):
            conn.execute(sa.text(f"ALTER TABLE submissions ADD COLUMN {column} BOOLEAN NOT NULL DEFAULT FALSE"))
        conn.execute(sa.text("ALTER TABLE submissions ADD COLUMN state VARCHAR(16) NOT NULL DEFAULT 'active'"))
        version = 2
    if version < 3:
        # Batches are numbered from a counter advanced inside write transactions (max(batch)+1
        # read outside one let two uploads share a number). A version-2 program would not
        # advance it, hence the version.
        last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(files.c.batch), 0))).scalar_one()
        conn.execute(schema_info.delete().where(schema_info.c.key == "last_batch"))
        conn.execute(schema_info.insert().values(key="last_batch", value=str(last)))
        version = 3
    if version < 4:
        # Files refused as too large are recorded without their bytes (a 143 MB refusal grew the
        # store by 150 MB): the column, and the bytes of those stored before dropped.
        conn.execute(sa.text("ALTER TABLE files ADD COLUMN content_kept BOOLEAN NOT NULL DEFAULT TRUE"))
        candidates = conn.execute(sa.select(files.c.id, files.c.result_json)
                                  .where(files.c.accepted == sa.false(),
                                         files.c.result_json.contains(OVERSIZED_CODE))).all()
        oversized = [row.id for row in candidates
                     if any(issue.get("code") == OVERSIZED_CODE for issue in json.loads(row.result_json).get("issues", []))]
        if oversized:
            conn.execute(files.update().where(files.c.id.in_(oversized)).values(content=b"", content_kept=False))
        version = 4
    if version < 5:
        # Annotations: two new tables, created empty by ``metadata.create_all`` before this runs;
        # nothing stored before changes. A version-4 program would not know them, hence the version.
        version = 5
    if version < 6:
        # The audit log: a new table (created empty above), made append-only here.
        _guard_audit_log(conn)
        version = 6
    if version < 7:
        # The data revision (the campaign cache's table is created above): every stored file counted
        # once, so a store with data never starts at the revision of an empty one.
        count = conn.execute(sa.select(sa.func.count()).select_from(files)).scalar_one()
        conn.execute(schema_info.delete().where(schema_info.c.key == "data_revision"))
        conn.execute(schema_info.insert().values(key="data_revision", value=str(count)))
        version = 7
    if version < 8:
        # The accounts table (created empty above; filled by ``hazardboard users`` on a database
        # URL store); on PostgreSQL the audit log's TRUNCATE guard, and a file's size as bigint
        # (SQLite's integers are 64-bit already).
        _guard_audit_log(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE files ALTER COLUMN size TYPE BIGINT")
        version = 8
    codec = conn.execute(sa.select(schema_info.c.value).where(schema_info.c.key == "codec_format")).scalar()
    if codec != str(CODEC_FORMAT):
        # Results of a format this program still decodes stay as they are (new ones are written
        # in the current format); any other format is parsed again from the kept bytes.
        if codec not in {str(format_) for format_ in READABLE_OLDER_FORMATS}:
            conn.execute(files.update().values(parser_version=STALE_PARSER_VERSION))
        if codec is None:
            conn.execute(schema_info.insert().values(key="codec_format", value=str(CODEC_FORMAT)))
        else:
            conn.execute(schema_info.update().where(schema_info.c.key == "codec_format").values(value=str(CODEC_FORMAT)))
    if version != int(stored):
        conn.execute(schema_info.update().where(schema_info.c.key == "schema_version").values(value=str(version)))
        _refresh_active(conn)


def advance_data_revision(conn: Connection) -> int:
    """Advance the data revision inside the caller's write transaction (as ``_next_batch``): every
    process sees the change once it commits."""
    condition = schema_info.c.key == "data_revision"
    revision = int(conn.execute(sa.select(schema_info.c.value).where(condition).with_for_update()).scalar_one()) + 1
    conn.execute(schema_info.update().where(condition).values(value=str(revision)))
    return revision


def read_data_revision(conn: Connection) -> int:
    return int(conn.execute(sa.select(schema_info.c.value).where(schema_info.c.key == "data_revision")).scalar_one())


def _next_batch(conn: Connection) -> int:
    """Advance the batch counter inside the caller's write transaction (locked for update where
    the database has row locks; SQLite's write transaction already excludes other writers)."""
    condition = schema_info.c.key == "last_batch"
    last = int(conn.execute(sa.select(schema_info.c.value).where(condition).with_for_update()).scalar_one())
    conn.execute(schema_info.update().where(condition).values(value=str(last + 1)))
    return last + 1


def _insert_submissions(conn: Connection, file_id: int, result: WorkbookResult) -> None:
    rows = [
        {"file_id": file_id, "position": position, "kind": sub.kind, "unit": sub.unit, "unit_type": sub.unit_type,
         "period": sub.period, "sheet": sub.source_sheet, "layout": sub.layout, "reported_on": sub.reported_on,
         "records": len(sub.records), "correction": sub.correction, "supplement": sub.supplement, "state": "active",
         "active": True, "superseded_by_file_id": None}
        for position, sub in enumerate(result.submissions)
    ]
    if rows:
        conn.execute(submissions.insert(), rows)


def _refresh_active(conn: Connection, newly_superseding: int | None = None) -> tuple[list[Replacement], list[Placement]]:
    """Recompute which submission counts for each (kind, unit, period) with ``loaders.resends``,
    the rule ``loaders.build_campaign`` applies too (batch, then correction, filing date, file
    name; supplements add; periods outside the campaign are held aside).

    Returns what ``newly_superseding`` (a file id) replaced and where its other submissions went.
    With ``newly_superseding`` only the keys that file reports are recomputed: nothing else can
    have changed.
    """
    query = (
        sa.select(submissions.c.id, submissions.c.file_id, submissions.c.kind, submissions.c.unit, submissions.c.period,
                  submissions.c.position, submissions.c.reported_on, submissions.c.correction, submissions.c.supplement,
                  submissions.c.state, submissions.c.active, submissions.c.superseded_by_file_id, files.c.sequence,
                  files.c.batch, files.c.file_name)
        .join(files, files.c.id == submissions.c.file_id)
    )
    if newly_superseding is not None:
        touched = (sa.select(submissions.c.kind, submissions.c.unit, submissions.c.period)
                   .where(submissions.c.file_id == newly_superseding))
        keys = conn.execute(touched).all()
        if not keys:
            return [], []
        # period may be NULL (registry): compare with IS NOT DISTINCT FROM semantics.
        query = query.where(sa.or_(*(
            sa.and_(submissions.c.kind == kind, submissions.c.unit == unit, submissions.c.period.is_not_distinct_from(period))
            for kind, unit, period in set(keys)
        )))
    rows = sorted(conn.execute(query).all(), key=lambda r: (r.sequence, r.position))
    decisions = resends.resolve([
        resends.Candidate(r.kind, r.unit, r.period, r.batch, r.correction, r.supplement, r.reported_on, r.file_name, received)
        for received, r in enumerate(rows)
    ])
    replaced, placed = [], []
    for row, decision in zip(rows, decisions):
        superseded_by = rows[decision.by].file_id if decision.by is not None else None
        if row.file_id == newly_superseding and decision.state in ("added", "held_aside"):
            placed.append(Placement(row.kind, row.unit, row.period, decision.state))
        if (row.state, row.active, row.superseded_by_file_id) == (decision.state, decision.counts, superseded_by):
            continue
        conn.execute(submissions.update().where(submissions.c.id == row.id)
                     .values(state=decision.state, active=decision.counts, superseded_by_file_id=superseded_by))
        if superseded_by is not None and superseded_by == newly_superseding:
            replaced.append(Replacement(row.kind, row.unit, row.period, row.file_name, rows[decision.by].file_name))
    return replaced, placed
