"""Annotations in the dashboard (issue 9): the views over a SharedCampaign on a real store holding the sample.

Adding through the editor (refused without a name), the marks the other views draw from the book
(hazard table column, ranking badge, map badge, indicator heatmap), follow-ups due on the weekly
dispatch, two sessions editing one annotation, orphans, the panel's filters and links, and the
Markdown renderer's safety.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import store.annotations as notes_store
from components import annotation_panel as ap
from components.annotation_panel import (
    MARK,
    AnnotationPanel,
    DueFollowUps,
    SubjectNotes,
    apply_view,
    book_for,
    officer_for,
    view_query,
)
from components.county_map import CountyMap, county_choropleth
from components.data import SharedCampaign
from components.filters import HazardSelection
from components.hazard_detail import HazardDetail
from components.hazard_table import HazardTable
from components.html_text import markdown_html
from components.indicator_views import IndicatorExplorer
from components.ranking import RankingTables
from components.state import DashboardState
from store import Store
from store.annotations import figure_subject, hazard_subject, unit_subject
from tests.conftest import SAMPLE_AS_OF, SAMPLE_CAMPAIGN


@pytest.fixture(scope="module")
def store_shared(tmp_path_factory) -> SharedCampaign:
    """The whole sample in a fresh store, shown at its statistics date."""
    location = tmp_path_factory.mktemp("annotations-store")
    with Store(location) as store:
        store.ingest_paths([SAMPLE_CAMPAIGN])
    return SharedCampaign(location, SAMPLE_AS_OF)


@pytest.fixture
def hazard_id(store_shared) -> str:
    unique = store_shared.snapshot.campaign.unique_hazards
    return unique.loc[unique["unit"] == "会昌县", "hazard_id"].iloc[0]


def _state(**values) -> DashboardState:
    return DashboardState(**values)


def _named(state: DashboardState, name: str = "张三") -> DashboardState:
    officer_for(state).author = name
    return state


# --- Markdown, safely ------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://example.cn" onclick="alert(1)">x</a>',
    "<iframe src='https://example.cn'></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
])
def test_raw_html_in_a_note_is_text(source):
    rendered = markdown_html(source)
    assert "<script" not in rendered and "<img" not in rendered and "<iframe" not in rendered and "<div" not in rendered
    assert "<a " not in rendered
    assert "&lt;" in rendered  # shown as typed


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>",
                                  "vbscript:msgbox(1)", " javascript:alert(1)"])
def test_only_web_links_become_links(link):
    rendered = markdown_html(f"[点此]({link}) <{link}>")
    assert "href" not in rendered and "<a" not in rendered


def test_markdown_renders_formatting_and_web_links():
    rendered = markdown_html("**已核实**\n\n- 一\n- 二\n\n[通报](https://example.cn/a?b=1&c=2) ![图](https://example.cn/x.png)")
    assert "<strong>已核实</strong>" in rendered and "<li>一</li>" in rendered
    assert '<a href="https://example.cn/a?b=1&amp;c=2"' in rendered and 'rel="noopener noreferrer"' in rendered
    assert "<img" not in rendered  # images would load from anywhere: dropped
    assert markdown_html(None) == "" and markdown_html(float("nan")) == ""


# --- adding from a hazard's detail, and the marks -------------------------------------------

def test_adding_needs_a_name_then_saves_and_marks_the_table_row(store_shared, hazard_id):
    state = _state(hazard=hazard_id)
    detail = HazardDetail(state=state, snapshot=store_shared.snapshot, shared=store_shared)
    notes = detail._notes
    assert isinstance(notes, SubjectNotes) and notes.subject == hazard_subject(hazard_id)
    before = len(notes.rows())
    notes.editor.text.value = "**已电话核实**，企业承诺月底前完成。"
    notes.editor.tag.value = "需关注"
    assert notes.editor.submit() is None  # no name yet: refused, nothing stored
    assert "填写您的姓名" in notes.editor.message.object
    assert len(book_for(store_shared).for_subject(store_shared.snapshot, hazard_subject(hazard_id))) == before
    assert notes.editor.text.value.startswith("**已电话核实**")  # the text stays

    officer_for(state).author = "张三"
    saved = notes.editor.submit()
    assert saved["author"] == "张三" and saved["tag"] == "需关注" and saved["kind"] == "hazard"
    assert notes.editor.text.value == ""
    assert len(notes.rows()) == before + 1
    cards = notes.cards.box.objects
    assert any("<strong>已电话核实</strong>" in card[0].object for card in cards)

    selection = HazardSelection(state, store_shared)
    table = HazardTable(state=state, selection=selection, shared=store_shared)
    rows = table._table.value
    assert rows.set_index("hazard_id").loc[hazard_id, "notes"] == before + 1  # drawn "✎ n" by the browser
    assert (rows["notes"] == 0).sum() >= len(rows) - len(book_for(store_shared).hazard_counts(store_shared.snapshot))
    assert "✎" in table._table.formatters["notes"].template
    assert table._table.titles["notes"] == "批注"


def test_a_filter_change_reads_no_annotations(store_shared, hazard_id, monkeypatch):
    state = _state()
    selection = HazardSelection(state, store_shared)
    table = HazardTable(state=state, selection=selection, shared=store_shared)
    calls = []
    monkeypatch.setattr(notes_store, "list_annotations", lambda *a, **k: calls.append(1) or pd.DataFrame())
    monkeypatch.setattr(book_for(store_shared), "_read_stamp", lambda: calls.append(2) or ())
    shown = []
    for search in ("消防", "燃气", ""):
        state.search = search
        shown.append(len(table._table.value))
    state.units = ["会昌县"]
    assert calls == []  # no query at all: the marks are the book's array for this snapshot and annotation revision
    assert len(set(shown)) > 1 and (table._table.value["unit"] == "会昌县").all()
    assert "notes" in table._table.value.columns


def test_unit_badges_on_the_ranking_and_the_map(store_shared):
    book = book_for(store_shared)
    book.add(unit_subject("会昌县"), "乡镇排查力度不足，约谈。", "李四", tag="已约谈")
    count = book.unit_counts(store_shared.snapshot)["会昌县"]
    state = _state()
    tables = RankingTables(state=state, snapshot=store_shared.snapshot, shared=store_shared)
    local = tables.tables["local"].value
    assert local.set_index("单位").loc["会昌县", "批注"] == f"{MARK}{count}"
    assert local.set_index("单位").loc["章贡区", "批注"] in ("", f"{MARK}{book.unit_counts(store_shared.snapshot).get('章贡区', 0)}")

    view = CountyMap(state=state, shared=store_shared)
    assert view.badges["会昌县"] == f"{MARK}{count}"
    overlay = county_choropleth(pd.Series({"会昌县": 3.0}), "隐患数", badges=view.badges)
    texts = [text for element in overlay.traverse(lambda e: e, [lambda e: type(e).__name__ == "Labels"])
             for text in element.dimension_values("text")]
    assert any(text.startswith(f"会昌县{MARK}{count}\n") for text in texts)


def test_unit_button_appears_for_one_selected_unit(store_shared):
    state = _state(units=["会昌县"])
    tables = RankingTables(state=state, snapshot=store_shared.snapshot, shared=store_shared)
    button = tables._unit_notes.button
    assert button.visible and "会昌县" in button.label
    button.clicks += 1
    notes = tables._unit_notes.notes
    assert notes.subject == unit_subject("会昌县")
    state.units = []
    assert not tables._unit_notes.button.visible


def test_figure_annotation_and_its_mark_on_the_heatmap(store_shared):
    state = _named(_state(units=["会昌县"], page="enforcement"))
    explorer = IndicatorExplorer(state=state, snapshot=store_shared.snapshot, keys=["penalties", "fines_wan"], shared=store_shared)
    explorer.note_period = "2023-08"
    toggle = explorer._figure_notes
    assert toggle.button.visible and "2023-08" in toggle.button.label
    toggle._toggle()
    notes = toggle.notes
    assert notes.subject == figure_subject("会昌县", "penalties", "2023-08")
    notes.editor.text.value = "8月处罚次数偏低，已电话核实。"
    assert notes.editor.submit() is not None
    marks = book_for(store_shared).figure_marks(store_shared.snapshot, "penalties")
    assert {"unit": "会昌县", "period": "2023-08"}.items() <= marks.iloc[0].to_dict().items()
    state.units = []
    heatmap = explorer.over_time().objects[3].objects[0].object  # the chart in its scrolling box
    labels = [element for element in heatmap.traverse(lambda e: e, [lambda e: type(e).__name__ == "Labels"])
              if any(MARK in str(t) for t in element.dimension_values("text"))]
    assert labels and ("2023-08", "会昌县") in set(zip(labels[0].dimension_values("period"), labels[0].dimension_values("unit")))


# --- follow-ups due on the weekly dispatch ---------------------------------------------------

def test_dispatch_lists_open_follow_ups_due_by_the_as_of_date(store_shared, hazard_id):
    book = book_for(store_shared)
    due = book.add(hazard_subject(hazard_id), "到期复查", "王五", follow_up=SAMPLE_AS_OF)
    later = book.add(hazard_subject(hazard_id), "以后复查", "王五", follow_up=SAMPLE_AS_OF + dt.timedelta(days=1))
    done = book.add(unit_subject("南康区"), "已复查", "王五", follow_up=dt.date(2023, 10, 1))
    book.edit(done["id"], done["version"], "王五", status="resolved")
    view = DueFollowUps(state=_state(page="dispatch"), snapshot=store_shared.snapshot, shared=store_shared)
    ids = set(view.table.value["id"])
    assert due["id"] in ids and later["id"] not in ids and done["id"] not in ids
    assert view.table.visible and "2024-01-23" in view._heading.object
    state = view.state
    row = view.table.value.reset_index(drop=True)
    view._open(type("Event", (), {"row": int(row.index[row["id"] == due["id"]][0])})())
    assert state.page == "hazards" and state.hazard == hazard_id


# --- two sessions, one annotation ------------------------------------------------------------

def test_second_editor_is_told_who_changed_it_and_keeps_their_text(store_shared, hazard_id):
    book = book_for(store_shared)
    note = book.add(hazard_subject(hazard_id), "原始内容", "张三")
    first = SubjectNotes(state=_named(_state(), "张三"), snapshot=store_shared.snapshot, shared=store_shared,
                         subject=hazard_subject(hazard_id))
    second = SubjectNotes(state=_named(_state(), "李四"), snapshot=store_shared.snapshot, shared=store_shared,
                          subject=hazard_subject(hazard_id))
    row = lambda notes: notes.rows().set_index("id", drop=False).loc[note["id"]].to_dict()  # noqa: E731
    first.editor.load(row(first))
    second.editor.load(row(second))
    first.editor.text.value = "张三改过的内容"
    assert first.editor.submit()["version"] == 2
    second.editor.text.value = "李四想写的内容"
    assert second.editor.submit() is None
    message = second.editor.message.object
    assert "张三" in message and "张三改过的内容" in message and "第 2 版" in message
    assert second.editor.text.value == "李四想写的内容"  # nothing lost
    assert second.editor.editing["version"] == 2
    saved = second.editor.submit()  # after reading it: saved over the current version
    assert saved["version"] == 3 and saved["text"] == "李四想写的内容" and saved["updated_by"] == "李四"
    history = book.history(note["id"])
    assert history["editor"].tolist() == ["张三", "张三", "李四"]


def test_resolve_reopen_and_history_from_the_cards(store_shared, hazard_id):
    state = _named(_state(), "赵六")
    notes = SubjectNotes(state=state, snapshot=store_shared.snapshot, shared=store_shared,
                         subject=hazard_subject(hazard_id))
    notes.editor.text.value = "待办结"
    saved = notes.editor.submit()
    card = next(c for c in notes.cards.box.objects if f'data-annotation="{saved["id"]}"' in c[0].object)
    resolve = next(b for b in card[1].objects if "hb-an-resolve" in b.css_classes)
    resolve.clicks += 1
    current = book_for(store_shared).frame(store_shared.snapshot).set_index("id").loc[saved["id"]]
    assert current["status"] == "resolved" and current["version"] == 2
    card = next(c for c in notes.cards.box.objects if f'data-annotation="{saved["id"]}"' in c[0].object)
    assert "已办结" in card[0].object
    history_button = next(b for b in card[1].objects if "hb-an-history" in b.css_classes)
    history_button.clicks += 1
    history = card[2].objects[0].object
    assert history.index("创建") < history.index("办结") and history.count("<li>") == 2


# --- the panel -------------------------------------------------------------------------------

def test_panel_filters_links_and_orphans(store_shared, hazard_id):
    book = book_for(store_shared)
    orphan = book.add(hazard_subject("0123456789abcdef"), "这条隐患已不在台账中", "孙七", tag="待核实")
    figure = book.add(figure_subject("会昌县", "penalties", "2023-09"), "9月数据待核实", "孙七")
    view_state = _state(units=["会昌县"], overdue_only=True)
    view = book.add(ap.view_subject("hazards", view_query(view_state)), "会昌逾期隐患清单", "孙七")
    state = _named(_state(page="annotations"), "孙七")
    panel = AnnotationPanel(state=state, snapshot=store_shared.snapshot, shared=store_shared)
    rows = panel.table.value
    orphan_row = rows.set_index("id").loc[orphan["id"]]
    assert orphan_row["已失联"] == "已失联"  # listed and marked, never hidden
    assert "已失联" in panel._heading.object

    panel.author = "孙七"
    assert set(panel.table.value["id"]) >= {orphan["id"], figure["id"], view["id"]}
    assert (panel.shown()["author"] == "孙七").all()
    panel.tag = "待核实"
    assert orphan["id"] in set(panel.table.value["id"]) and figure["id"] not in set(panel.table.value["id"])
    panel.tag = ""
    panel.unit = "会昌县"
    assert figure["id"] in set(panel.table.value["id"]) and orphan["id"] not in set(panel.table.value["id"])
    panel.unit, panel.author = "", ""
    panel.status = "resolved"
    assert (panel.shown()["status"] == "resolved").all()
    panel.status = ""

    panel.selected = figure["id"]
    go = panel.detail.objects[0][1]
    go.clicks += 1
    assert state.page == "enforcement" and state.units == ["会昌县"]

    panel.selected = view["id"]
    panel.detail.objects[0][1].clicks += 1
    assert state.page == "hazards" and state.units == ["会昌县"] and state.overdue_only

    panel.selected = orphan["id"]
    card = panel._cards.box.objects[0][0].object
    assert "hb-an-orphaned" in card


def test_panel_edit_of_a_listed_annotation(store_shared):
    book = book_for(store_shared)
    note = book.add(unit_subject("瑞金市"), "初稿", "周八")
    state = _named(_state(page="annotations"), "周八")
    panel = AnnotationPanel(state=state, snapshot=store_shared.snapshot, shared=store_shared)
    assert not panel.editor.box.visible  # the panel's editor only edits
    panel.selected = note["id"]
    edit = panel._cards.box.objects[0][1].objects[0]
    edit.clicks += 1
    assert panel.editor.box.visible and panel.editor.text.value == "初稿"
    panel.editor.text.value = "定稿"
    assert panel.editor.submit()["version"] == 2
    assert panel.table.value.set_index("id").loc[note["id"], "内容"] == "定稿"


def test_view_query_round_trip(store_shared):
    state = _state(units=["会昌县"], statuses=["not_started"], search="燃气", deadline_start=dt.date(2023, 9, 1))
    query = view_query(state)
    target = _state()
    apply_view(target, "hazards", query, store_shared.snapshot)
    assert (target.page, target.units, target.statuses, target.search, target.deadline_start) == (
        "hazards", ["会昌县"], ["not_started"], "燃气", dt.date(2023, 9, 1))
    apply_view(target, "map", "units=%5B%22%E4%B8%8D%E5%AD%98%E5%9C%A8%E5%8E%BF%22%5D", store_shared.snapshot)
    assert target.page == "map" and target.units == []


def test_another_sessions_note_reaches_this_feed(store_shared, hazard_id):
    state = _state()
    feed = ap.feed_for(state, store_shared)
    before = feed.revision
    notes = SubjectNotes(state=state, snapshot=store_shared.snapshot, shared=store_shared, subject=hazard_subject(hazard_id))
    count = len(notes.rows())
    # written by another process (a notebook): the book sees it on its next check
    notes_store.add_annotation(str(store_shared.store.location) if hasattr(store_shared.store, "location")
                               else store_shared.store, hazard_subject(hazard_id), "另一会话的批注", "吴九")
    ap.book_for(store_shared)._checked_at = 0.0
    feed.check()
    assert feed.revision > before
    assert len(notes.rows()) == count + 1
    assert any("另一会话的批注" in card[0].object for card in notes.cards.box.objects)


def test_read_only_dataset_has_no_annotation_views(shared):
    state = _state()
    selection = HazardSelection(state, shared)
    table = HazardTable(state=state, selection=selection)
    assert "notes" not in table._table.value.columns
    assert HazardDetail(state=_state(hazard=shared.snapshot.campaign.unique_hazards["hazard_id"].iloc[0]),
                        snapshot=shared.snapshot, shared=shared)._notes is None


# --- lifecycle -------------------------------------------------------------------------------

def _watchers(obj) -> int:
    return sum(len(watchers) for what in obj.param.watchers.values() for watchers in what.values())


@pytest.mark.parametrize("page", ["annotations", "hazards", "map", "overview", "enforcement", "dispatch"])
def test_rebuilding_a_page_with_annotations_leaves_no_watchers_behind(store_shared, hazard_id, page):
    import importlib

    from components.page_view import release_session

    state = _named(_state(hazard=hazard_id, units=["会昌县"]))
    module = importlib.import_module(f"dashboards.pages.{page}")
    state.page = page
    module.build(state, store_shared.snapshot, store_shared)
    feed, officer = ap.feed_for(state, store_shared), officer_for(state)
    first = (_watchers(state), _watchers(feed), _watchers(officer))
    for revision in range(1, 4):
        state.data_revision = revision
        module.build(state, store_shared.snapshot, store_shared)
    assert (_watchers(state), _watchers(feed), _watchers(officer)) == first
    release_session(state)
    assert _watchers(state) == 0 and _watchers(feed) == 0 and _watchers(officer) == 0


def test_a_unit_name_with_braces_and_markup_is_only_text(store_shared):
    state = _named(_state())
    unit = "某某局{count}<b>x</b>"
    state.units = [unit]
    toggle = ap.unit_notes(state, store_shared.snapshot, store_shared)
    assert toggle.button.label == f"{MARK} 批注：{unit}（0）"  # the name as written, braces and all (Bokeh shows labels as text)
    toggle._toggle()
    assert "某某局{count}&lt;b&gt;x&lt;/b&gt;" in toggle.notes._title.object
    assert ap.query_text('overdue_only=true&units=["会昌县"]', "zh") == "仅看逾期；单位：会昌县"
