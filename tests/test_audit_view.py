"""The audit log on the data page (issue 10, "Audit"): the committee sees it, filterable; nobody else does."""

from __future__ import annotations

import datetime as dt

import panel as pn
import pytest

from auth.access import ROLE_LABELS, Access, AccessDenied
from components import audit_view
from components.audit_view import AUDIT_LIMIT, AuditLog
from components.data import SessionCampaign, SharedCampaign
from components.state import DashboardState
from store.audit import ACTION_LABELS, Actor, entries, record

UTC = dt.timezone.utc
HOSTILE = "会昌县8月台账<script>alert(1)</script>.xlsx"


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def shared(tmp_path) -> SharedCampaign:
    """An empty dataset whose store holds five entries (local time = UTC + 8 h)."""
    shared = SharedCampaign(tmp_path)
    store = shared.store
    zhang, li = Actor("张三", "unit", "10.0.0.7"), Actor("李四", "viewer", "10.0.0.8")
    record(store, zhang, "signin", at=_at(1, 15))  # 03-01 23:00 local
    record(store, zhang, "upload", target=HOSTILE, detail="sha256=ab12 已导入", at=_at(1, 17))  # 03-02 01:00 local
    record(store, li, "upload", target="章贡区8月台账.xlsx", detail="只读账号不能上传文件。", outcome="refused",
           at=_at(2, 2))  # 03-02 10:00 local
    record(store, Actor("命令行", "committee", "localhost"), "user_add", target="王五", at=_at(3, 1))  # 03-03 09:00
    record(store, Actor("王五", "", "10.0.0.9"), "signin_failed", detail="密码错误", outcome="failed",
           at=_at(3, 20))  # 03-04 04:00 local
    return shared


def _targets(view: AuditLog) -> list[str]:
    return view.table.value["target"].tolist()


def test_the_committee_sees_every_entry_newest_first_in_local_time(shared):
    view = AuditLog(state=DashboardState(), shared=shared)
    rows = view.table.value
    assert list(rows.columns) == ["at", "actor", "role", "action", "target", "outcome", "origin", "detail"]
    assert rows.values.tolist() == [
        ["2026-03-04 04:00:00", "王五", "", "登录失败", "", "失败", "10.0.0.9", "密码错误"],
        ["2026-03-03 09:00:00", "命令行", "安委会办公室", "新增用户", "王五", "成功", "localhost", ""],
        ["2026-03-02 10:00:00", "李四", "只读", "上传文件", "章贡区8月台账.xlsx", "被拒绝", "10.0.0.8", "只读账号不能上传文件。"],
        ["2026-03-02 01:00:00", "张三", "单位", "上传文件", HOSTILE, "成功", "10.0.0.7", "sha256=ab12 已导入"],
        ["2026-03-01 23:00:00", "张三", "单位", "登录", "", "成功", "10.0.0.7", ""],
    ]
    assert view.table.titles == {"at": "时间", "actor": "用户", "role": "角色", "action": "操作", "target": "对象",
                                 "outcome": "结果", "origin": "来源", "detail": "说明"}
    assert view._actor.options == {"全部": "", "命令行": "命令行", "张三": "张三", "李四": "李四", "王五": "王五"}
    assert list(view._action.options)[:3] == ["全部", "登录", "登录失败"]
    assert view._outcome.options == {"全部": "", "成功": "ok", "被拒绝": "refused", "失败": "failed"}
    assert view._count.object == "共 5 条" and not view._limit.visible and not view._empty.visible
    assert view._refresh.label == "刷新"
    widgets = (view._actor, view._action, view._outcome, view._since, view._until, view._text, view._refresh)
    assert [w.css_classes for w in widgets] == [[f"hb-audit-{name}"] for name in
                                                ("actor", "action", "outcome", "since", "until", "text", "refresh")]


def test_entries_are_text_never_markup(shared):
    view = AuditLog(state=DashboardState(), shared=shared)
    assert HOSTILE in _targets(view)
    # Cells keep Tabulator's plain-text formatter (it escapes); no HTML formatter on any column.
    assert not view.table.formatters
    # Nothing of an entry is put into an HTML or Markdown pane.
    panes = view.__panel__().select(lambda obj: isinstance(obj, pn.pane.PaneBase))
    assert panes and all("<script>" not in str(pane.object) for pane in panes)
    root = view.__panel__().get_root()  # the whole view renders to Bokeh models
    assert root.select_one({"css_classes": ["hb-audit-table"]}) is not None


@pytest.mark.parametrize(("filters", "expected"), [
    ({"actor": "张三"}, [HOSTILE, ""]),
    ({"action": "upload"}, ["章贡区8月台账.xlsx", HOSTILE]),
    ({"outcome": "refused"}, ["章贡区8月台账.xlsx"]),
    ({"outcome": "failed"}, [""]),
    # Local dates: the upload at 17:00 UTC on 03-01 was made on 03-02 in Ganzhou.
    ({"since": dt.date(2026, 3, 2)}, ["", "王五", "章贡区8月台账.xlsx", HOSTILE]),
    ({"until": dt.date(2026, 3, 1)}, [""]),
    ({"since": dt.date(2026, 3, 2), "until": dt.date(2026, 3, 2)}, ["章贡区8月台账.xlsx", HOSTILE]),
    ({"since": dt.date(2026, 3, 5)}, []),
    ({"text": "script"}, [HOSTILE]),  # in the target
    ({"text": " 只读 "}, ["章贡区8月台账.xlsx"]),  # in the detail; surrounding blanks ignored
    ({"actor": "张三", "action": "signin"}, [""]),
    ({"actor": "李四", "outcome": "ok"}, []),
])
def test_each_filter_narrows_the_rows_in_the_database(shared, filters, expected):
    view = AuditLog(state=DashboardState(), shared=shared)
    view.param.update(**filters)
    assert _targets(view) == expected
    # The view shows what the store returns for the same arguments.
    assert _targets(view) == entries(shared.store, **view.query())["target"].tolist()
    assert view._empty.visible == (not expected) and view.table.visible == bool(expected)
    view.reset_filters()
    assert len(view.table.value) == 5


