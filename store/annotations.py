"""Officers' annotations on hazards, units, a unit's figure for a month, or a whole page view.

Kept in the store's database (tables ``annotations`` and ``annotation_versions`` in ``store.db``)
through SQLAlchemy Core, so they follow the store from SQLite to PostgreSQL. Rules (see
docs/ANNOTATIONS.md): nothing is deleted; every change, resolving and reopening included, is an
edit that adds a version with the full state after it; an edit names the version it was based on
and is refused with ``AnnotationConflict`` when someone else changed the annotation meanwhile.
Text is Markdown source, stored exactly as written (rendering is the UI's business).

Given an ``actor`` (``store.audit.Actor``: who is signed in, from where), every add, edit,
resolve and reopen also records an audit entry ("annotation_add" …) in the same transaction as
the change, so the log and the annotations never disagree, also after a crash. ``author`` stays
the name shown with the annotation, as the officer gave it.

Notebook use: every function takes a ``Store`` or a store location (folder, SQLite file URL,
any SQLAlchemy URL), which it then opens and closes itself::

    from store.annotations import add_annotation, figure_subject, list_annotations
    add_annotation("data", figure_subject("会昌县", "penalties", "2023-08"), "处罚次数偏低，已电话核实。", "张三")
    list_annotations("data", unit="会昌县")
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loaders import Campaign
from loaders.reference import INDICATOR_BY_KEY, canonical_unit

from . import audit
from .audit import Actor
from .db import Store, annotation_versions, annotations

KINDS = ("hazard", "unit", "figure", "view")
KIND_LABELS = {"hazard": "隐患", "unit": "单位", "figure": "指标数值", "view": "页面视图"}
# The parts each kind of subject is made of, in key order.
SUBJECT_PARTS = {"hazard": ("hazard_id",), "unit": ("unit",), "figure": ("unit", "indicator", "period"),
                 "view": ("page", "query")}
PART_LABELS = {"hazard_id": "隐患编号", "unit": "单位", "indicator": "指标", "period": "月份", "page": "页面",
               "query": "筛选条件"}
_ALL_PARTS = ("hazard_id", "unit", "indicator", "period", "page", "query")

from .defaults import DEFAULT_TAGS  # noqa: E402,F401 - the tags officers choose from by default
STATUSES = ("open", "resolved")
STATUS_LABELS = {"open": "未办结", "resolved": "已办结"}
# Generous: a long note with a pasted table fits; longer is refused, never cut.
MAX_TEXT_CHARS = 20_000
MAX_TAG_CHARS = 32
MAX_AUTHOR_CHARS = 100
EDITABLE = ("text", "tag", "follow_up", "status")
FIELD_LABELS = {"text": "内容", "tag": "标签", "follow_up": "跟进日期", "status": "状态"}
# The audit action of each kind of version.
AUDIT_ACTIONS = {"created": "annotation_add", "edited": "annotation_edit", "resolved": "annotation_resolve",
                 "reopened": "annotation_reopen"}
# How much of an annotation's text its audit entry quotes.
AUDIT_EXCERPT_CHARS = 60

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# Columns of ``list_annotations`` (one row per annotation, its current state):
#   id, kind, subject_key, hazard_id, unit, indicator, period, page, query  -- the subject
#   text (Markdown source), tag (str or None), follow_up (datetime.date or None), status (open | resolved)
#   author, created_at (who created it, when; UTC), updated_by, updated_at (the last edit), version (1 = never edited)
COLUMNS = ("id", "kind", "subject_key", *_ALL_PARTS, "text", "tag", "follow_up", "status", "author", "created_at",
           "updated_by", "updated_at", "version")
# Columns of ``history`` (one row per version, oldest first): the full state after each edit.
HISTORY_COLUMNS = ("annotation_id", "version", "change", "text", "tag", "follow_up", "status", "editor", "edited_at")


@dataclass(frozen=True)
class Subject:
    """What an annotation is about. ``kind`` is one of ``KINDS``; the parts it needs:

    - hazard: ``hazard_id`` (``loaders.campaign.hazard_id``: stable across months and resends)
    - unit: ``unit`` (canonical name; a known alias such as "会昌" becomes "会昌县")
    - figure: ``unit``, ``indicator`` (a key of ``loaders.reference.INDICATORS``), ``period`` "YYYY-MM"
    - view: ``page`` and ``query`` (the filters as a URL query string, "" for none; its parameters
      are put in a canonical order, so the same filters give the same subject)

    Other parts must be left out. Invalid subjects raise ValueError with a message for the officer.
    """

    kind: str
    hazard_id: str | None = None
    unit: str | None = None
    indicator: str | None = None
    period: str | None = None
    page: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"未知的批注对象类型“{self.kind}”，应为 {'、'.join(KINDS)} 之一。")
        needed = SUBJECT_PARTS[self.kind]
        label = KIND_LABELS[self.kind]
        for part in _ALL_PARTS:
            value = getattr(self, part)
            if part not in needed:
                if value is not None:
                    raise ValueError(f"{label}批注不需要{PART_LABELS[part]}（收到“{value}”）。")
                continue
            if value is None or not isinstance(value, str) or (part != "query" and not value.strip()):
                raise ValueError(f"{label}批注缺少{PART_LABELS[part]}。")
        if self.kind in ("unit", "figure"):
            written = self.unit.strip()
            object.__setattr__(self, "unit", canonical_unit(written) or written)
        if self.kind == "hazard":
            object.__setattr__(self, "hazard_id", self.hazard_id.strip())
        if self.kind == "figure":
            if self.indicator not in INDICATOR_BY_KEY:
                raise ValueError(f"未知的指标“{self.indicator}”，请使用数据规范中的指标代码（如 penalties）。")
            if not _PERIOD.fullmatch(self.period):
                raise ValueError(f"月份“{self.period}”格式不正确，应为“YYYY-MM”，例如“2023-08”。")
        if self.kind == "view":
            object.__setattr__(self, "page", self.page.strip())
            object.__setattr__(self, "query", canonical_query(self.query))
        for part in needed:  # the columns' lengths: PostgreSQL refuses longer text, SQLite would keep it
            limit = getattr(annotations.c[part].type, "length", None)
            if limit is not None and len(getattr(self, part)) > limit:
                raise ValueError(f"{label}批注的{PART_LABELS[part]}超过 {limit} 个字符。")

    @property
    def key(self) -> str:
        """``kind:part|part...``, one string per subject (``|`` and ``%`` inside a part escaped)."""
        parts = (getattr(self, part) for part in SUBJECT_PARTS[self.kind])
        return f"{self.kind}:" + "|".join(p.replace("%", "%25").replace("|", "%7C") for p in parts)

    @property
    def label(self) -> str:
        """A short Chinese description, e.g. "会昌县 · 行政处罚（次） · 2023-08"."""
        if self.kind == "hazard":
            return f"隐患 {self.hazard_id}"
        if self.kind == "unit":
            return self.unit
        if self.kind == "figure":
            return f"{self.unit} · {INDICATOR_BY_KEY[self.indicator].label} · {self.period}"
        return f"页面 {self.page}" + (f"（{self.query}）" if self.query else "")

    def columns(self) -> dict[str, str | None]:
        return {"subject_kind": self.kind, "subject_key": self.key, **{part: getattr(self, part) for part in _ALL_PARTS}}


_QUERY_ESCAPES = str.maketrans({"%": "%25", "&": "%26", "=": "%3D", "+": "%2B", "#": "%23", " ": "%20"})


def canonical_query(query: str) -> str:
    """A URL query string with its parameters ordered by name (values of one name keep their
    order), decoded and encoded again escaping only what the syntax needs, so Chinese stays
    readable: "?unit=%E4%BC%9A%E6%98%8C%E5%8E%BF&period=2023-08" → "period=2023-08&unit=会昌县"."""
    pairs = parse_qsl(query.strip().lstrip("?"), keep_blank_values=True)
    return "&".join(f"{name.translate(_QUERY_ESCAPES)}={value.translate(_QUERY_ESCAPES)}"
                    for name, value in sorted(pairs, key=lambda pair: pair[0]))


def hazard_subject(hazard_id: str) -> Subject:
    return Subject("hazard", hazard_id=hazard_id)


def unit_subject(unit: str) -> Subject:
    return Subject("unit", unit=unit)


def figure_subject(unit: str, indicator: str, period: str) -> Subject:
    return Subject("figure", unit=unit, indicator=indicator, period=period)


def view_subject(page: str, query: str = "") -> Subject:
    return Subject("view", page=page, query=query)


class AnnotationNotFound(LookupError):
    def __init__(self, annotation_id: int):
        self.annotation_id = annotation_id
        self.message = f"找不到编号为 {annotation_id} 的批注。"
        super().__init__(self.message)


class AnnotationConflict(Exception):
    """An edit based on a version that is no longer the current one: nothing was written.

    ``current`` is the annotation as stored now, ``changed_by``/``changed_at`` who made the last
    edit and when, ``attempted`` the caller's changes (all of them, to re-apply or show)."""

    def __init__(self, current: dict, expected_version: int, attempted: dict, author: str):
        self.current = current
        self.expected_version = expected_version
        self.attempted = attempted
        self.author = author
        self.changed_by = current["updated_by"]
        self.changed_at = current["updated_at"]
        when = self.changed_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        self.message = (f"这条批注已被“{self.changed_by}”于 {when}（北京时间）修改为第 {current['version']} 版，"
                        f"您是在第 {expected_version} 版上修改的，本次修改未保存。您的内容已保留，请对照最新内容后重新提交。")
        super().__init__(self.message)


