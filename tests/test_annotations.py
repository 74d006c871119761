"""Officers' annotations, as they rely on them: kept with every version, never lost to a
concurrent edit, still there after re-ingesting and resends, orphans kept and flagged.

Every test runs on a real SQLite store holding the bundled sample campaign (ingested once per
module, copied per test) and, where the database takes part, on a fresh PostgreSQL store too
(annotations name hazards and units by key and never read the stored files, so there it is empty).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from store import SCHEMA_VERSION, Store
from store import db as store_db
from store.codec import CODEC_FORMAT
from store.annotations import (
    COLUMNS,
    DEFAULT_TAGS,
    HISTORY_COLUMNS,
    MAX_TEXT_CHARS,
    AnnotationConflict,
    AnnotationNotFound,
    Annotations,
    Subject,
    add_annotation,
    edit_annotation,
    figure_subject,
    hazard_subject,
    history,
    list_annotations,
    mark_orphans,
    reopen_annotation,
    resolve_annotation,
    unit_subject,
    view_subject,
)
from tests.conftest import SAMPLE_AS_OF, SAMPLE_CAMPAIGN
from tests.test_store import AUGUST_FORM, county_form_workbook, ledger_workbook, with_value

STORE_FILE = "hazardboard.sqlite"


@pytest.fixture(scope="module")
def sample_store_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample_store")
    with Store(folder) as opened:
        assert opened.ingest_paths([SAMPLE_CAMPAIGN], workers=1).count("accepted") > 300
    return folder / STORE_FILE


def _sqlite_copy(sample_store_file: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(sample_store_file, folder / STORE_FILE)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def store_dir(request, tmp_path) -> Path | str:
    """A copy of the sample store (a SQLite folder), or an empty PostgreSQL database's URL."""
    if request.param == "sqlite":
        return _sqlite_copy(request.getfixturevalue("sample_store_file"), tmp_path)
    return request.getfixturevalue("postgresql_database")()


@pytest.fixture
def store(store_dir):
    with Store(store_dir) as opened:
        yield opened


@pytest.fixture
def sqlite_store(sample_store_file, tmp_path):
    """For what the database does not take part in (checks made before anything is written)."""
    with Store(_sqlite_copy(sample_store_file, tmp_path)) as opened:
        yield opened


def a_hazard(campaign, unit: str = "会昌县") -> str:
    """A hazard of the sample campaign (conftest's ``campaign``: the store holds the same files)."""
    hazards = campaign.unique_hazards
    return hazards.loc[hazards["unit"] == unit, "hazard_id"].iloc[0]


def test_add_edit_resolve_and_reopen_keep_every_version(store):
    text = "## 处罚偏低\n\n- 8月仅 **4** 次，  \n- 已电话核实  \n"
    note = add_annotation(store, figure_subject("会昌县", "penalties", "2023-08"), text, "张三", tag="待核实",
                          follow_up=dt.date(2023, 9, 30))
    assert (note["text"], note["version"], note["status"], note["author"], note["updated_by"]) == (text, 1, "open", "张三", "张三")
    assert note["subject_key"] == "figure:会昌县|penalties|2023-08" and note["created_at"].tzinfo is not None

    edited = edit_annotation(store, note["id"], 1, "李四", text="已核实：少报 2 次，已要求更正。", tag="已督办")
    resolved = resolve_annotation(store, note["id"], "李四")
    reopened = reopen_annotation(store, note["id"], "王五", expected_version=3)

    assert [edited["version"], resolved["version"], reopened["version"]] == [2, 3, 4]
    assert (reopened["status"], reopened["author"], reopened["updated_by"]) == ("open", "张三", "王五")
    assert reopened["text"] == "已核实：少报 2 次，已要求更正。" and reopened["tag"] == "已督办"
    assert reopened["updated_at"] >= reopened["created_at"]
    versions = history(store, note["id"])
    assert list(versions.columns) == list(HISTORY_COLUMNS)
    assert versions[["version", "change", "status", "editor", "tag"]].values.tolist() == [
        [1, "created", "open", "张三", "待核实"], [2, "edited", "open", "李四", "已督办"],
        [3, "resolved", "resolved", "李四", "已督办"], [4, "reopened", "open", "王五", "已督办"]]
    assert versions["text"].iloc[0] == text  # the first version stays as written
    assert versions["edited_at"].is_monotonic_increasing
    listed = list_annotations(store)
    assert list(listed.columns) == list(COLUMNS) and len(listed) == 1
    assert listed.iloc[0][["version", "status", "follow_up"]].tolist() == [4, "open", dt.date(2023, 9, 30)]
    # Setting what is already there writes nothing.
    assert edit_annotation(store, note["id"], 4, "王五", status="open")["version"] == 4
    assert not any(name.startswith("delete") or name.startswith("remove") for name in dir(Annotations))


