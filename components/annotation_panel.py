"""Officers' annotations (批注) in the dashboard: the process-wide book, the editor, the lists and the panel.

The annotations live in the store (``store/annotations.py``: add, edit with an expected version,
resolve, reopen, history; nothing deleted). Here:

- ``AnnotationBook``: one per ``SharedCampaign`` (process-wide). It reads the annotations once per
  annotation revision and snapshot and derives what the other views mark (hazard counts for the
  table, unit badges for the ranking and the map, figure marks for the indicator heatmap, follow-ups
  due for the weekly dispatch), so a filter change never queries the store. Its ``revision`` moves
  on every write through it and, checked at most once a second, on writes by another process
  (a notebook): the count and latest ``updated_at`` of the table.
- ``NotesFeed``: one per session, a poll (every ``FEED_POLL_MS``, Bokeh's periodic callback, removed
  with the session) that sets ``revision`` from the book: views that show annotations follow it, so
  another session's new annotation appears on the next poll without reloading.
- ``Officer``: who writes, per session; ``AuthorMemory`` keeps the name in the browser's localStorage.
  Until the server has login, the name is what the officer typed once; adding is refused without one.
- ``SubjectNotes``: a subject's annotations (rendered Markdown, through ``html_text.markdown_html``)
  with edit / resolve / reopen / history, and the editor to add one. A conflicting edit (someone else
  saved meanwhile) is refused with who, when and the current text; the officer's text stays.
- ``AnnotationPanel``: the 批注 page: every annotation with filters, links to its subject, orphans
  (subject gone from the data) marked 已失联 and never hidden.

Every watcher on the session goes through the page's or the session's ``Lifecycle`` (``page_view``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, urlencode

import pandas as pd
import panel as pn
import param
import sqlalchemy as sa
from panel.custom import JSComponent

from auth.access import Access, AccessDenied
from components.data import CampaignSnapshot, SessionCampaign, SharedCampaign, denied
from components.html_text import markdown_html, text
from components.i18n import indicator_label, register_labels, tabulator_locale, tr
from components.page_view import Lifecycle, PageView, page_scope, session_hold, session_scope
from components.read_only_table import ReadOnlyTable
from components.state import FILTER_PARAMS, PAGES, DashboardState, drop_unknown_values
from store import annotations as notes_store
from store.annotations import (
    DEFAULT_TAGS,
    AnnotationConflict,
    AnnotationNotFound,
    Subject,
    figure_subject,
    hazard_subject,
    mark_orphans,
    unit_subject,
    view_subject,
)

register_labels({
    "an_heading": ("批注 · 共 {total} 条，未办结 {open} 条，已失联 {orphaned} 条",
                   "Annotations · {total} in all, {open} open, {orphaned} orphaned"),
    "an_author": ("批注人", "Author"),
    "an_author_placeholder": ("您的姓名（本浏览器会记住）", "Your name (this browser remembers it)"),
    "an_author_needed": ("请先在“批注人”处填写您的姓名（只需填写一次，本浏览器会记住），再保存批注。",
                         "Give your name under “Author” first (once: this browser remembers it), then save."),
    "an_text": ("批注内容（支持 Markdown）", "Note (Markdown)"),
    "an_text_placeholder": ("例如：**已电话核实**，企业承诺 9 月底前完成整改。", "e.g. **Checked by phone**: the enterprise will finish by September."),
    "an_tag": ("标签", "Tag"),
    "an_no_tag": ("（无）", "(none)"),
    "an_follow_up": ("跟进日期", "Follow up on"),
    "an_status": ("办理状态", "Status"),
    "an_status_open": ("未办结", "Open"),
    "an_status_resolved": ("已办结", "Resolved"),
    "an_add": ("添加批注", "Add annotation"),
    "an_save": ("保存修改", "Save changes"),
    "an_cancel": ("取消修改", "Cancel"),
    "an_edit": ("编辑", "Edit"),
    "an_resolve": ("办结", "Resolve"),
    "an_reopen": ("重新打开", "Reopen"),
    "an_history": ("修改历史", "History"),
    "an_open_subject": ("打开批注对象", "Open its subject"),
    "an_added": ("批注已保存。", "Annotation saved."),
    "an_saved": ("修改已保存（第 {version} 版）。", "Saved (version {version})."),
    "an_editing": ("正在编辑第 {id} 号批注（基于第 {version} 版）", "Editing annotation {id} (based on version {version})"),
    "an_conflict": ("这条批注已被“{who}”于 {when} 修改为第 {version} 版，您的修改未保存，您的内容仍保留在编辑框中。"
                    "当前内容如下，请对照后再次保存（再次保存将以您的内容为准）：",
                    "“{who}” changed this annotation at {when} (now version {version}): your change was not saved and "
                    "your text is still in the editor. Its current text is below; save again to apply yours over it:"),
    "an_none": ("暂无批注。", "No annotations yet."),
    "an_count_title": ("批注（{count}）", "Annotations ({count})"),
    "an_orphaned": ("已失联", "orphaned"),
    "an_orphaned_hint": ("已失联：批注对象已不在当前数据中（批注仍保留）。", "Orphaned: the subject is no longer in the data (the annotation is kept)."),
    "an_by": ("{author} 于 {when}", "{author}, {when}"),
    "an_edited_by": ("（第 {version} 版，{who} 于 {when} 修改）", " (version {version}, edited by {who} {when})"),
    "an_kind": ("对象类型", "Subject"),
    "an_kind_hazard": ("隐患", "Hazard"),
    "an_kind_unit": ("单位", "Unit"),
    "an_kind_figure": ("指标数值", "Figure"),
    "an_kind_view": ("页面视图", "Page view"),
    "an_subject": ("批注对象", "About"),
    "an_unit": ("单位", "Unit"),
    "an_due_only": ("仅看到期跟进", "Follow-up due only"),
    "an_updated": ("最后修改", "Last changed"),
    "an_excerpt": ("内容", "Text"),
    "an_all": ("全部", "All"),
    "an_click_row": ("点击一行查看、编辑、办结该批注或打开批注对象。", "Click a row to read, edit or resolve it, or open its subject."),
    "an_unit_button": ("✎ 批注：{unit}（{count}）", "✎ Annotate: {unit} ({count})"),
    "an_figure_button": ("✎ 批注该单位本指标 {period} 的数值（{count}）", "✎ Annotate this unit's figure for {period} ({count})"),
    "an_figure_period": ("月份", "Month"),
    "an_unit_hint": ("选择一个单位（点击排名或地图）后，可在此为该单位添加批注。",
                     "Pick one unit (click it in a ranking or on the map) to annotate it here."),
    "an_view_heading": ("为页面视图添加批注", "Annotate a page view"),
    "an_view_page": ("页面", "Page"),
    "an_view_filters": ("筛选条件：{query}", "Filters: {query}"),
    "an_q_period_start": ("首次报送起", "First reported from"),
    "an_q_period_end": ("首次报送止", "First reported to"),
    "an_q_deadline_start": ("整改期限起", "Deadline from"),
    "an_q_deadline_end": ("整改期限止", "Deadline to"),
    "an_q_search": ("搜索", "Search"),
    "an_q_measure": ("地图口径", "Map measure"),
    "an_view_no_filters": ("（无筛选）", "(no filter)"),
    "an_due_heading": ("到期跟进的批注（跟进日期不晚于统计日期 {as_of}，未办结）",
                       "Annotations due for follow-up (follow-up on or before {as_of}, open)"),
    "an_due_none": ("没有到期需跟进的批注。", "No annotation is due for follow-up."),
    "an_history_change_created": ("创建", "created"),
    "an_history_change_edited": ("修改", "edited"),
    "an_history_change_resolved": ("办结", "resolved"),
    "an_history_change_reopened": ("重新打开", "reopened"),
    "an_version": ("版本", "Version"),
    "an_change": ("操作", "Change"),
    "an_editor": ("修改人", "By"),
    "an_when": ("时间", "When"),
    "an_read_only": ("当前数据为只读，不能保存批注。", "This dataset is read-only: annotations cannot be saved."),
})

MARK = "✎"  # DejaVu Sans has it (Debian's chromium has no emoji font: 📝 would be a box)
FEED_POLL_MS = 3000
STAMP_CHECK_S = 1.0
EXCERPT_CHARS = 60
BEIJING = dt.timezone(dt.timedelta(hours=8))
_TAGS: tuple[str, ...] = tuple(DEFAULT_TAGS)
_AUTHOR_KEY = "hazardboard.annotation_author"


def set_annotation_tags(tags: Sequence[str] | None) -> None:
    """The tags officers choose from (the process's list; ``DEFAULT_TAGS`` unless set)."""
    global _TAGS
    _TAGS = tuple(tag.strip() for tag in tags if tag.strip()) if tags else tuple(DEFAULT_TAGS)


def annotation_tags() -> tuple[str, ...]:
    return _TAGS


def when_text(value) -> str:
    """A UTC timestamp as Beijing time, to the minute."""
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).tz_convert(BEIJING).strftime("%Y-%m-%d %H:%M")