# --- validation ------------------------------------------------------------------------------

def _checked_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("批注内容不能为空。")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"批注内容共 {len(text)} 字，超过上限 {MAX_TEXT_CHARS} 字，未保存。请精简或分成几条批注。")
    return text


def _checked_author(author: object) -> str:
    if not isinstance(author, str) or not author.strip():
        raise ValueError("请填写批注人姓名。")
    if len(author.strip()) > MAX_AUTHOR_CHARS:
        raise ValueError(f"批注人姓名超过 {MAX_AUTHOR_CHARS} 字。")
    return author.strip()


def _checked_tag(tag: object, allowed: Sequence[str] | None) -> str | None:
    if tag is None:
        return None
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError("标签不能为空白；不需要标签时请不选。")
    if allowed is not None and tag not in allowed:
        raise ValueError(f"标签“{tag}”不在可选标签中（{'、'.join(allowed)}）。")
    if len(tag) > MAX_TAG_CHARS:
        raise ValueError(f"标签“{tag}”超过 {MAX_TAG_CHARS} 字。")
    return tag


def _checked_follow_up(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"跟进日期应为日期（datetime.date），收到“{value!r}”。")
    return value


def _checked_status(status: object) -> str:
    if status not in STATUSES:
        raise ValueError(f"未知的办理状态“{status}”，应为 open（未办结）或 resolved（已办结）。")
    return status


