"""The audit log on the data page: who did what, when, from where — for the committee only.

``AuditLog`` shows the store's append-only log (``store.audit``) newest first, filtered by user,
action, outcome, local date range and free text. The filters become ``store.audit.entries``
arguments, so the database does the filtering; the store is queried when the view is built, when a
filter changes and when 刷新 is clicked (the log grows while the page is open), never on a session's
poll. At most ``AUDIT_LIMIT`` entries are read.

Only the committee may read it: the page builds the view for the committee only, and the view
itself refuses any other officer (``AccessDenied``, recorded in the log). Entries carry file and
user names: cells use Tabulator's plain-text formatter, and nothing from an entry reaches HTML.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import panel as pn
import param
import sqlalchemy as sa

from auth.access import ROLE_LABELS
from components.data import SharedCampaign, denied
from components.dispatch_views import paged_table
from components.i18n import register_labels, tr
from components.state import DashboardState
from components.submissions_view import LOCAL_TIME_ZONE
from store.audit import ACTION_LABELS, OUTCOME_LABELS, entries
from store.db import audit_log

register_labels({
    "aud_heading": ("操作日志", "Audit log"),
    "aud_hint": ("登录、上传、批注、导出、用户管理和被拒绝的操作都记录在这里，日志只增不改。时间为北京时间。",
                 "Sign-ins, uploads, annotations, exports, user changes and refused attempts are recorded here; "
                 "the log is append-only. Times are China Standard Time."),
    "aud_actor": ("用户", "User"),
    "aud_action": ("操作", "Action"),
    "aud_outcome": ("结果", "Outcome"),
    "aud_since": ("起始日期", "From"),
    "aud_until": ("截止日期", "To"),
    "aud_text": ("搜索对象或说明", "Search target or detail"),
    "aud_refresh": ("刷新", "Refresh"),
    "aud_col_at": ("时间", "Time"),
    "aud_col_role": ("角色", "Role"),
    "aud_col_target": ("对象", "Target"),
    "aud_col_origin": ("来源", "From"),
    "aud_col_detail": ("说明", "Detail"),
    "aud_count": ("共 {count} 条", "{count} entries"),
    "aud_limit": ("仅显示最近 {limit} 条，请缩小筛选范围", "Only the latest {limit} are shown: narrow the filters"),
    "aud_read_only": ("当前数据集为只读（未连接数据库），没有操作日志。", "This dataset is read-only (no database): no audit log."),
})

# The most entries one query reads (newest first); more is for ``hazardboard audit`` or a notebook.
AUDIT_LIMIT = 2000
AUDIT_PAGE_SIZE = 25
DENIED_MESSAGE = "只有安委会办公室账号可以查看操作日志。"
AUDIT_COLUMNS = {
    "at": "aud_col_at", "actor": "aud_actor", "role": "aud_col_role", "action": "aud_action",
    "target": "aud_col_target", "outcome": "aud_outcome", "origin": "aud_col_origin", "detail": "aud_col_detail",
}

_EN_ACTIONS = {
    "signin": "Sign-in", "signin_failed": "Failed sign-in", "signin_locked": "Sign-in locked", "signout": "Sign-out",
    "upload": "Upload", "annotation_add": "Annotation added", "annotation_edit": "Annotation edited",
    "annotation_resolve": "Annotation resolved", "annotation_reopen": "Annotation reopened", "export": "Export",
    "user_add": "User added", "user_remove": "User removed", "user_passwd": "Password changed",
    "user_change": "User changed", "denied": "Refused (no permission)", "backup": "Backup", "restore": "Restore",
}
_EN_OUTCOMES = {"ok": "Succeeded", "refused": "Refused", "failed": "Failed"}
_EN_ROLES = {"committee": "Committee office", "unit": "Unit", "viewer": "Read-only"}


def action_label(key: str, lang: str) -> str:
    return (_EN_ACTIONS if lang == "en" else ACTION_LABELS).get(key, key)


def outcome_label(key: str, lang: str) -> str:
    return (_EN_OUTCOMES if lang == "en" else OUTCOME_LABELS).get(key, key)


def role_label(key: str, lang: str) -> str:
    return (_EN_ROLES if lang == "en" else ROLE_LABELS).get(key, key)


def known_actors(store) -> list[str]:
    """Every user name in the log (sorted), read from the database's index on ``actor``."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(audit_log.c.actor).distinct()).scalars())


def local_day_start(day: dt.date) -> dt.datetime:
    """The start of a local (China Standard Time) date, as a UTC moment."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(LOCAL_TIME_ZONE)).astimezone(dt.timezone.utc)


def entry_rows(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``store.audit.entries()`` as the table shows it: local times and labels in the session's language."""
    def labels(column: str, label) -> pd.Series:
        return frame[column].map({key: label(key, lang) for key in frame[column].unique()})

    return pd.DataFrame({
        "at": frame["at"].dt.tz_convert(LOCAL_TIME_ZONE).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "actor": frame["actor"],
        "role": labels("role", role_label),
        "action": labels("action", action_label),
        "target": frame["target"],
        "outcome": labels("outcome", outcome_label),
        "origin": frame["origin"],
        "detail": frame["detail"],
    }, index=pd.RangeIndex(len(frame)), columns=list(AUDIT_COLUMNS))