# --- the book: one per shared dataset ------------------------------------------------------------

class AnnotationBook:
    """The annotations of one shared dataset's store, read once per revision for every session."""

    def __init__(self, shared: SharedCampaign):
        self._store = shared.store
        self._lock = threading.RLock()
        self._revision = 0
        self._stamp: tuple | None = None
        self._checked_at = 0.0
        self._cache: dict = {}

    @property
    def writable(self) -> bool:
        return self._store is not None

    # revision ------------------------------------------------------------------------------
    def _read_stamp(self) -> tuple:
        table = notes_store.annotations
        query = sa.select(sa.func.count(table.c.id), sa.func.max(table.c.updated_at), sa.func.sum(table.c.version))
        with self._store.engine.connect() as conn:
            return tuple(conn.execute(query).one())

    @property
    def revision(self) -> int:
        """Moves on every write through the book, and (checked at most once a second) on writes elsewhere."""
        if self._store is None:
            return 0
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= STAMP_CHECK_S:
                self._checked_at = now
                stamp = self._read_stamp()
                if stamp != self._stamp:
                    self._stamp = stamp
                    self._revision += 1
            return self._revision

    def _bump(self) -> None:
        with self._lock:
            self._checked_at = 0.0
        _ = self.revision

    # reading -------------------------------------------------------------------------------
    def _cached(self, name: str, snapshot: CampaignSnapshot, build: Callable[[], object], check: bool = True) -> object:
        """``build()`` once per annotation revision and snapshot. ``check=False``: at the revision last seen,
        without asking the store (a filter change must not touch the database; the feeds' polls check)."""
        key = (name, self.revision if check else self._revision, snapshot.revision, id(snapshot))
        with self._lock:
            if key not in self._cache:
                # Only the current revision's values are kept.
                stale = [k for k in self._cache if k[1:] != key[1:]]
                for old in stale:
                    del self._cache[old]
                self._cache[key] = build()
            return self._cache[key]

    def frame(self, snapshot: CampaignSnapshot, check: bool = True) -> pd.DataFrame:
        """Every annotation (``store.annotations.COLUMNS``) plus ``orphaned``; shared, do not modify."""
        def build() -> pd.DataFrame:
            if self._store is None:
                frame = pd.DataFrame(columns=list(notes_store.COLUMNS))
            else:
                frame = notes_store.list_annotations(self._store)
            frame = visible_annotations(frame, snapshot)
            return mark_orphans(frame, snapshot.campaign) if not frame.empty else frame.assign(orphaned=pd.Series(dtype=bool))
        return self._cached("frame", snapshot, build, check)

    def for_subject(self, snapshot: CampaignSnapshot, subject: Subject) -> pd.DataFrame:
        frame = self.frame(snapshot)
        return frame[frame["subject_key"] == subject.key]

    def hazard_counts(self, snapshot: CampaignSnapshot, check: bool = True) -> dict[str, int]:
        def build() -> dict[str, int]:
            frame = self.frame(snapshot, check)
            return frame.loc[frame["kind"] == "hazard", "hazard_id"].value_counts().to_dict()
        return self._cached("hazard_counts", snapshot, build, check)

    def hazard_marks(self, snapshot: CampaignSnapshot, check: bool = True):
        """The number of annotations of every row of ``unique_hazards``, in its order (an int32 numpy array;
        the table draws it as "✎ n", blank for 0)."""
        def build():
            counts = self.hazard_counts(snapshot, check)
            ids = snapshot.campaign.unique_hazards["hazard_id"]
            return ids.map(counts).fillna(0).to_numpy(dtype="int32")
        return self._cached("hazard_marks", snapshot, build, check)

    def unit_counts(self, snapshot: CampaignSnapshot) -> dict[str, int]:
        """Unit and figure annotations per unit: the badge on the unit."""
        def build() -> dict[str, int]:
            frame = self.frame(snapshot)
            return frame.loc[frame["kind"].isin(["unit", "figure"]), "unit"].value_counts().to_dict()
        return self._cached("unit_counts", snapshot, build)

    def figure_marks(self, snapshot: CampaignSnapshot, indicator: str) -> pd.DataFrame:
        """unit, period, count of the figure annotations of one indicator."""
        frame = self.frame(snapshot)
        figures = frame[(frame["kind"] == "figure") & (frame["indicator"] == indicator)]
        return figures.groupby(["unit", "period"], as_index=False).size().rename(columns={"size": "count"})

    def due(self, snapshot: CampaignSnapshot) -> pd.DataFrame:
        """Open annotations whose follow-up date is on or before the as-of date."""
        frame = self.frame(snapshot)
        follow = frame["follow_up"]
        mask = (frame["status"] == "open") & follow.map(lambda d: d is not None and d <= snapshot.as_of).astype(bool)
        return frame[mask].sort_values("follow_up", kind="stable")

    def history(self, annotation_id: int) -> pd.DataFrame:
        return notes_store.history(self._store, annotation_id)

    # writing -------------------------------------------------------------------------------
    def _writing(self) -> None:
        if self._store is None:
            raise ValueError(tr("an_read_only"))

    def add(self, subject: Subject, text_: str, author: str, tag: str | None = None, follow_up: dt.date | None = None,
            actor=None) -> dict:
        self._writing()
        try:
            return notes_store.add_annotation(self._store, subject, text_, author, tag=tag, follow_up=follow_up,
                                              allowed_tags=_TAGS, actor=actor)
        finally:
            self._bump()

    def edit(self, annotation_id: int, expected_version: int, author: str, actor=None, **changes) -> dict:
        self._writing()
        try:
            return notes_store.edit_annotation(self._store, annotation_id, expected_version, author,
                                               allowed_tags=None, actor=actor, **changes)
        finally:
            self._bump()