def _checked_changes(changes: dict, allowed_tags: Sequence[str] | None) -> dict:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValueError(f"批注不能修改这些字段：{'、'.join(unknown)}（可修改：{'、'.join(EDITABLE)}）。")
    if not changes:
        raise ValueError("没有要保存的修改。")
    checks = {"text": _checked_text, "tag": lambda t: _checked_tag(t, allowed_tags),
              "follow_up": _checked_follow_up, "status": _checked_status}
    return {name: checks[name](value) for name, value in changes.items()}


# --- the store -------------------------------------------------------------------------------

class Annotations:
    """The annotations of one store. ``allowed_tags``: the tags an officer may choose (None: any);
    tags stored under an earlier list are kept and shown, only a new choice is checked.
    ``actor``: who makes the changes, for the audit log (None: changes are not audited)."""

    def __init__(self, store: Store, allowed_tags: Sequence[str] | None = DEFAULT_TAGS, actor: Actor | None = None):
        self.store = store
        self.allowed_tags = tuple(allowed_tags) if allowed_tags is not None else None
        self.actor = actor

    def add(self, subject: Subject, text: str, author: str, tag: str | None = None,
            follow_up: dt.date | None = None) -> dict:
        """A new open annotation, version 1; returns it as ``get`` does."""
        if not isinstance(subject, Subject):
            raise ValueError("批注对象应为 Subject（可用 hazard_subject、unit_subject、figure_subject、view_subject 构造）。")
        state = {"text": _checked_text(text), "tag": _checked_tag(tag, self.allowed_tags),
                 "follow_up": _checked_follow_up(follow_up), "status": "open"}
        author = _checked_author(author)
        now = _now()
        with self.store._write() as conn:
            annotation_id = conn.execute(annotations.insert().values(
                **subject.columns(), **state, author=author, created_at=now, updated_by=author, updated_at=now, version=1,
            )).inserted_primary_key[0]
            _record_version(conn, annotation_id, 1, "created", state, author, now)
            created = _get(conn, annotation_id)
            if self.actor is not None:
                audit.record(conn, self.actor, "annotation_add", _audit_target(created), _excerpt(state["text"]), at=now)
            return created

    def get(self, annotation_id: int) -> dict:
        """The annotation's current state: a dict with the keys of ``COLUMNS``."""
        with self.store.engine.connect() as conn:
            return _get(conn, annotation_id)

    def edit(self, annotation_id: int, expected_version: int, author: str, **changes) -> dict:
        """Change ``text``, ``tag``, ``follow_up`` and/or ``status`` of the annotation as it was at
        ``expected_version``; returns the new state (version + 1).

        Raises ``AnnotationConflict`` (nothing written) when the stored version is another one,
        ``AnnotationNotFound``, or ValueError for an invalid change. Changes that leave every
        field as it is write nothing and return the annotation unchanged."""
        author = _checked_author(author)
        checked = _checked_changes(changes, self.allowed_tags)
        with self.store._write() as conn:
            current = _get(conn, annotation_id)
            if current["version"] != expected_version:
                raise AnnotationConflict(current, expected_version, dict(changes), author)
            state = {name: current[name] for name in EDITABLE} | checked
            if state == {name: current[name] for name in EDITABLE}:
                return current
            now = _now()
            # The guard itself: on a database whose transactions do not exclude each other
            # (PostgreSQL, read committed) only one of two racing edits matches this row.
            updated = conn.execute(annotations.update()
                                   .where(annotations.c.id == annotation_id, annotations.c.version == expected_version)
                                   .values(**state, updated_by=author, updated_at=now, version=expected_version + 1))
            if updated.rowcount != 1:
                raise AnnotationConflict(_get(conn, annotation_id), expected_version, dict(changes), author)
            change = _change_name(current["status"], state["status"])
            _record_version(conn, annotation_id, expected_version + 1, change, state, author, now)
            edited = _get(conn, annotation_id)
            if self.actor is not None:
                audit.record(conn, self.actor, AUDIT_ACTIONS[change], _audit_target(edited),
                             _changes_text(current, edited), at=now)
            return edited

    def resolve(self, annotation_id: int, author: str, expected_version: int | None = None) -> dict:
        """Mark resolved (an edit); ``expected_version`` None: whatever version is current."""
        return self._set_status(annotation_id, author, expected_version, "resolved")

    def reopen(self, annotation_id: int, author: str, expected_version: int | None = None) -> dict:
        """Mark open again (an edit); ``expected_version`` None: whatever version is current."""
        return self._set_status(annotation_id, author, expected_version, "open")

    def _set_status(self, annotation_id: int, author: str, expected_version: int | None, status: str) -> dict:
        if expected_version is None:
            expected_version = self.get(annotation_id)["version"]
        return self.edit(annotation_id, expected_version, author, status=status)

    def list(self, *, kind: str | None = None, unit: str | None = None, hazard_id: str | None = None,
             author: str | None = None, tag: str | None = None, status: str | None = None,
             follow_up_due: dt.date | None = None, subject_key: str | None = None) -> pd.DataFrame:
        """Annotations matching every filter given, oldest first (created_at, then id); ``COLUMNS``.

        ``unit`` matches unit and figure annotations of that unit; ``follow_up_due``: open ones whose
        follow-up date is on or before it."""
        query = _select_current()
        conditions = {"subject_kind": kind, "hazard_id": hazard_id, "author": author, "tag": tag, "status": status,
                      "subject_key": subject_key}
        if kind is not None and kind not in KINDS:
            raise ValueError(f"未知的批注对象类型“{kind}”，应为 {'、'.join(KINDS)} 之一。")
        for column, value in conditions.items():
            if value is not None:
                query = query.where(annotations.c[column] == value)
        if unit is not None:
            query = query.where(annotations.c.unit == (canonical_unit(unit) or unit.strip()))
        if follow_up_due is not None:
            query = query.where(annotations.c.status == "open", annotations.c.follow_up <= _checked_follow_up(follow_up_due))
        with self.store.engine.connect() as conn:
            rows = conn.execute(query.order_by(annotations.c.created_at, annotations.c.id)).mappings().all()
        return _frame([_row_dict(row) for row in rows], COLUMNS)

    def history(self, annotation_id: int) -> pd.DataFrame:
        """Every version of one annotation, oldest first; ``HISTORY_COLUMNS``."""
        query = (sa.select(*(annotation_versions.c[name] for name in HISTORY_COLUMNS))
                 .where(annotation_versions.c.annotation_id == annotation_id).order_by(annotation_versions.c.version))
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            if not rows:
                _get(conn, annotation_id)  # raises AnnotationNotFound
        return _frame([{**row, "edited_at": _utc(row["edited_at"])} for row in rows], HISTORY_COLUMNS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite drops the time zone; every timestamp is written in UTC."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _audit_target(annotation: dict) -> str:
    """批注#12 会昌县 · 行政处罚（次） · 2023-08"""
    return f"批注#{annotation['id']} {subject_label(annotation)}"


def subject_label(annotation: dict) -> str:
    """The subject's ``Subject.label`` from an annotation's columns (its key if the subject no
    longer validates, e.g. an indicator since renamed)."""
    parts = {part: annotation[part] for part in SUBJECT_PARTS.get(annotation["kind"], ())}
    try:
        return Subject(annotation["kind"], **parts).label
    except (ValueError, TypeError):
        return annotation["subject_key"]


def _excerpt(text: str) -> str:
    """The start of a text on one line, for the audit log: “处罚次数偏低，已电话核实。”"""
    line = " ".join(text.split())
    return f"“{line if len(line) <= AUDIT_EXCERPT_CHARS else line[:AUDIT_EXCERPT_CHARS - 1] + '…'}”"


def _shown(name: str, value: object) -> str:
    if value is None:
        return "（无）"
    if name == "status":
        return STATUS_LABELS.get(value, str(value))
    return _excerpt(value) if name == "text" else str(value)


def _changes_text(before: dict, after: dict) -> str:
    """第3版：内容改为“…”；标签 需关注 → 已督办；状态 未办结 → 已办结"""
    changed = [name for name in EDITABLE if before[name] != after[name]]
    parts = [f"内容改为{_shown('text', after['text'])}" if name == "text"
             else f"{FIELD_LABELS[name]} {_shown(name, before[name])} → {_shown(name, after[name])}"
             for name in changed]
    return f"第{after['version']}版：" + "；".join(parts)


def _change_name(before: str, after: str) -> str:
    if before == after:
        return "edited"
    return "resolved" if after == "resolved" else "reopened"


def _record_version(conn: Connection, annotation_id: int, version: int, change: str, state: dict, editor: str,
                    at: dt.datetime) -> None:
    conn.execute(annotation_versions.insert().values(annotation_id=annotation_id, version=version, change=change,
                                                     **state, editor=editor, edited_at=at))


def _select_current() -> sa.Select:
    return sa.select(*(annotations.c.subject_kind.label("kind") if name == "kind" else annotations.c[name]
                       for name in COLUMNS))


def _row_dict(row) -> dict:
    return {**row, "created_at": _utc(row["created_at"]), "updated_at": _utc(row["updated_at"])}


def _get(conn: Connection, annotation_id: int) -> dict:
    row = conn.execute(_select_current().where(annotations.c.id == annotation_id)).mappings().first()
    if row is None:
        raise AnnotationNotFound(annotation_id)
    return _row_dict(row)


def _frame(records: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(columns))
    for name in ("created_at", "updated_at", "edited_at"):
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True)
    for name in ("id", "annotation_id", "version"):
        if name in frame:
            frame[name] = frame[name].astype("int64")
    # None, never NaN, for a missing tag or follow-up date: what the officer did not fill in.
    for name in ("tag", "follow_up", *_ALL_PARTS):
        if name in frame:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