def test_the_functions_take_a_store_location_and_the_text_is_kept_verbatim(store_dir):
    text = "  前后有空格\t\n| 表 | 格 |\n|---|---|\n| <b>不渲染</b> | & |\n" + "长" * (MAX_TEXT_CHARS - 60)
    note = add_annotation(str(store_dir), unit_subject("会昌"), text, " 张三 ")
    assert (note["unit"], note["subject_key"], note["author"]) == ("会昌县", "unit:会昌县", "张三")
    with Store(store_dir) as reopened, reopened.engine.connect() as conn:
        assert conn.execute(sa.select(store_db.annotations.c.text)).scalar_one() == text
    assert list_annotations(store_dir)["text"].tolist() == [text]


def test_an_edit_on_an_old_version_is_refused_and_loses_nothing(store_dir, campaign):
    with Store(store_dir) as first_officer, Store(store_dir) as second_officer:
        hazard = a_hazard(campaign)
        note = add_annotation(first_officer, hazard_subject(hazard), "企业已停产整改", "张三")
        # Both opened version 1; the first saves.
        first = edit_annotation(first_officer, note["id"], 1, "张三", text="企业已停产整改，9月底复查", tag="需关注")
        with pytest.raises(AnnotationConflict) as refused:
            edit_annotation(second_officer, note["id"], 1, "李四", text="复查合格，建议销号", tag="已销号", status="resolved")
    conflict = refused.value
    assert conflict.attempted == {"text": "复查合格，建议销号", "tag": "已销号", "status": "resolved"}
    assert (conflict.changed_by, conflict.changed_at, conflict.expected_version) == ("张三", first["updated_at"], 1)
    assert conflict.current == first
    assert "张三" in conflict.message and "未保存" in conflict.message and "第 2 版" in conflict.message
    stored = list_annotations(store_dir).iloc[0]
    assert (stored["text"], stored["tag"], stored["status"], stored["version"]) == ("企业已停产整改，9月底复查", "需关注", "open", 2)
    assert history(store_dir, note["id"])["editor"].tolist() == ["张三", "张三"]
    # The second officer re-applies on the current version: now it is saved.
    again = edit_annotation(store_dir, note["id"], conflict.current["version"], "李四", **conflict.attempted)
    assert (again["version"], again["status"], again["updated_by"]) == (3, "resolved", "李四")


def test_two_threads_racing_the_same_edit_exactly_one_wins(store_dir):
    stores = [Store(store_dir), Store(store_dir)]
    try:
        note = add_annotation(stores[0], unit_subject("章贡区"), "初稿", "张三")
        for round_number in range(1, 11):
            barrier = threading.Barrier(2)
            outcomes: list[object] = [None, None]

            def race(index: int, version: int = round_number) -> None:
                barrier.wait()
                try:
                    outcomes[index] = edit_annotation(stores[index], note["id"], version, f"officer{index}",
                                                      text=f"第{version}轮 officer{index}")
                except AnnotationConflict as error:
                    outcomes[index] = error

            threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            winners = [o for o in outcomes if isinstance(o, dict)]
            losers = [o for o in outcomes if isinstance(o, AnnotationConflict)]
            assert len(winners) == 1 and len(losers) == 1, outcomes
            assert losers[0].current["text"] == winners[0]["text"] and losers[0].attempted["text"] != winners[0]["text"]
        versions = history(stores[0], note["id"])
        assert versions["version"].tolist() == list(range(1, 12))
        assert list_annotations(stores[1]).iloc[0]["version"] == 11
    finally:
        for opened in stores:
            opened.close()