def visible_annotations(frame: pd.DataFrame, snapshot: CampaignSnapshot) -> pd.DataFrame:
    """The annotations a restricted snapshot's officer may read: those on their unit, its figures
    and its hazards. Page-view annotations (filters over the whole city) and annotations on a
    hazard no longer in the dataset (its unit unknown) are the committee's."""
    unit = snapshot.scope_unit
    if unit is None or frame.empty:
        return frame
    hazard_unit = frame["hazard_id"].map(snapshot.hazard_units) if snapshot.hazard_units is not None else None
    keep = frame["kind"].isin(["unit", "figure"]) & (frame["unit"] == unit)
    if hazard_unit is not None:
        keep |= (frame["kind"] == "hazard") & (hazard_unit == unit)
    return frame[keep.fillna(False).astype(bool)]


class SessionBook:
    """The process's book as one session's officer may use it: reads through the session's
    restricted snapshot (``AnnotationBook.frame``), writes checked against the officer's role and
    unit (refusals recorded in the audit log) and audited in the same transaction."""

    def __init__(self, book: AnnotationBook, session: SessionCampaign):
        self._book = book
        self._session = session

    def __getattr__(self, name: str):
        return getattr(self._book, name)

    @property
    def access(self) -> Access:
        return self._session.access

    def _author(self, typed: str) -> str:
        # Signed in: the account's name, whatever the form says.
        return self.access.name if self.access.signed_in else typed

    def subject_unit(self, kind: str, unit: str | None, hazard_id: str | None) -> str | None:
        """The unit an annotation's subject belongs to (None for a page view or an unknown hazard)."""
        if kind in ("unit", "figure"):
            return unit
        if kind == "hazard" and hazard_id:
            hazards = self._session.base.snapshot.campaign.unique_hazards
            match = hazards.loc[hazards["hazard_id"] == hazard_id, "unit"]
            return str(match.iloc[0]) if len(match) else None
        return None

    def _check(self, kind: str, unit: str | None, hazard_id: str | None, action: str, target: str) -> None:
        access = self.access
        try:
            access.check_write(action, target)
            if access.role == "unit":
                owner = self.subject_unit(kind, unit, hazard_id)
                if owner != access.unit:
                    raise AccessDenied(f"您的账号属于{access.unit}，只能批注本单位的隐患、单位和指标。", action, target)
        except AccessDenied as error:
            denied(self._book._store, access, action, target, error.message)

    def add(self, subject: Subject, text_: str, author: str, tag: str | None = None, follow_up: dt.date | None = None) -> dict:
        self._check(subject.kind, subject.unit, subject.hazard_id, "annotation_add", subject.label)
        return self._book.add(subject, text_, self._author(author), tag=tag, follow_up=follow_up, actor=self.access.actor)

    def edit(self, annotation_id: int, expected_version: int, author: str, **changes) -> dict:
        current = notes_store.get_annotation(self._book._store, annotation_id)
        self._check(current["kind"], current["unit"], current["hazard_id"], "annotation_edit", f"批注#{annotation_id}")
        return self._book.edit(annotation_id, expected_version, self._author(author), actor=self.access.actor, **changes)

    def history(self, annotation_id: int) -> pd.DataFrame:
        current = notes_store.get_annotation(self._book._store, annotation_id)
        if self.access.role == "unit" and self.subject_unit(current["kind"], current["unit"], current["hazard_id"]) != self.access.unit:
            denied(self._book._store, self.access, "annotation_history", f"批注#{annotation_id}", "您的账号无权查看此批注。")
        return self._book.history(annotation_id)


_BOOKS_LOCK = threading.Lock()


def book_for(shared: SharedCampaign) -> AnnotationBook | SessionBook:
    """The shared dataset's one book; for a session's dataset, that book as its officer may use it."""
    base = shared.base if isinstance(shared, SessionCampaign) else shared
    with _BOOKS_LOCK:
        book = base.__dict__.get("_hb_annotation_book")
        if book is None:
            book = base.__dict__["_hb_annotation_book"] = AnnotationBook(base)
    return SessionBook(book, shared) if isinstance(shared, SessionCampaign) else book


# --- per session: the feed and the officer ----------------------------------------------------

class NotesFeed(param.Parameterized):
    """The annotation revision one session shows; polled from the book while the session lives."""

    revision = param.Integer(default=0)

    def __init__(self, book: AnnotationBook, **params):
        super().__init__(revision=book.revision, **params)
        self.book = book
        self.lifecycle = Lifecycle()
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            callback = doc.add_periodic_callback(self.check, FEED_POLL_MS)

            def stop() -> None:
                if doc.session_context is None:  # the document is gone with its callbacks
                    return
                try:
                    doc.remove_periodic_callback(callback)
                except ValueError:
                    pass

            self.lifecycle.on_release(stop)

    def check(self) -> None:
        revision = self.book.revision
        if revision != self.revision:
            self.revision = revision


def feed_for(state: DashboardState, shared: SharedCampaign) -> NotesFeed:
    return session_scope(state).get("annotation_feed", lambda: NotesFeed(book_for(shared)))


class Officer(param.Parameterized):
    """Who writes this session's annotations: the signed-in officer's name, or on an unprotected
    local server the name typed (remembered by the browser)."""

    author = param.String(default="")
    signed_in = param.Boolean(default=False, doc="The author is the account's name and cannot be typed")
    can_write = param.Boolean(default=True, doc="False for a viewer: no editor, no resolve (the book refuses anyway)")
    last_page = param.String(default="overview", doc="The page shown before the annotations page")

    def __init__(self, **params):
        super().__init__(**params)
        self.lifecycle = Lifecycle()


def officer_for(state: DashboardState, access: Access | None = None) -> Officer:
    scope = session_scope(state)

    def build() -> Officer:
        signed_in = access is not None and access.signed_in
        officer = Officer(last_page=state.page if state.page != "annotations" else "overview",
                          author=access.name if signed_in else "", signed_in=signed_in,
                          can_write=access is None or access.can_write)
        officer.lifecycle.watch(state, lambda event: setattr(officer, "last_page", event.old)
                                if event.new == "annotations" and event.old != "annotations" else None, "page")
        return officer

    return scope.get("annotation_officer", build)


class AuthorMemory(JSComponent):
    """The officer's name in the browser's localStorage: read when drawn, written when it changes."""

    author = param.String(default="")

    _esm = f"""
    export function render({{ model }}) {{
      const key = {json.dumps(_AUTHOR_KEY)};
      let stored = "";
      try {{ stored = window.localStorage.getItem(key) || ""; }} catch (e) {{}}
      if (stored && !model.author) {{ model.author = stored; }}
      else if (model.author && model.author !== stored) {{
        try {{ window.localStorage.setItem(key, model.author); }} catch (e) {{}}
      }}
      model.on("author", () => {{
        if (model.author) {{ try {{ window.localStorage.setItem(key, model.author); }} catch (e) {{}} }}
      }});
      const el = document.createElement("span");
      el.className = "hb-author-memory";
      return el;
    }}
    """


