"""The audit log: who did what, when, from where — append-only, in the store's database.

Every sign-in (and each failure), upload (file, sha256, outcome), annotation change, export and
user change adds one row. Rows are never updated or deleted: the program has no such path, and
the database refuses it too (triggers on SQLite and PostgreSQL, created with the table).

A write that is audited records its entry in the same transaction as the change it describes
(``record(conn, …)`` inside ``Store._write()``), so the log and the data never disagree after a
crash. Notebook use: ``entries("data", actor="张三")``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import Store, audit_log

# action → Chinese label (the data page and ``hazardboard audit`` print these).
ACTION_LABELS = {
    "signin": "登录",
    "signin_failed": "登录失败",
    "signin_locked": "登录被锁定",
    "signout": "退出登录",
    "upload": "上传文件",
    "annotation_add": "新增批注",
    "annotation_edit": "修改批注",
    "annotation_resolve": "办结批注",
    "annotation_reopen": "重新打开批注",
    "export": "导出",
    "user_add": "新增用户",
    "user_remove": "删除用户",
    "user_passwd": "修改密码",
    "user_change": "修改用户",
    "denied": "越权操作被拒绝",
    "backup": "备份",
    "restore": "恢复",
}
from .defaults import OUTCOMES  # noqa: E402,F401 - re-exported
OUTCOME_LABELS = {"ok": "成功", "refused": "被拒绝", "failed": "失败"}
COLUMNS = ("id", "at", "actor", "role", "action", "target", "detail", "origin", "outcome")
# Long texts (a refusal message, a file name) are kept whole up to this; longer is cut with "…"
# (only the log's copy: the file or the annotation itself is stored whole elsewhere).
MAX_DETAIL_CHARS = 4000


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the signed-in user (or "本机" on an unprotected loopback server,
    "命令行" for the CLI), the role, and the client address."""

    name: str
    role: str = ""
    origin: str = ""


CLI_ACTOR = Actor("命令行", "committee", "localhost")


def cli_actor() -> Actor:
    """The command line's "who": the machine account that ran it (``命令行:root``)."""
    import getpass

    try:
        account = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in a bare container
        return CLI_ACTOR
    return Actor(f"命令行:{account}", "committee", "localhost")


def record(target_of: Store | Connection, actor: Actor, action: str, target: str = "", detail: str = "",
           outcome: str = "ok", at: dt.datetime | None = None) -> None:
    """Append one entry. Given a connection, inside the caller's write transaction (the entry
    commits or rolls back with the change); given a store, in a transaction of its own."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    row = {"at": at or dt.datetime.now(dt.timezone.utc), "actor": _cut(actor.name, 200), "role": _cut(actor.role, 32),
           "action": action, "target": _cut(target, 1000), "detail": _cut(detail, MAX_DETAIL_CHARS),
           "origin": _cut(actor.origin, 200), "outcome": outcome}
    if isinstance(target_of, Store):
        with target_of._write() as conn:
            conn.execute(audit_log.insert().values(**row))
    else:
        target_of.execute(audit_log.insert().values(**row))


def entries(store: Store | str | os.PathLike | None, *, actor: str | None = None, action: str | None = None,
            outcome: str | None = None, since: dt.datetime | dt.date | None = None,
            until: dt.datetime | dt.date | None = None, text: str | None = None,
            limit: int | None = None) -> pd.DataFrame:
    """Entries matching every filter given, newest first; columns ``COLUMNS`` (``at`` in UTC).

    ``since``/``until``: a date means the whole day (UTC); ``text`` matches target or detail."""
    query = sa.select(*(audit_log.c[name] for name in COLUMNS)).order_by(audit_log.c.id.desc())
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    if outcome:
        query = query.where(audit_log.c.outcome == outcome)
    if since is not None:
        query = query.where(audit_log.c.at >= _moment(since))
    if until is not None:
        end = _moment(until) + (dt.timedelta(days=1) if not isinstance(until, dt.datetime) else dt.timedelta())
        query = query.where(audit_log.c.at < end)
    if text:
        pattern = f"%{text}%"
        query = query.where(sa.or_(audit_log.c.target.like(pattern), audit_log.c.detail.like(pattern)))
    if limit is not None:
        query = query.limit(limit)
    with _opened(store) as opened, opened.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=list(COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def recent_failures(store: Store, actor: str, window: dt.timedelta, now: dt.datetime | None = None) -> tuple[int, dt.datetime | None]:
    """Failed sign-ins of ``actor`` within ``window`` since their last successful sign-in:
    (how many, when the latest was). The lock-out reads this, so it holds across processes and
    servers sharing the store, and survives a restart."""
    now = now or dt.datetime.now(dt.timezone.utc)
    start = now - window
    with store.engine.connect() as conn:
        last_ok = conn.execute(sa.select(sa.func.max(audit_log.c.at))
                               .where(audit_log.c.actor == actor, audit_log.c.action == "signin")).scalar()
        if last_ok is not None:
            start = max(start, _utc(last_ok))
        row = conn.execute(sa.select(sa.func.count(), sa.func.max(audit_log.c.at))
                           .where(audit_log.c.actor == actor, audit_log.c.action == "signin_failed",
                                  audit_log.c.at > start)).one()
    return int(row[0]), (_utc(row[1]) if row[1] is not None else None)


def _moment(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return _utc(value)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything is written in UTC.
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _cut(value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def _opened(store: Store | str | os.PathLike | None) -> Iterator[Store]:
    if isinstance(store, Store):
        yield store
        return
    opened = Store(store)
    try:
        yield opened
    finally:
        opened.close()