def test_an_update_that_finds_the_row_changed_is_a_conflict(store, monkeypatch):
    """The atomic guard itself: ``UPDATE ... WHERE id = ? AND version = ?``. On SQLite the write
    transaction already excludes the other writer; on PostgreSQL the row can change between the
    read and the update, which is simulated here by a second edit made just before the update."""
    note = add_annotation(store, unit_subject("章贡区"), "初稿", "张三")
    real_execute = sa.engine.Connection.execute
    sneaked = []

    def execute(conn, statement, *args, **kwargs):
        if isinstance(statement, sa.Update) and statement.table is store_db.annotations and not sneaked:
            sneaked.append(True)
            real_execute(conn, store_db.annotations.update().values(version=2, text="别人先改了", updated_by="李四"))
        return real_execute(conn, statement, *args, **kwargs)

    monkeypatch.setattr(sa.engine.Connection, "execute", execute)
    with pytest.raises(AnnotationConflict) as refused:
        edit_annotation(store, note["id"], 1, "王五", text="我的修改")
    monkeypatch.undo()
    assert (refused.value.current["text"], refused.value.changed_by) == ("别人先改了", "李四")
    assert refused.value.attempted == {"text": "我的修改"}
    # The whole transaction was rolled back: the sneaked edit too, and no version was recorded.
    assert list_annotations(store)["text"].tolist() == ["初稿"] and len(history(store, note["id"])) == 1


def test_annotations_survive_reingest_and_a_resend_and_an_orphan_is_kept(sqlite_store):
    # SQLite only: ingesting never touches the annotation tables, and resends on PostgreSQL are
    # test_store.py's; building the sample campaign three times takes ~13 s.
    store = sqlite_store
    campaign = store.campaign(SAMPLE_AS_OF)
    december = campaign.hazards[(campaign.hazards["unit"] == "会昌县") & (campaign.hazards["period"] == "2023-12")]
    kept_id, dropped_id = december["hazard_id"].iloc[0], december["hazard_id"].iloc[-1]
    notes = [
        add_annotation(store, hazard_subject(kept_id), "挂牌督办，月底复查", "张三", tag="已督办"),
        add_annotation(store, hazard_subject(dropped_id), "隐患描述与现场不符", "张三", tag="待核实"),
        add_annotation(store, figure_subject("会昌县", "penalties", "2023-08"), "处罚次数偏低", "李四"),
        add_annotation(store, unit_subject("会昌县"), "整体进度落后", "李四"),
        add_annotation(store, unit_subject("市文广旅局"), "未参加本次专项，待确认", "李四"),
        add_annotation(store, view_subject("hazards", "unit=会昌县&period=2023-12"), "会议材料用此视图", "王五"),
    ]
    before = list_annotations(store)

    # The same files again: all skipped, the annotations as they were.
    assert store.ingest_paths([SAMPLE_CAMPAIGN], workers=1).count("skipped") == len(store.files_frame())
    pd.testing.assert_frame_equal(list_annotations(store), before)

    # 会昌县 resends its December ledger without the last hazard (the first now rectified) and
    # its August form with another penalty count: both supersede the sample's files.
    rows = [[n, "会昌县", r.enterprise, r.sector_raw, r.description, r.measures, r.supervision_doc or "无",
             r.deadline_raw, "已完成整改" if n == 1 else r.progress_raw]
            for n, r in enumerate(december.iloc[:-1].itertuples(), start=1)]
    resend = store.ingest_bytes(ledger_workbook(rows, month=12, unit="会昌县安委会"), "会昌县12月台账（重报）.xlsx")
    form = store.ingest_bytes(county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", 6), unit="会昌县"),
                              "会昌县8月调度表（重报）.xlsx")
    assert [(r.kind, r.period) for r in resend.replaced] == [("ledger", "2023-12")]
    assert [(r.kind, r.period) for r in form.replaced] == [("county_form", "2023-08")]

    after = store.campaign(SAMPLE_AS_OF)
    hazards = after.unique_hazards.set_index("hazard_id")
    assert hazards.loc[kept_id, "status"] == "rectified" and dropped_id not in hazards.index
    assert after.summary()["indicators"]["会昌县"]["2023-08"]["penalties"] == 6
    listed = list_annotations(store)
    pd.testing.assert_frame_equal(listed, before)  # nothing changed, nothing dropped
    marked = mark_orphans(listed, after).set_index("id")["orphaned"]
    assert marked.to_dict() == {notes[0]["id"]: False, notes[1]["id"]: True, notes[2]["id"]: False,
                                notes[3]["id"]: False, notes[4]["id"]: True, notes[5]["id"]: False}
    assert marked.dtype == bool and len(mark_orphans(listed.iloc[:0], after)) == 0
    # Before the resend the dropped hazard's annotation was not an orphan.
    assert not mark_orphans(before, campaign).set_index("id")["orphaned"][notes[1]["id"]]
    # An orphan is still an annotation like any other: edited, resolved, its history kept.
    resolve_annotation(store, notes[1]["id"], "张三")
    assert history(store, notes[1]["id"])["change"].tolist() == ["created", "resolved"]