def author_field(officer: Officer, lifecycle: Lifecycle, lang: str) -> pn.Row:
    """The name box (shared by every editor of the session) and its browser memory; signed in,
    the account's name, which cannot be changed here."""
    if officer.signed_in:
        return pn.Row(pn.pane.HTML(f'<span class="hb-an-author-fixed">{text(tr("an_author", lang))}：'
                                   f'<b>{text(officer.author)}</b></span>', margin=(8, 10)), margin=0)
    box = pn.widgets.TextInput(label=tr("an_author", lang), value=officer.author, placeholder=tr("an_author_placeholder", lang),
                               width=220, css_classes=["hb-an-author"], max_length=notes_store.MAX_AUTHOR_CHARS)
    memory = AuthorMemory(author=officer.author, width=0, height=0, margin=0)

    def typed(event) -> None:
        officer.author = event.new.strip()

    def remembered(event) -> None:
        if event.new and not officer.author:
            officer.author = event.new

    def changed() -> None:
        box.value = officer.author
        if officer.author:
            memory.author = officer.author

    box.param.watch(typed, "value_input")
    box.param.watch(typed, "value")
    memory.param.watch(remembered, "author")
    lifecycle.follow(officer, ("author",), changed)
    return pn.Row(box, memory, margin=0)


# --- rendering one annotation -----------------------------------------------------------------

def kind_label(kind: str, lang: str) -> str:
    return tr(f"an_kind_{kind}", lang)


def status_text(status: str, lang: str) -> str:
    return tr(f"an_status_{status}", lang)


def subject_label(row, snapshot: CampaignSnapshot | None, lang: str) -> str:
    """What the annotation is about, in words (plain text: escape before HTML)."""
    kind = row["kind"]
    if kind == "hazard":
        unique = snapshot.campaign.unique_hazards if snapshot is not None else None
        if unique is not None:
            match = unique[unique["hazard_id"] == row["hazard_id"]]
            if not match.empty:
                hazard = match.iloc[0]
                return f"{hazard['unit']} · {hazard['enterprise']} · {str(hazard['description'])[:30]}"
        return f"{kind_label(kind, lang)} {row['hazard_id']}"
    if kind == "unit":
        return str(row["unit"])
    if kind == "figure":
        try:
            indicator = indicator_label(row["indicator"], lang)
        except KeyError:
            indicator = str(row["indicator"])
        return f"{row['unit']} · {indicator} · {row['period']}"
    page = tr(row["page"], lang) if row["page"] in PAGES else str(row["page"])
    return f"{page} · {query_text(row['query'] or '', lang)}"


# The filter's words for a view's query (the state's parameter -> its label key).
_QUERY_LABELS = {"units": "units", "unit_type": "unit_type", "sectors": "sectors", "statuses": "statuses",
                 "supervision_levels": "supervision", "overdue_only": "overdue_only", "period_start": "an_q_period_start",
                 "period_end": "an_q_period_end", "deadline_start": "an_q_deadline_start", "deadline_end": "an_q_deadline_end",
                 "search": "an_q_search", "measure": "an_q_measure", "hazard": "an_kind_hazard"}


def query_text(query: str, lang: str) -> str:
    """A view's filters in words: "单位：会昌县；仅看逾期" (plain text: escape before HTML)."""
    parts = []
    for name, raw in parse_qsl(query, keep_blank_values=True):
        label = tr(_QUERY_LABELS[name], lang) if name in _QUERY_LABELS else name
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if value is True:
            parts.append(label)
            continue
        if isinstance(value, list):
            value = ("、" if lang == "zh" else ", ").join(map(str, value))
        parts.append(f"{label}{'：' if lang == 'zh' else ': '}{value}")
    return ("；" if lang == "zh" else "; ").join(parts) or tr("an_view_no_filters", lang)


def card_html(row, lang: str, orphaned: bool = False) -> str:
    """One annotation as a card: who and when, tag, status, follow-up, then its Markdown rendered safely."""
    status = row["status"]
    meta = [f'<b>{text(row["author"])}</b> · {text(when_text(row["created_at"]))}']
    if int(row["version"]) > 1:
        meta.append(text(tr("an_edited_by", lang).format(version=int(row["version"]), who=row["updated_by"],
                                                          when=when_text(row["updated_at"]))))
    chips = [f'<span class="hb-an-chip hb-an-status-{text(status)}">{text(status_text(status, lang))}</span>']
    if row["tag"]:
        chips.append(f'<span class="hb-an-chip hb-an-tag">{text(row["tag"])}</span>')
    if row["follow_up"] is not None and not pd.isna(row["follow_up"]):
        chips.append(f'<span class="hb-an-chip hb-an-follow">{text(tr("an_follow_up", lang))} {text(row["follow_up"])}</span>')
    if orphaned:
        chips.append(f'<span class="hb-an-chip hb-an-orphaned" title="{text(tr("an_orphaned_hint", lang))}">'
                     f'{text(tr("an_orphaned", lang))}</span>')
    return (f'<div class="hb-an-card hb-an-card-{text(status)}" data-annotation="{int(row["id"])}">'
            f'<div class="hb-an-meta">#{int(row["id"])} · {" ".join(meta)} {"".join(chips)}</div>'
            f'<div class="hb-an-body">{markdown_html(row["text"])}</div></div>')


CARD_CSS = """
.hb-an-card {border: 1px solid #e0e0e0; border-left: 4px solid #f9a825; border-radius: 4px; padding: 6px 10px;
  background: #fffdf5; font-size: 13px; overflow-wrap: anywhere;}
.hb-an-card-resolved {border-left-color: #9e9e9e; background: #fafafa; color: #616161;}
.hb-an-meta {color: #616161; font-size: 12px; margin-bottom: 4px;}
.hb-an-body p {margin: 2px 0;}
.hb-an-body table {border-collapse: collapse;} .hb-an-body td, .hb-an-body th {border: 1px solid #ddd; padding: 2px 6px;}
.hb-an-chip {display: inline-block; padding: 0 6px; margin-left: 4px; border-radius: 8px; font-size: 11px; background: #eceff1;}
.hb-an-status-open {background: #fff3e0; color: #e65100;}
.hb-an-status-resolved {background: #e8f5e9; color: #2e7d32;}
.hb-an-orphaned {background: #b71c1c; color: #fff;}
.hb-an-conflict {border: 1px solid #c62828; background: #ffebee; padding: 6px 10px; border-radius: 4px; font-size: 13px;}
"""


def conflict_html(conflict: AnnotationConflict, lang: str) -> str:
    """Someone else saved first: who, when, which version, and the annotation as it now stands."""
    notice = text(tr("an_conflict", lang).format(who=conflict.changed_by, when=when_text(pd.Timestamp(conflict.changed_at)),
                                                 version=conflict.current["version"]))
    return f'<div class="hb-an-conflict">{notice}{card_html(conflict.current, lang)}</div>'


def excerpt(texts: pd.Series) -> pd.Series:
    """The first ``EXCERPT_CHARS`` characters of each annotation's text, "…" where cut."""
    return texts.map(lambda source: source if len(source) <= EXCERPT_CHARS else source[:EXCERPT_CHARS] + "…")