def test_the_store_is_queried_on_build_filter_and_refresh_only(shared, monkeypatch):
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return entries(*args, **kwargs)

    monkeypatch.setattr(audit_view, "entries", counting)
    state = DashboardState()
    view = AuditLog(state=state, shared=shared)
    assert len(calls) == 1 and calls[0]["limit"] == AUDIT_LIMIT + 1
    state.data_revision += 1  # a session poll seeing a new dataset revision
    state.units = ["会昌县"]
    assert len(calls) == 1
    view.outcome = "refused"
    assert len(calls) == 2 and calls[-1]["outcome"] == "refused"
    view.param.update(actor="张三", action="upload", outcome="ok", since=dt.date(2026, 3, 2))
    assert len(calls) == 3 and _targets(view) == [HOSTILE]
    view.reset_filters()  # every filter at once: one query
    assert len(calls) == 4 and len(view.table.value) == 5


def test_refresh_shows_entries_recorded_since(shared):
    view = AuditLog(state=DashboardState(), shared=shared)
    record(shared.store, Actor("赵六", "committee", "10.0.0.10"), "export", target="2023年8月简报.zip")
    assert len(view.table.value) == 5  # not re-read by itself
    view._refresh.clicks += 1  # 刷新
    assert view.table.value.iloc[0][["actor", "action", "target"]].tolist() == ["赵六", "导出", "2023年8月简报.zip"]
    assert "赵六" in view._actor.options
    view.actor = "赵六"
    assert _targets(view) == ["2023年8月简报.zip"]


def test_english_labels(shared):
    view = AuditLog(state=DashboardState(lang="en"), shared=shared)
    assert view.table.titles == {"at": "Time", "actor": "User", "role": "Role", "action": "Action", "target": "Target",
                                 "outcome": "Outcome", "origin": "From", "detail": "Detail"}
    rows = view.table.value
    assert rows["action"].tolist() == ["Failed sign-in", "User added", "Upload", "Upload", "Sign-in"]
    assert rows["role"].tolist() == ["", "Committee office", "Read-only", "Unit", "Unit"]
    assert rows["outcome"].tolist() == ["Failed", "Succeeded", "Refused", "Succeeded", "Succeeded"]
    assert view._actor.name == "User" and view._refresh.label == "Refresh" and view._text.name == "Search target or detail"
    assert list(view._outcome.options) == ["All", "Succeeded", "Refused", "Failed"]
    # Every action the store knows has an English label (a new one must not show its key).
    english = [label for label in view._action.options if label != "All"]
    assert len(english) == len(ACTION_LABELS) and not set(english) & set(ACTION_LABELS)
    assert view._count.object == "5 entries"


def test_at_most_the_newest_2000_entries_are_read(tmp_path):
    shared = SharedCampaign(tmp_path)
    start = _at(1, 0)
    record(shared.store, Actor("李四", "viewer"), "signout", at=start)
    with shared.store._write() as conn:  # one transaction: 2,001 entries in well under a second
        for index in range(AUDIT_LIMIT + 1):
            record(conn, Actor("张三", "unit"), "signin", target=f"#{index}", at=start + dt.timedelta(minutes=index))
    view = AuditLog(state=DashboardState(), shared=shared)
    assert len(view.table.value) == AUDIT_LIMIT == 2000
    assert view.table.value["target"].iloc[0] == f"#{AUDIT_LIMIT}"  # the newest
    assert view._limit.visible and view._limit.object == "仅显示最近 2000 条，请缩小筛选范围"
    view.actor = "李四"
    assert len(view.table.value) == 1 and not view._limit.visible


@pytest.mark.parametrize("access", [Access(user="x", role="viewer"), Access(user="y", role="unit", unit="会昌县")])
def test_only_the_committee_may_read_the_log(shared, access):
    for_access = getattr(shared, "for_access", None)
    session = for_access(access) if for_access else SessionCampaign(shared, access)
    with pytest.raises(AccessDenied, match="只有安委会办公室账号可以查看操作日志。"):
        AuditLog(state=DashboardState(), shared=session)
    refused = entries(shared.store, action="denied")
    assert refused[["actor", "role", "outcome"]].values.tolist() == [[access.user, access.role, "refused"]]
    # The committee's own session reads it.
    committee = SessionCampaign(shared, Access(user="z", role="committee"))
    assert len(AuditLog(state=DashboardState(), shared=committee).table.value) == 6


def test_a_read_only_dataset_has_no_log(shared):
    read_only = SharedCampaign.from_campaign(shared.snapshot.campaign)
    view = AuditLog(state=DashboardState(), shared=read_only)
    layout = view.__panel__()
    alerts = layout.select(pn.pane.Alert)
    assert [alert.object for alert in alerts] == ["当前数据集为只读（未连接数据库），没有操作日志。"]
    assert alerts[0].alert_type == "info"
    assert not layout.select(pn.widgets.Tabulator)


def test_english_labels_cover_every_action_and_role():
    assert set(audit_view._EN_ACTIONS) == set(ACTION_LABELS)
    assert set(audit_view._EN_ROLES) == set(ROLE_LABELS)