class AuditLog(pn.viewable.Viewer):
    """The audit log table with its filters and a refresh button (committee only)."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)
    actor = param.String(default="", doc="Only this user's entries (empty: all)")
    action = param.String(default="", doc="Only this action (a ``store.audit.ACTION_LABELS`` key; empty: all)")
    outcome = param.String(default="", doc="Only this outcome (ok / refused / failed; empty: all)")
    since = param.CalendarDate(default=None, allow_None=True, doc="From this local date (inclusive)")
    until = param.CalendarDate(default=None, allow_None=True, doc="To this local date (inclusive)")
    text = param.String(default="", doc="Text in the target or the detail")

    def __init__(self, **params):
        super().__init__(**params)
        access = self.shared.access
        if access.role != "committee":
            denied(self.shared.store, access, "audit_view", "操作日志", DENIED_MESSAGE)
        self._store = self.shared.store
        lang = self.state.lang
        self._read_only = pn.pane.Alert(tr("aud_read_only", lang), alert_type="info", css_classes=["hb-audit-read-only"])
        if self._store is None:
            return
        everything = {tr("all", lang): ""}
        self._actor = pn.widgets.Select.from_param(
            self.param.actor, name=tr("aud_actor", lang), description=None, options=dict(everything), width=160,
            css_classes=["hb-audit-actor"])
        self._action = pn.widgets.Select.from_param(
            self.param.action, name=tr("aud_action", lang), description=None, width=170, css_classes=["hb-audit-action"],
            options={**everything, **{action_label(key, lang): key for key in ACTION_LABELS}})
        self._outcome = pn.widgets.Select.from_param(
            self.param.outcome, name=tr("aud_outcome", lang), description=None, width=110, css_classes=["hb-audit-outcome"],
            options={**everything, **{outcome_label(key, lang): key for key in OUTCOME_LABELS}})
        self._since = pn.widgets.DatePicker.from_param(self.param.since, name=tr("aud_since", lang), description=None,
                                                       width=140, css_classes=["hb-audit-since"])
        self._until = pn.widgets.DatePicker.from_param(self.param.until, name=tr("aud_until", lang), description=None,
                                                       width=140, css_classes=["hb-audit-until"])
        # ``value`` changes on Enter or when the box loses focus: one query, not one per keystroke.
        self._text = pn.widgets.TextInput.from_param(self.param.text, name=tr("aud_text", lang), description=None,
                                                     width=200, css_classes=["hb-audit-text"])
        self._refresh = pn.widgets.Button(label=tr("aud_refresh", lang), color="primary", align="end",
                                          css_classes=["hb-audit-refresh"])
        self._refresh.on_click(lambda _event: self.refresh())
        self._reset = pn.widgets.Button(label=tr("reset", lang), color="light", align="end", css_classes=["hb-audit-reset"])
        self._reset.on_click(lambda _event: self.reset_filters())
        self.table = paged_table({column: tr(key, lang) for column, key in AUDIT_COLUMNS.items()}, "hb-audit-table", lang,
                                 page_size=AUDIT_PAGE_SIZE)
        self._empty = pn.pane.Alert(tr("no_data", lang), alert_type="light", css_classes=["hb-audit-empty"])
        self._count = pn.pane.Str("", css_classes=["hb-audit-count"], styles={"color": "#666"}, margin=(0, 10))
        self._limit = pn.pane.Alert(tr("aud_limit", lang).format(limit=AUDIT_LIMIT), alert_type="warning",
                                    css_classes=["hb-audit-limit"], visible=False)
        self.limited = False
        self.refresh()
        self.param.watch(lambda *_events: self._show(), ["actor", "action", "outcome", "since", "until", "text"])

    def query(self) -> dict:
        """The filters as ``store.audit.entries`` arguments (local dates → UTC moments, the end exclusive)."""
        return {
            "actor": self.actor or None, "action": self.action or None, "outcome": self.outcome or None,
            "since": local_day_start(self.since) if self.since else None,
            "until": local_day_start(self.until + dt.timedelta(days=1)) if self.until else None,
            "text": self.text.strip() or None,
        }

    def refresh(self) -> None:
        """Re-read the users present and the entries (new entries arrive while the page is open)."""
        options = {tr("all", self.state.lang): ""}
        options.update({name: name for name in known_actors(self._store)})
        if self.actor and self.actor not in options.values():
            options[self.actor] = self.actor
        self._actor.options = options
        self._show()

    def reset_filters(self) -> None:
        self.param.update(actor="", action="", outcome="", since=None, until=None, text="")

    def _show(self) -> None:
        # One more than shown tells whether the limit cut anything off.
        frame = entries(self._store, **self.query(), limit=AUDIT_LIMIT + 1)
        self.limited = len(frame) > AUDIT_LIMIT
        rows = entry_rows(frame.iloc[:AUDIT_LIMIT], self.state.lang)
        self.table.param.update(value=rows, page=1, visible=not rows.empty)
        self._empty.visible = rows.empty
        self._count.object = "" if rows.empty else tr("aud_count", self.state.lang).format(
            count=f"{AUDIT_LIMIT}+" if self.limited else len(rows))
        self._limit.visible = self.limited

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        heading = pn.pane.Markdown(f"### {tr('aud_heading', lang)}", margin=(10, 10, 0, 10))
        if self._store is None:
            return pn.Column(heading, self._read_only, sizing_mode="stretch_width", css_classes=["hb-audit"])
        return pn.Column(
            heading, pn.pane.Markdown(tr("aud_hint", lang), styles={"color": "#666"}, margin=(0, 10)),
            pn.Row(self._actor, self._action, self._outcome, self._since, self._until, self._text, self._refresh,
                   self._reset),
            self._empty, self.table, self._count, self._limit,
            sizing_mode="stretch_width", css_classes=["hb-audit"],
        )