def history_html(history: pd.DataFrame, lang: str) -> str:
    """Every version, oldest first: who did what when, and the text as it then stood."""
    items = []
    for row in history.itertuples(index=False):  # one annotation's versions: a handful
        key = f"an_history_change_{row.change}"
        change = tr(key, lang) if key in _change_keys() else str(row.change)
        details = [status_text(row.status, lang)]
        if row.tag:
            details.append(str(row.tag))
        if row.follow_up is not None and not pd.isna(row.follow_up):
            details.append(f"{tr('an_follow_up', lang)} {row.follow_up}")
        items.append(
            f'<li><div class="hb-an-meta"><b>{text(tr("an_version", lang))} {int(row.version)}</b> · {text(change)} · '
            f'{text(row.editor)} · {text(when_text(row.edited_at))} · {text(" · ".join(details))}</div>'
            f'<div class="hb-an-body">{markdown_html(row.text)}</div></li>'
        )
    return f'<ol class="hb-an-history-list" style="padding-left:18px;margin:4px 0">{"".join(items)}</ol>'


def _change_keys() -> set[str]:
    from components.i18n import UI
    return {key for key in UI if key.startswith("an_history_change_")}


# --- the editor -------------------------------------------------------------------------------

class AnnotationEditor(pn.viewable.Viewer):
    """Add an annotation to ``subject``, or edit one (``load``); the officer's text is never lost."""

    def __init__(self, book: AnnotationBook, officer: Officer, lifecycle: Lifecycle, lang: str,
                 subject: Subject | None, on_saved: Callable[[], None]):
        super().__init__()
        self.book, self.officer, self.lang, self.subject, self._on_saved = book, officer, lang, subject, on_saved
        self.editing: dict | None = None
        self.author = author_field(officer, lifecycle, lang)
        self.text = pn.widgets.TextAreaInput(label=tr("an_text", lang), placeholder=tr("an_text_placeholder", lang),
                                             height=90, sizing_mode="stretch_width", css_classes=["hb-an-text"],
                                             max_length=notes_store.MAX_TEXT_CHARS)
        tags = {tr("an_no_tag", lang): "", **{tag: tag for tag in annotation_tags()}}
        self.tag = pn.widgets.Select(label=tr("an_tag", lang), options=tags, value="", width=120, css_classes=["hb-an-tag-select"])
        self.follow_up = pn.widgets.DatePicker(label=tr("an_follow_up", lang), value=None, width=150,
                                               css_classes=["hb-an-follow-up"])
        self.save = pn.widgets.Button(label=tr("an_add", lang), color="primary", css_classes=["hb-an-save"], align="end")
        self.cancel = pn.widgets.Button(label=tr("an_cancel", lang), color="light", visible=False, align="end",
                                        css_classes=["hb-an-cancel"])
        self.heading = pn.pane.HTML("", visible=False, css_classes=["hb-an-editing"], margin=(0, 5))
        self.message = pn.pane.HTML("", visible=False, css_classes=["hb-an-message"], sizing_mode="stretch_width",
                                    stylesheets=[CARD_CSS])
        self.save.on_click(lambda _event: self.submit())
        self.cancel.on_click(lambda _event: self.reset())
        self.message_kind = ""
        # Without a subject (the panel) the editor only edits: hidden until an annotation is loaded.
        self.box = pn.Column(
            self.heading, self.author, self.text, pn.Row(self.tag, self.follow_up, self.save, self.cancel, margin=0),
            sizing_mode="stretch_width", visible=subject is not None, margin=0,
        )

    def _say(self, html_: str, kind: str) -> None:
        colours = {"error": "#c62828", "ok": "#2e7d32", "conflict": "#c62828"}
        self.message_kind = kind
        body = html_ if kind == "conflict" else f'<div style="color:{colours[kind]}">{html_}</div>'
        self.message.param.update(object=body, visible=True)

    def load(self, annotation: dict) -> None:
        """Edit ``annotation`` (a row of the book's frame): its text, tag and follow-up into the editor."""
        self.editing = dict(annotation)
        tag = annotation["tag"] or ""
        if tag and tag not in self.tag.options.values():
            self.tag.options = {**self.tag.options, tag: tag}
        follow = annotation["follow_up"]
        self.text.value = annotation["text"]
        self.tag.value = tag
        self.follow_up.value = None if follow is None or pd.isna(follow) else follow
        self.save.label = tr("an_save", self.lang)
        self.cancel.visible = True
        self._show_editing()
        self.message.visible = False
        self.box.visible = True

    def _show_editing(self) -> None:
        self.heading.param.update(object=text(tr("an_editing", self.lang).format(
            id=int(self.editing["id"]), version=int(self.editing["version"]))), visible=True)

    def reset(self) -> None:
        self.editing = None
        self.text.value = ""
        self.tag.value = ""
        self.follow_up.value = None
        self.save.label = tr("an_add", self.lang)
        self.cancel.visible = False
        self.heading.visible = False
        self.box.visible = self.subject is not None

    def submit(self) -> dict | None:
        lang = self.lang
        author = self.officer.author.strip()
        if not author:
            self._say(text(tr("an_author_needed", lang)), "error")
            return None
        source = self.text.value_input if self.text.value_input is not None and self.text.value_input != "" else self.text.value
        fields = {"text": source, "tag": self.tag.value or None, "follow_up": self.follow_up.value}
        try:
            if self.editing is None:
                saved = self.book.add(self.subject, fields["text"], author, tag=fields["tag"], follow_up=fields["follow_up"])
                message = tr("an_added", lang)
                self.reset()
            else:
                saved = self.book.edit(int(self.editing["id"]), int(self.editing["version"]), author, **fields)
                message = tr("an_saved", lang).format(version=saved["version"])
                self.reset()
        except AnnotationConflict as conflict:
            self.conflict(conflict)
            return None
        except (ValueError, AnnotationNotFound, AccessDenied) as error:
            self._say(text(getattr(error, "message", None) or str(error)), "error")
            return None
        self._say(text(message), "ok")
        self._on_saved()
        return saved

    def conflict(self, conflict: AnnotationConflict) -> None:
        """Someone else saved first: say who, when and what it says now; keep the officer's text, based on the new version."""
        current = conflict.current
        self.editing = dict(current)
        self._show_editing()
        attempted = conflict.attempted
        if "text" in attempted and attempted["text"] is not None:
            self.text.value = attempted["text"]
        self._say(conflict_html(conflict, self.lang), "conflict")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.box, self.message, sizing_mode="stretch_width", css_classes=["hb-an-editor"])


# --- a subject's annotations ------------------------------------------------------------------