def test_listing_filters_and_a_stable_order(store, campaign):
    hazard = a_hazard(campaign)
    adds = [
        (hazard_subject(hazard), "a", "张三", "需关注", dt.date(2023, 9, 1)),
        (unit_subject("会昌县"), "b", "李四", "已约谈", dt.date(2023, 9, 15)),
        (figure_subject("会昌县", "fines_wan", "2023-09"), "c", "张三", None, dt.date(2023, 10, 1)),
        (figure_subject("章贡区", "penalties", "2023-09"), "d", "李四", "需关注", None),
        (view_subject("overview", ""), "e", "王五", None, dt.date(2023, 8, 1)),
    ]
    ids = [add_annotation(store, subject, text, author, tag=tag, follow_up=due)["id"]
           for subject, text, author, tag, due in adds]
    resolve_annotation(store, ids[4], "王五")

    def listed(**filters) -> list[str]:
        return list_annotations(store, **filters)["text"].tolist()

    assert listed() == ["a", "b", "c", "d", "e"]
    assert listed(kind="figure") == ["c", "d"] and listed(unit="会昌县") == ["b", "c"] and listed(unit="会昌") == ["b", "c"]
    assert listed(hazard_id=hazard) == ["a"] and listed(author="李四") == ["b", "d"] and listed(tag="需关注") == ["a", "d"]
    assert listed(status="resolved") == ["e"] and listed(status="open") == ["a", "b", "c", "d"]
    # Open ones due on or before the day (the resolved overdue view is not).
    assert listed(follow_up_due=dt.date(2023, 9, 15)) == ["a", "b"]
    assert listed(subject_key="figure:章贡区|penalties|2023-09") == ["d"]
    assert listed(kind="unit", author="张三") == []
    empty = list_annotations(store, kind="view", status="open")
    assert empty.empty and list(empty.columns) == list(COLUMNS)
    frame = list_annotations(store)
    assert frame["id"].tolist() == ids and frame["created_at"].is_monotonic_increasing
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert frame["tag"].tolist() == ["需关注", "已约谈", None, "需关注", None]
    assert frame["follow_up"].tolist()[2:4] == [dt.date(2023, 10, 1), None]