# --- orphans ---------------------------------------------------------------------------------

def mark_orphans(frame: pd.DataFrame, campaign: Campaign) -> pd.DataFrame:
    """A copy of an annotations frame with a boolean ``orphaned`` column: True for a hazard
    annotation whose hazard the campaign no longer lists, and for a unit or figure annotation whose
    unit appears nowhere in it (hazards, indicators, submissions). Orphans are kept, never dropped."""
    hazards = set(campaign.unique_hazards["hazard_id"]) if "hazard_id" in campaign.unique_hazards else set()
    units: set[str] = set()
    for part in (campaign.hazards, campaign.unique_hazards, campaign.indicators, campaign.submissions):
        if "unit" in part:
            units.update(part["unit"].dropna())
    marked = frame.copy()
    kinds, ids, unit_names = frame["kind"].tolist(), frame["hazard_id"].tolist(), frame["unit"].tolist()
    marked["orphaned"] = pd.Series(
        [(kind == "hazard" and hazard not in hazards) or (kind in ("unit", "figure") and unit not in units)
         for kind, hazard, unit in zip(kinds, ids, unit_names)],
        index=frame.index, dtype=bool,
    )
    return marked


# --- plain functions for notebooks and the UI ------------------------------------------------

StoreLike = Store | str | os.PathLike