class AnnotationCards(pn.viewable.Viewer):
    """Annotations as cards, each with edit / resolve or reopen / history; shown again on ``refresh``."""

    def __init__(self, book: AnnotationBook, snapshot: CampaignSnapshot, officer: Officer, lang: str,
                 rows: Callable[[], pd.DataFrame], editor: AnnotationEditor | None, on_change: Callable[[], None]):
        super().__init__()
        self.book, self.snapshot, self.officer, self.lang = book, snapshot, officer, lang
        self._rows, self.editor, self._on_change = rows, editor, on_change
        self.box = pn.Column(sizing_mode="stretch_width", css_classes=["hb-an-cards"])
        self.message = pn.pane.HTML("", visible=False, sizing_mode="stretch_width", stylesheets=[CARD_CSS])
        self.refresh()

    def refresh(self) -> None:
        rows = self._rows()
        lang = self.lang
        if rows.empty:
            self.box.objects = [pn.pane.HTML(f'<div class="hb-an-none" style="color:#757575">{text(tr("an_none", lang))}</div>',
                                             margin=(0, 10))]
            return
        items = []
        for _, row in rows.iterrows():  # a subject's annotations: a handful
            items.append(self._card(row))
        self.box.objects = items

    def _card(self, row: pd.Series) -> pn.viewable.Viewable:
        lang = self.lang
        annotation = row.to_dict()
        card = pn.pane.HTML(card_html(row, lang, bool(row.get("orphaned", False))), stylesheets=[CARD_CSS],
                            sizing_mode="stretch_width", margin=(4, 5, 0, 5))
        buttons = []
        if self.editor is not None and self.officer.can_write:
            edit = pn.widgets.Button(label=tr("an_edit", lang), color="light", css_classes=["hb-an-edit"], height=30)
            edit.on_click(lambda _event: self.editor.load(annotation))
            buttons.append(edit)
        if self.officer.can_write:
            toggle = pn.widgets.Button(label=tr("an_resolve" if row["status"] == "open" else "an_reopen", lang), color="light",
                                       css_classes=["hb-an-resolve" if row["status"] == "open" else "hb-an-reopen"], height=30)
            toggle.on_click(lambda _event: self.set_status(annotation, "resolved" if annotation["status"] == "open" else "open"))
            buttons.append(toggle)
        history_box = pn.Column(sizing_mode="stretch_width")
        history = pn.widgets.Button(label=tr("an_history", lang), color="light", css_classes=["hb-an-history"], height=30)
        history.on_click(lambda _event: self._toggle_history(history_box, int(annotation["id"])))
        buttons.append(history)
        return pn.Column(card, pn.Row(*buttons, margin=(0, 5)), history_box, sizing_mode="stretch_width")

    def _toggle_history(self, box: pn.Column, annotation_id: int) -> None:
        if box.objects:
            box.objects = []
            return
        box.objects = [pn.pane.HTML(history_html(self.book.history(annotation_id), self.lang), stylesheets=[CARD_CSS],
                                    sizing_mode="stretch_width", css_classes=["hb-an-history-table"],
                                    styles={"font-size": "12px"}, margin=(0, 5))]

    def set_status(self, annotation: dict, status: str) -> None:
        author = self.officer.author.strip()
        if not author:
            self.message.param.update(object=f'<div style="color:#c62828">{text(tr("an_author_needed", self.lang))}</div>',
                                      visible=True)
            return
        try:
            self.book.edit(int(annotation["id"]), int(annotation["version"]), author, status=status)
        except AnnotationConflict as conflict:
            self.message.param.update(object=conflict_html(conflict, self.lang), visible=True)
            self._on_change()
            return
        except (ValueError, AnnotationNotFound, AccessDenied) as error:
            self.message.param.update(object=f'<div style="color:#c62828">{text(getattr(error, "message", str(error)))}</div>',
                                      visible=True)
            return
        self.message.visible = False
        self._on_change()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.message, self.box, sizing_mode="stretch_width")


class SubjectNotes(PageView):
    """One subject's annotations and the editor to add one (hazard detail, unit, figure, page view)."""

    shared = param.ClassSelector(class_=SharedCampaign)
    subject = param.ClassSelector(class_=Subject)
    title = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        # Its own owner, released with the page or earlier by ``close`` (a detail showing another hazard).
        self.lifecycle = Lifecycle()
        page_scope(self.state).on_release(self.lifecycle.release)
        self.book = book_for(self.shared)
        self.feed = feed_for(self.state, self.shared)
        officer = officer_for(self.state, self.shared.access)
        lang = self.state.lang
        self._title = pn.pane.HTML(margin=(5, 10, 0, 10), css_classes=["hb-an-title"])
        self.editor = AnnotationEditor(self.book, officer, self.lifecycle, lang, self.subject, self._changed)
        self.cards = AnnotationCards(self.book, self.snapshot, officer, lang, self.rows, self.editor, self._changed)
        self._retitle()
        self.follow(self.feed, ("revision",), self._redraw)

    def rows(self) -> pd.DataFrame:
        return self.book.for_subject(self.snapshot, self.subject)

    def close(self) -> None:
        """Stop following (the view is being replaced)."""
        self.lifecycle.release()

    def _retitle(self) -> None:
        count = len(self.rows())
        heading = self.title or tr("annotations", self.state.lang)
        count_text = f" ({count})" if self.state.lang == "en" else f"（{count}）"
        self._title.object = f'<b>{text(heading)}</b><span class="hb-an-count">{count_text}</span>'

    def _redraw(self) -> None:
        self.cards.refresh()
        self._retitle()

    def _changed(self) -> None:
        # One batch of changes for the browser: cards drawn twice in two messages would let a
        # click land on the first set while the second replaces it (and the click is lost).
        with session_hold():
            seen = self.feed.revision
            self.feed.check()  # moves this session's feed, which redraws every view that follows it
            if self.feed.revision == seen:  # a poll had already moved it: draw this subject's cards anyway
                self._redraw()

    def __panel__(self) -> pn.viewable.Viewable:
        editor = [self.editor] if self.editor.officer.can_write else []
        return pn.Column(self._title, self.cards, *editor, sizing_mode="stretch_width", css_classes=["hb-subject-notes"])


class ToggleNotes(PageView):
    """A button in a unit's (or figure's) context that shows or hides its ``SubjectNotes``.

    ``subject_for()`` gives the subject for the session's state and the button's label for a count
    (None: nothing to annotate, a hint instead)."""

    shared = param.ClassSelector(class_=SharedCampaign)
    css_name = param.String(default="unit")

    def __init__(self, subject_for: Callable[[], tuple[Subject, Callable[[int], str]] | None], follows: tuple = (), **params):
        super().__init__(**params)
        self._subject_for = subject_for
        self.book = book_for(self.shared)
        self.feed = feed_for(self.state, self.shared)
        self.button = pn.widgets.Button(color="light", css_classes=[f"hb-an-{self.css_name}-button"])
        self.button.on_click(lambda _event: self._toggle())
        self.body = pn.Column(sizing_mode="stretch_width")
        self.hint = pn.pane.HTML(margin=(0, 10), styles={"color": "#757575", "font-size": "12px"})
        self._open = False
        self.notes: SubjectNotes | None = None
        self._update()
        for source, names in ((self.feed, ("revision",)), *follows):
            self.follow(source, names, self._update)

    def _toggle(self) -> None:
        self._open = not self._open
        self._update()

    def _update(self) -> None:
        found = self._subject_for()
        if found is None:
            self.button.visible = False
            self.hint.param.update(object=text(tr("an_unit_hint", self.state.lang)), visible=self.css_name == "unit")
            if self.notes is not None:
                self.notes.close()
                self.notes = None
            self.body.objects = []
            return
        subject, label = found
        count = len(self.book.for_subject(self.snapshot, subject))
        self.button.param.update(label=label(count), visible=True)
        self.hint.visible = False
        current = self.notes
        if current is not None and (not self._open or current.subject != subject):
            current.close()
            self.notes = None
        if not self._open:
            self.body.objects = []
        elif self.notes is None:
            self.notes = SubjectNotes(state=self.state, snapshot=self.snapshot, shared=self.shared, subject=subject,
                                      title=subject_label(subject.columns() | {"kind": subject.kind}, self.snapshot,
                                                          self.state.lang))
            self.body.objects = [self.notes]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.hint, self.button, self.body, sizing_mode="stretch_width", css_classes=[f"hb-an-{self.css_name}"])