def test_a_tag_is_checked_against_the_list_but_stored_tags_are_always_shown(store):
    with pytest.raises(ValueError, match="标签“重点”不在可选标签中"):
        add_annotation(store, unit_subject("会昌县"), "x", "张三", tag="重点")
    note = add_annotation(store, unit_subject("会昌县"), "x", "张三", tag="重点", allowed_tags=("重点", "一般"))
    # The list changed back to the default: the stored tag is listed and survives other edits ...
    assert list_annotations(store)["tag"].tolist() == ["重点"]
    assert edit_annotation(store, note["id"], 1, "李四", text="y")["tag"] == "重点"
    # ... but choosing it again is checked against the list in force.
    with pytest.raises(ValueError, match="不在可选标签中"):
        edit_annotation(store, note["id"], 2, "李四", tag="重点")
    assert edit_annotation(store, note["id"], 2, "李四", tag=None)["tag"] is None
    assert edit_annotation(store, note["id"], 3, "李四", tag="需关注", allowed_tags=None)["tag"] == "需关注"
    assert DEFAULT_TAGS == ("需关注", "已督办", "待核实", "已约谈", "已销号")


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Subject("enterprise", unit="会昌县"), "未知的批注对象类型“enterprise”"),
    (lambda: Subject("hazard"), "隐患批注缺少隐患编号"),
    (lambda: hazard_subject("  "), "隐患批注缺少隐患编号"),
    (lambda: unit_subject(""), "单位批注缺少单位"),
    (lambda: Subject("figure", unit="会昌县", indicator="penalties"), "指标数值批注缺少月份"),
    (lambda: figure_subject("会昌县", "penalties", "2023-8"), "月份“2023-8”格式不正确，应为“YYYY-MM”"),
    (lambda: figure_subject("会昌县", "penalties", "2023-13"), "格式不正确"),
    (lambda: figure_subject("会昌县", "处罚", "2023-08"), "未知的指标“处罚”"),
    (lambda: view_subject("", "unit=会昌县"), "页面视图批注缺少页面"),
    (lambda: Subject("view", page="overview"), "页面视图批注缺少筛选条件"),
    (lambda: Subject("hazard", hazard_id="abc", unit="会昌县"), "隐患批注不需要单位"),
    (lambda: hazard_subject("a" * 65), "隐患批注的隐患编号超过 64 个字符"),
    (lambda: view_subject("p" * 65, "unit=会昌县"), "页面视图批注的页面超过 64 个字符"),
])
def test_an_invalid_subject_is_refused_with_a_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("text", "  \n\t ", "批注内容不能为空"),
    ("text", "长" * (MAX_TEXT_CHARS + 1), f"共 {MAX_TEXT_CHARS + 1} 字，超过上限 {MAX_TEXT_CHARS} 字，未保存"),
    ("author", "  ", "请填写批注人姓名"),
    ("tag", "", "标签不能为空白"),
    ("tag", "随便", "不在可选标签中"),
    ("follow_up", "2023-09-30", "跟进日期应为日期"),
    ("follow_up", dt.datetime(2023, 9, 30, 8), "跟进日期应为日期"),
])
def test_invalid_fields_are_refused_and_nothing_is_stored(sqlite_store, field, value, message):
    store = sqlite_store
    fields = {"text": "正文", "author": "张三", "tag": None, "follow_up": None} | {field: value}
    with pytest.raises(ValueError, match=message):
        add_annotation(store, unit_subject("会昌县"), fields["text"], fields["author"], tag=fields["tag"],
                       follow_up=fields["follow_up"])
    assert list_annotations(store).empty