@contextmanager
def _annotations(store: StoreLike, allowed_tags: Sequence[str] | None = DEFAULT_TAGS,
                 actor: Actor | None = None) -> Iterator[Annotations]:
    """Annotations of the given Store, or of a store opened at the given location and closed after."""
    if isinstance(store, Store):
        yield Annotations(store, allowed_tags, actor)
        return
    with Store(store) as opened:
        yield Annotations(opened, allowed_tags, actor)


def add_annotation(store: StoreLike, subject: Subject, text: str, author: str, tag: str | None = None,
                   follow_up: dt.date | None = None, *, allowed_tags: Sequence[str] | None = DEFAULT_TAGS,
                   actor: Actor | None = None) -> dict:
    with _annotations(store, allowed_tags, actor) as notes:
        return notes.add(subject, text, author, tag=tag, follow_up=follow_up)


def get_annotation(store: StoreLike, annotation_id: int) -> dict:
    with _annotations(store) as notes:
        return notes.get(annotation_id)


def edit_annotation(store: StoreLike, annotation_id: int, expected_version: int, author: str, *,
                    allowed_tags: Sequence[str] | None = DEFAULT_TAGS, actor: Actor | None = None, **changes) -> dict:
    with _annotations(store, allowed_tags, actor) as notes:
        return notes.edit(annotation_id, expected_version, author, **changes)


def resolve_annotation(store: StoreLike, annotation_id: int, author: str, expected_version: int | None = None, *,
                       actor: Actor | None = None) -> dict:
    with _annotations(store, actor=actor) as notes:
        return notes.resolve(annotation_id, author, expected_version)


def reopen_annotation(store: StoreLike, annotation_id: int, author: str, expected_version: int | None = None, *,
                      actor: Actor | None = None) -> dict:
    with _annotations(store, actor=actor) as notes:
        return notes.reopen(annotation_id, author, expected_version)


def list_annotations(store: StoreLike, *, kind: str | None = None, unit: str | None = None,
                     hazard_id: str | None = None, author: str | None = None, tag: str | None = None,
                     status: str | None = None, follow_up_due: dt.date | None = None,
                     subject_key: str | None = None) -> pd.DataFrame:
    with _annotations(store) as notes:
        return notes.list(kind=kind, unit=unit, hazard_id=hazard_id, author=author, tag=tag, status=status,
                          follow_up_due=follow_up_due, subject_key=subject_key)


def history(store: StoreLike, annotation_id: int) -> pd.DataFrame:
    with _annotations(store) as notes:
        return notes.history(annotation_id)