def unit_notes(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign | None) -> pn.viewable.Viewable:
    """The unit-context button: annotate the one unit the filter selects (a click in a ranking or on the map)."""
    if shared is None:
        return pn.Column()

    def subject_for():
        if len(state.units) != 1:
            return None
        unit = state.units[0]
        # The count first: a unit name is data and may hold braces.
        return unit_subject(unit), lambda count: tr("an_unit_button", state.lang).replace("{count}", str(count)).replace("{unit}", unit)

    return ToggleNotes(subject_for, ((state, ("units",)),), state=state, snapshot=snapshot, shared=shared, css_name="unit")


def unit_badge_text(unit: str, counts: dict[str, int]) -> str:
    """``"✎n"`` for a unit with annotations, else ""."""
    return f"{MARK}{counts[unit]}" if counts.get(unit) else ""


# --- state <-> view query ---------------------------------------------------------------------

VIEW_PARAMS = (*FILTER_PARAMS, "measure")


def view_query(state: DashboardState) -> str:
    """The session's filters as a URL query (the values that differ from the defaults), as the URL holds them."""
    pairs = []
    for name in VIEW_PARAMS:
        value = getattr(state, name)
        if value == state.param[name].default:
            continue
        serialized = state.param[name].serialize(value)
        pairs.append((name, serialized if isinstance(serialized, str) else json.dumps(serialized, ensure_ascii=False)))
    return urlencode(pairs)


def apply_view(state: DashboardState, page: str, query: str, snapshot: CampaignSnapshot) -> None:
    """Open a page view: its page and filters (unknown values dropped, as for a URL)."""
    checked = type(state)()  # the defaults, and then the view's values
    for name, raw in parse_qsl(query, keep_blank_values=True):
        if name not in VIEW_PARAMS:
            continue
        try:
            if isinstance(state.param[name], param.String):
                value = raw
            else:
                try:
                    value = state.param[name].deserialize(json.loads(raw))
                except ValueError:  # a date is written as it is, not as JSON
                    value = state.param[name].deserialize(raw)
            setattr(checked, name, value)
        except Exception:  # noqa: BLE001 - a value the state refuses is left out
            continue
    drop_unknown_values(checked, snapshot.units, snapshot.periods)
    values = {name: getattr(checked, name) for name in VIEW_PARAMS}
    state.param.update({**values, "page": page if page in PAGES else "overview"})


def open_subject(state: DashboardState, row, snapshot: CampaignSnapshot) -> None:
    """Go to an annotation's subject: the hazard's detail, the unit's map, the figure's page, the view."""
    from metrics.indicators import ENFORCEMENT_KEYS

    kind = row["kind"]
    if kind == "hazard":
        state.param.update(page="hazards", hazard=row["hazard_id"])
    elif kind == "unit":
        units = [row["unit"]] if row["unit"] in snapshot.units else []
        state.param.update(page="map", units=units)
    elif kind == "figure":
        units = [row["unit"]] if row["unit"] in snapshot.units else []
        page = "enforcement" if row["indicator"] in ENFORCEMENT_KEYS else "training"
        state.param.update(page=page, units=units)
    else:
        apply_view(state, row["page"], row["query"] or "", snapshot)


# --- the panel: every annotation --------------------------------------------------------------

class AnnotationPanel(PageView):
    """Every annotation, filtered by author, tag, status, unit, kind and follow-up due; a row opens it."""

    shared = param.ClassSelector(class_=SharedCampaign)
    author = param.String(default="")
    tag = param.String(default="")
    status = param.String(default="")
    unit = param.String(default="")
    kind = param.String(default="")
    due_only = param.Boolean(default=False)
    selected = param.Integer(default=0, doc="The annotation id shown below the table (0: none)")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self.book = book_for(self.shared)
        self.feed = feed_for(self.state, self.shared)
        self.officer = officer_for(self.state, self.shared.access)
        all_option = {tr("an_all", lang): ""}
        self._filters = {
            "author": pn.widgets.Select(label=tr("an_author", lang), width=140, css_classes=["hb-an-filter-author"]),
            "tag": pn.widgets.Select(label=tr("an_tag", lang), width=120, css_classes=["hb-an-filter-tag"]),
            "status": pn.widgets.Select(label=tr("an_status", lang), width=110, css_classes=["hb-an-filter-status"],
                                        options={**all_option, tr("an_status_open", lang): "open",
                                                 tr("an_status_resolved", lang): "resolved"}),
            "unit": pn.widgets.Select(label=tr("an_unit", lang), width=150, css_classes=["hb-an-filter-unit"]),
            "kind": pn.widgets.Select(label=tr("an_kind", lang), width=120, css_classes=["hb-an-filter-kind"],
                                      options={**all_option, **{kind_label(k, lang): k for k in notes_store.KINDS}}),
        }
        for name, widget in self._filters.items():
            widget.link(self, value=name)
        self._due = pn.widgets.Checkbox.from_param(self.param.due_only, label=tr("an_due_only", lang),
                                                   css_classes=["hb-an-filter-due"], align="end")
        self._heading = pn.pane.Markdown(margin=(0, 10), css_classes=["hb-an-heading"])
        widths = {"an_kind": "7%", "an_subject": "22%", "an_excerpt": "22%", "an_tag": "7%", "an_status": "7%",
                  "an_follow_up": "9%", "an_author": "7%", "an_updated": "11%", "an_orphaned": "6%"}
        self.table = ReadOnlyTable(
            pagination="remote", page_size=15, show_index=False, layout="fit_columns",
            widths={tr(key, lang): width for key, width in widths.items()},
            sizing_mode="stretch_width", css_classes=["hb-an-table"], hidden_columns=["id"], header_align="center",
            configuration={"columnDefaults": {"headerWordWrap": True}, **tabulator_locale(lang)},
        )
        self.table.on_click(lambda event: setattr(self, "selected", int(self.table.value["id"].iloc[event.row])))
        self.detail = pn.Column(sizing_mode="stretch_width", css_classes=["hb-an-detail"])
        self.editor = AnnotationEditor(self.book, self.officer, self.lifecycle, lang, None, self._changed)
        self._cards: AnnotationCards | None = None
        self.refresh()
        self.follow(self.feed, ("revision",), self.refresh)
        self.param.watch(lambda _e: self._show(), ["author", "tag", "status", "unit", "kind", "due_only"])
        self.param.watch(lambda _e: self._show_detail(), ["selected"])

    def frame(self) -> pd.DataFrame:
        return self.book.frame(self.snapshot)

    def _changed(self) -> None:
        self.feed.check()
        self.refresh()

    def refresh(self) -> None:
        frame, lang = self.frame(), self.state.lang
        all_option = {tr("an_all", lang): ""}
        self._filters["author"].options = {**all_option, **{a: a for a in sorted(set(frame["author"]))}}
        self._filters["tag"].options = {**all_option, **{t: t for t in dict.fromkeys([*annotation_tags(),
                                                                                      *sorted(set(frame["tag"].dropna()))])}}
        self._filters["unit"].options = {**all_option, **{u: u for u in sorted(set(frame["unit"].dropna()))}}
        self._heading.object = "## " + tr("an_heading", lang).format(
            total=len(frame), open=int((frame["status"] == "open").sum()), orphaned=int(frame["orphaned"].sum()))
        self._show()
        self._show_detail()

    def shown(self) -> pd.DataFrame:
        """The annotations the panel's filters leave, newest change first."""
        frame = self.book.due(self.snapshot) if self.due_only else self.frame()
        for name in ("author", "tag", "status", "unit", "kind"):
            value = getattr(self, name)
            if value:
                frame = frame[frame[name] == value]
        return frame.sort_values("updated_at", ascending=False, kind="stable")

    def rows(self) -> pd.DataFrame:
        frame, lang, snapshot = self.shown(), self.state.lang, self.snapshot
        return pd.DataFrame({
            "id": frame["id"].astype(int),
            tr("an_kind", lang): frame["kind"].map(lambda k: kind_label(k, lang)),
            tr("an_subject", lang): [subject_label(row, snapshot, lang) for _, row in frame.iterrows()],
            tr("an_excerpt", lang): excerpt(frame["text"]),
            tr("an_tag", lang): frame["tag"].fillna(""),
            tr("an_status", lang): frame["status"].map(lambda s: status_text(s, lang)),
            tr("an_follow_up", lang): frame["follow_up"].map(lambda d: "" if d is None else str(d)),
            tr("an_author", lang): frame["author"],
            tr("an_updated", lang): frame["updated_at"].map(when_text),
            tr("an_orphaned", lang): frame["orphaned"].map(lambda o: tr("an_orphaned", lang) if o else ""),
        })

    def _show(self) -> None:
        self.table.param.update(value=self.rows(), page=1)

    def _show_detail(self) -> None:
        frame = self.frame()
        row = frame[frame["id"] == self.selected]
        if row.empty:
            self.detail.objects = []
            return
        record = row.iloc[0]
        lang = self.state.lang
        self._cards = AnnotationCards(self.book, self.snapshot, self.officer, lang, lambda: self._selected_rows(),
                                      self.editor, self._changed)
        go = pn.widgets.Button(label=tr("an_open_subject", lang) + " →", color="primary", css_classes=["hb-an-open-subject"])
        go.on_click(lambda _event: open_subject(self.state, record, self.snapshot))
        title = pn.pane.HTML(f'<b>{text(kind_label(record["kind"], lang))}</b> · {text(subject_label(record, self.snapshot, lang))}',
                             margin=(5, 10))
        self.detail.objects = [pn.Row(title, go), self._cards]

    def _selected_rows(self) -> pd.DataFrame:
        frame = self.frame()
        return frame[frame["id"] == self.selected]

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        return pn.Column(
            self._heading,
            pn.Row(*self._filters.values(), self._due),
            pn.pane.Markdown(tr("an_click_row", lang), styles={"color": "#666"}, margin=(0, 10)),
            self.table, self.detail, self.editor,
            sizing_mode="stretch_width", css_classes=["hb-annotation-panel"],
        )