def test_invalid_edits_are_refused_and_change_nothing(store):
    note = add_annotation(store, unit_subject("会昌县"), "正文", "张三")
    for changes, message in (({"status": "closed"}, "未知的办理状态“closed”"), ({"version": 5}, "不能修改这些字段：version"),
                             ({"unit": "章贡区"}, "不能修改这些字段：unit"), ({}, "没有要保存的修改"),
                             ({"text": ""}, "不能为空")):
        with pytest.raises(ValueError, match=message):
            edit_annotation(store, note["id"], 1, "李四", **changes)
    with pytest.raises(AnnotationNotFound, match="找不到编号为 999 的批注"):
        edit_annotation(store, 999, 1, "李四", text="x")
    with pytest.raises(AnnotationNotFound):
        history(store, 999)
    assert len(history(store, note["id"])) == 1 and list_annotations(store)["version"].tolist() == [1]


def test_the_same_filters_in_another_order_are_the_same_view():
    encoded = view_subject("hazards", "?unit=%E4%BC%9A%E6%98%8C%E5%8E%BF&period=2023-08&unit=章贡区")
    assert encoded == view_subject("hazards", "period=2023-08&unit=会昌县&unit=章贡区")
    assert encoded.key == "view:hazards|period=2023-08&unit=会昌县&unit=章贡区"
    assert view_subject("hazards", "unit=章贡区&unit=会昌县") != view_subject("hazards", "unit=会昌县&unit=章贡区")
    # A separator inside a part cannot make two subjects share a key.
    assert unit_subject("甲|乙").key != figure_subject("甲", "penalties", "2023-08").key
    assert figure_subject("会昌县", "penalties", "2023-08").label == "会昌县 · 行政处罚（次） · 2023-08"


# Written by commit f51953b's own Store (schema version 4) from the sample campaign:
# 2023年08月/会昌县8月台账.xlsx, 会昌县8月调度表.xlsx, 南康区8月调度表.xlsx and
# 南康区8月调度表（更正）.xlsx, each with its own ingest_bytes call, then VACUUM.
STORE_V4 = Path(__file__).parent / "fixtures" / "store_v4.sqlite"


def test_a_version_4_store_keeps_everything_and_gains_empty_annotation_tables(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copyfile(STORE_V4, tmp_path / "data" / STORE_FILE)
    with sqlite3.connect(tmp_path / "data" / STORE_FILE) as raw:
        assert raw.execute("SELECT name FROM sqlite_master WHERE name LIKE 'annotation%'").fetchall() == []
        files_before = raw.execute("SELECT id, sha256, file_name, batch, accepted FROM files ORDER BY id").fetchall()
        submissions_before = raw.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    with Store(tmp_path / "data") as upgraded:
        with upgraded.engine.connect() as conn:
            info = dict(conn.execute(sa.select(store_db.schema_info.c.key, store_db.schema_info.c.value)).all())
            files_after = conn.execute(sa.text("SELECT id, sha256, file_name, batch, accepted FROM files ORDER BY id")).all()
            submissions_after = conn.execute(sa.text("SELECT * FROM submissions ORDER BY id")).all()
        assert info == {"schema_version": str(SCHEMA_VERSION), "codec_format": str(CODEC_FORMAT), "last_batch": "4", "data_revision": "4"}
        assert [tuple(r) for r in files_after] == files_before and len(files_before) == 4
        assert [tuple(r) for r in submissions_after] == submissions_before
        assert upgraded.submission_history().set_index("file_name")["active"].to_dict() == {
            "会昌县8月台账.xlsx": True, "会昌县8月调度表.xlsx": True, "南康区8月调度表.xlsx": False,
            "南康区8月调度表（更正）.xlsx": True}
        assert list_annotations(upgraded).empty and sa.inspect(upgraded.engine).has_table("annotation_versions")
        campaign = upgraded.campaign(SAMPLE_AS_OF)
        assert len(campaign.unique_hazards) == 3
        note = add_annotation(upgraded, hazard_subject(campaign.unique_hazards["hazard_id"].iloc[0]), "迁移后可批注", "张三")
    with Store(tmp_path / "data") as reopened:  # opening a version-5 store again changes nothing
        assert list_annotations(reopened)["id"].tolist() == [note["id"]]