class ViewNotes(PageView):
    """Annotate a page view as a whole: the page the officer came from and the session's filters (its URL query)."""

    shared = param.ClassSelector(class_=SharedCampaign)
    page = param.Selector(objects=[p for p in PAGES if p != "annotations"])

    def __init__(self, **params):
        state = params["state"]
        officer = officer_for(state, params["shared"].access if params.get("shared") is not None else None)
        objects = [p for p in PAGES if p != "annotations"]
        params.setdefault("page", officer.last_page if officer.last_page in objects else "overview")
        super().__init__(**params)
        lang = self.state.lang
        self.param.page.objects = objects
        self.picker = pn.widgets.Select(label=tr("an_view_page", lang), options={tr(p, lang): p for p in objects},
                                        value=self.page, width=160, css_classes=["hb-an-view-page"])
        self.picker.link(self, value="page")
        self._filters = pn.pane.HTML(margin=(0, 10), styles={"color": "#616161", "font-size": "12px"})
        self.body = pn.Column(sizing_mode="stretch_width")
        self.notes: SubjectNotes | None = None
        self._update()
        self.param.watch(lambda _event: self._update(), ["page"])
        self.follow(self.state, VIEW_PARAMS, self._update)

    def subject(self) -> Subject:
        return view_subject(self.page, view_query(self.state))

    def _update(self) -> None:
        lang = self.state.lang
        subject = self.subject()
        self._filters.object = text(tr("an_view_filters", lang).format(query=subject.query or tr("an_view_no_filters", lang)))
        current = self.notes
        if current is not None:
            if current.subject == subject:
                return
            current.close()
        self.notes = SubjectNotes(state=self.state, snapshot=self.snapshot, shared=self.shared, subject=subject,
                                  title=f"{tr(self.page, lang)} · {query_text(subject.query, lang)}")
        self.body.objects = [self.notes]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.Markdown(f"### {tr('an_view_heading', self.state.lang)}", margin=(10, 10, 0, 10)),
                         self.picker, self.body, sizing_mode="stretch_width", css_classes=["hb-an-view"])


class DueFollowUps(PageView):
    """The weekly dispatch's list of annotations whose follow-up date has come (open, on or before the as-of date)."""

    shared = param.ClassSelector(class_=SharedCampaign)

    def __init__(self, **params):
        super().__init__(**params)
        self.book = book_for(self.shared)
        self.feed = feed_for(self.state, self.shared)
        lang = self.state.lang
        self._heading = pn.pane.Markdown(margin=(10, 10, 0, 10), css_classes=["hb-an-due-heading"])
        self.table = ReadOnlyTable(
            pagination="remote", page_size=10, show_index=False, layout="fit_data_stretch",
            sizing_mode="stretch_width", css_classes=["hb-an-due"], hidden_columns=["id"],
            configuration=tabulator_locale(lang),
        )
        self.table.on_click(self._open)
        self._empty = pn.pane.Alert(tr("an_due_none", lang), alert_type="light", margin=(0, 10), css_classes=["hb-an-due-empty"])
        self.refresh()
        self.follow(self.feed, ("revision",), self.refresh)

    def due(self) -> pd.DataFrame:
        return self.book.due(self.snapshot)

    def refresh(self) -> None:
        lang, snapshot = self.state.lang, self.snapshot
        due = self.due()
        self._heading.object = f"#### {tr('an_due_heading', lang).format(as_of=snapshot.as_of.isoformat())}（{len(due)}）"
        self.table.value = pd.DataFrame({
            "id": due["id"].astype(int),
            tr("an_follow_up", lang): due["follow_up"].map(str),
            tr("an_kind", lang): due["kind"].map(lambda k: kind_label(k, lang)),
            tr("an_subject", lang): [subject_label(row, snapshot, lang) for _, row in due.iterrows()],
            tr("an_excerpt", lang): excerpt(due["text"]),
            tr("an_tag", lang): due["tag"].fillna(""),
            tr("an_author", lang): due["author"],
        })
        self.table.visible = not due.empty
        self._empty.visible = due.empty

    def _open(self, event) -> None:
        annotation_id = int(self.table.value["id"].iloc[event.row])
        frame = self.book.frame(self.snapshot)
        row = frame[frame["id"] == annotation_id]
        if not row.empty:
            open_subject(self.state, row.iloc[0], self.snapshot)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._heading, self._empty, self.table, sizing_mode="stretch_width")


__all__ = [
    "AnnotationBook", "AnnotationPanel", "AnnotationEditor", "SubjectNotes", "ToggleNotes", "DueFollowUps", "ViewNotes",
    "book_for", "feed_for", "officer_for", "markdown_html", "hazard_subject", "unit_subject", "figure_subject",
    "view_subject", "set_annotation_tags", "annotation_tags", "unit_notes", "unit_badge_text", "MARK",
]
