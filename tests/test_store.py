"""The store keeps every file received and rebuilds the campaign from it, as officers rely on.

The workbooks are built here with openpyxl in the official layouts (附件2 ledger, 附件3 county
form), small enough to read at a glance; test_cli.py reuses the builders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import sqlite3
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import Workbook

import loaders
from store import db as store_db
from store.codec import CODEC_FORMAT, encode_value
from store import Store, StoreError, resolve_store_url, result_from_dict, result_to_dict

LEDGER_HEADER = ["序号", "县市区/部门", "企业（项目）", "所属行业领域", "重大隐患描述", "整改措施",
                 "督办层级，文件名称及文号", "整改期限", "整改进展"]
CHEMICAL_PLANT = [1, "章贡区", "赣州某化工有限公司", "危化", "储罐区未设置紧急切断装置", "加装紧急切断装置",
                  "市级挂牌督办 赣市安办字〔2023〕12号", dt.date(2023, 9, 30), "整改中"]
SHOPPING_MALL = [2, "章贡区", "章贡某商场", "消防", "疏散通道被货物堵塞", "清理疏散通道", "无", "2023.8.30", "已整改"]

# (label as printed on 附件3, value as an officer typed it)
AUGUST_FORM = [
    ("辖区企业/建设项目数量（家）", 320),
    ("企业自查发现的重大事故隐患（个）", 12),
    ("企业自查发现重大事故隐患中已完成整治的（个）", 5),
    ("部门检查发现的重大事故隐患（个）", 8),
    ("部门检查发现重大事故隐患中已完成整治的（个）", 3),
    ("行政处罚（次）", 4),
    ("行政处罚（万元）", 35.6),
    ("是否在县级主流媒体开设安全生产专题栏目", "是"),
]


def ledger_workbook(rows: list[list], month: int = 8, unit: str = "章贡区安委会") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    sheet.append([f"重大事故隐患排查整治台账（2023年{month}月）"])
    sheet.append([f"填报单位（盖章）：{unit}"])
    sheet.append(LEDGER_HEADER)
    for row in rows:
        sheet.append(row)
    return _saved(workbook)


def county_form_workbook(values: list[tuple[str, object]], filed_on: str = "2023 年 9 月 20 日", unit: str = "章贡区") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "调度表"
    sheet.append([f"填报单位：{unit}", None, f"时间：{filed_on}"])
    for label, value in values:
        sheet.append([label, value])
    return _saved(workbook)


def with_value(values: list[tuple[str, object]], label: str, new_value: object) -> list[tuple[str, object]]:
    return [(lab, new_value if lab == label else value) for lab, value in values]


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


NOT_A_WORKBOOK = "这不是表格，是改了扩展名的说明文字".encode()
AS_OF = dt.date(2023, 10, 1)


@pytest.fixture
def store(store_location):
    """An empty store, once on SQLite and once on PostgreSQL (conftest's ``store_location``)."""
    with Store(store_location) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path):
    """For what is about SQLite's file itself (its write lock, its size on disk)."""
    with Store(tmp_path / "data") as opened:
        yield opened


def row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {table: conn.execute(sa.select(sa.func.count()).select_from(store_db.metadata.tables[table])).scalar_one()
                for table in ("files", "submissions")}


def test_loaders_read_the_test_workbooks():
    ledger = loaders.load_workbook(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "台账.xlsx")
    form = loaders.load_workbook(county_form_workbook(AUGUST_FORM), "调度表.xlsx")
    assert [(s.kind, s.unit, s.period, len(s.records)) for s in ledger.submissions] == [("ledger", "章贡区", "2023-08", 2)]
    assert [(s.kind, s.unit, s.period, s.reported_on) for s in form.submissions] == [
        ("county_form", "章贡区", "2023-08", dt.date(2023, 9, 20))]
    assert dict(zip(form.submissions[0].records["key"], form.submissions[0].records["value"]))["fines_wan"] == 35.6


def test_result_round_trips_through_json_with_types_intact():
    for data, name in ((ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL, [3, "章贡区", "某厂", "", "粉尘未清理", "", "", "", "立即整改"]]), "l.xlsx"),
                       (county_form_workbook(AUGUST_FORM), "f.xlsx"), (NOT_A_WORKBOOK, "bad.xlsx")):
        original = loaders.load_workbook(data, name)
        restored = result_from_dict(json.loads(json.dumps(result_to_dict(original), ensure_ascii=False)))
        assert (restored.file, restored.sha256, restored.sheets_read, restored.issues) == (
            original.file, original.sha256, original.sheets_read, original.issues)
        for before, after in zip(original.submissions, restored.submissions, strict=True):
            assert after.reported_on == before.reported_on and type(after.reported_on) is type(before.reported_on)
            pd.testing.assert_frame_equal(after.records, before.records)
            for column in after.records.columns:
                assert [type(v) for v in after.records[column]] == [type(v) for v in before.records[column]], column
    ledger = result_from_dict(result_to_dict(loaders.load_workbook(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "l.xlsx")))
    assert list(ledger.submissions[0].records["deadline"]) == [dt.date(2023, 9, 30), dt.date(2023, 8, 30)]


def test_same_file_twice_is_skipped_and_changes_nothing(store):
    data = ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL])
    assert store.is_empty()
    first = store.ingest_bytes(data, "章贡区8月台账.xlsx")
    assert not store.is_empty()
    counts, summary = row_counts(store), store.campaign(AS_OF).summary()

    again = store.ingest_bytes(data, "章贡区8月台账.xlsx")
    renamed = store.ingest_bytes(data, "副本/章贡区8月台账(1).xlsx")

    assert first.status == "accepted"
    assert (again.status, again.label, again.file_id) == ("skipped", "已导入过，跳过", first.file_id)
    assert (renamed.status, renamed.stored_as) == ("skipped", "章贡区8月台账.xlsx")
    assert row_counts(store) == counts == {"files": 1, "submissions": 1}
    assert store.campaign(AS_OF).summary() == summary


def test_newer_form_for_same_unit_and_period_supersedes_the_older(store):
    older = store.ingest_bytes(county_form_workbook(AUGUST_FORM), "章贡区8月调度表.xlsx")
    corrected = county_form_workbook(with_value(AUGUST_FORM, "企业自查发现的重大事故隐患（个）", 15), filed_on="2023年9月22日")
    newer = store.ingest_bytes(corrected, "章贡区8月调度表（更正）.xlsx")

    assert [(r.unit, r.period, r.older_file, r.newer_file) for r in newer.replaced] == [
        ("章贡区", "2023-08", "章贡区8月调度表.xlsx", "章贡区8月调度表（更正）.xlsx")]
    history = store.submission_history(unit="章贡区", period="2023-08")
    assert list(history["file_name"]) == ["章贡区8月调度表.xlsx", "章贡区8月调度表（更正）.xlsx"]
    assert list(history["active"]) == [False, True]
    assert list(history["superseded_by_file_id"]) == [newer.file_id, pd.NA]
    assert history["file_id"].iloc[0] == older.file_id
    assert store.campaign(AS_OF).summary()["indicators"]["章贡区"]["2023-08"]["self_found"] == 15


def test_a_later_batch_wins_even_with_an_earlier_filing_date(store):
    """Contract: for one unit, kind and period, the file received later replaces the earlier one."""
    store.ingest_bytes(county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", 9), filed_on="2023年9月22日"), "原件.xlsx")
    late = store.ingest_bytes(county_form_workbook(AUGUST_FORM, filed_on="2023年9月20日"), "重报.xlsx")

    assert [(r.older_file, r.newer_file) for r in late.replaced] == [("原件.xlsx", "重报.xlsx")]
    assert store.campaign(AS_OF).summary()["indicators"]["章贡区"]["2023-08"]["penalties"] == 4
    assert store.submission_history().set_index("file_name")["active"].to_dict() == {"原件.xlsx": False, "重报.xlsx": True}


def test_within_one_batch_a_correction_without_a_date_beats_the_dated_original(store, tmp_path):
    folder = tmp_path / "九月报送"
    folder.mkdir()
    (folder / "章贡区8月调度表.xlsx").write_bytes(county_form_workbook(AUGUST_FORM, filed_on="2023年9月20日"))
    (folder / "章贡区8月调度表（更正）.xlsx").write_bytes(
        county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", 6), filed_on=""))
    report = store.ingest_paths([folder], workers=1)

    assert report.count("accepted") == 2
    assert store.campaign(AS_OF).summary()["indicators"]["章贡区"]["2023-08"]["penalties"] == 6
    history = store.submission_history().set_index("file_name")
    assert history["active"].to_dict() == {"章贡区8月调度表.xlsx": False, "章贡区8月调度表（更正）.xlsx": True}
    assert history["batch"].nunique() == 1
    # The same files read directly (one batch) give the same answer: one rule for both.
    direct = loaders.load_paths([folder], as_of=AS_OF)
    assert direct.summary()["indicators"] == store.campaign(AS_OF).summary()["indicators"]


def test_a_supplement_ledger_adds_and_an_out_of_window_form_is_held_aside(store):
    store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL], month=12), "章贡区12月台账.xlsx")
    extra = [1, "章贡区", "章贡某酒店", "消防", "安全出口锁闭", "打开安全出口", "无", "2024年1月15日", "整改中"]
    added = store.ingest_bytes(ledger_workbook([extra], month=12), "章贡区12月台账（补报）.xlsx")
    typo = store.ingest_bytes(county_form_workbook(AUGUST_FORM, filed_on="2032年9月20日"), "章贡区调度表.xlsx")

    assert added.replaced == [] and [p.state for p in added.placed] == ["added"]
    assert [(p.period, p.state) for p in typo.placed] == [("2032-08", "held_aside")]
    campaign = store.campaign(AS_OF)
    assert campaign.summary()["hazards"]["unique"] == 3
    assert "2032-08" not in str(campaign.summary()["indicators"])
    states = store.submission_history().set_index("file_name")["state"].to_dict()
    assert states == {"章贡区12月台账.xlsx": "active", "章贡区12月台账（补报）.xlsx": "added", "章贡区调度表.xlsx": "held_aside"}


def test_newer_ledger_shows_updated_progress(store):
    store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT]), "章贡区8月台账.xlsx")
    store.ingest_bytes(ledger_workbook([[*CHEMICAL_PLANT[:-1], "已完成整改"]]), "章贡区8月台账（更新）.xlsx")

    hazards = store.campaign(AS_OF).summary()["hazards"]
    assert (hazards["unique"], hazards["by_status"]["rectified"]) == (1, 1)
    assert row_counts(store) == {"files": 2, "submissions": 2}


def test_rejected_file_is_stored_with_its_issues_and_others_still_ingest(store, tmp_path):
    folder = tmp_path / "九月报送"
    folder.mkdir()
    (folder / "a_台账.xlsx").write_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]))
    (folder / "b_说明.xlsx").write_bytes(NOT_A_WORKBOOK)
    (folder / "c_调度表.xlsx").write_bytes(county_form_workbook(AUGUST_FORM))
    progress = []

    report = store.ingest_paths([folder, tmp_path / "不存在"], progress=lambda i, n, name: progress.append((i, n, name)))

    assert [(o.file_name, o.status) for o in report.outcomes] == [
        ("a_台账.xlsx", "accepted"), ("b_说明.xlsx", "rejected"), ("c_调度表.xlsx", "accepted")]
    assert [i.code for i in report.missing] == ["missing_path"]
    assert progress[0] == (0, 3, "a_台账.xlsx") and progress[-1] == (3, 3, "")
    assert store.files_frame().set_index("file_name")["accepted"].to_dict() == {
        "a_台账.xlsx": True, "b_说明.xlsx": False, "c_调度表.xlsx": True}
    campaign = store.campaign(AS_OF)
    assert [i.severity for i in campaign.issues if i.file == "b_说明.xlsx"] == ["error"]
    assert campaign.summary()["files"] == {"accepted": 2, "rejected": 1}
    assert store.file_content(report.outcomes[1].file_id) == NOT_A_WORKBOOK


def test_everything_survives_reopening_the_store(store_location):
    with Store(store_location) as first:
        first.ingest_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "台账.xlsx")
        first.ingest_bytes(county_form_workbook(AUGUST_FORM), "调度表.xlsx")
        first.ingest_bytes(NOT_A_WORKBOOK, "坏文件.xlsx")
        summary = first.campaign(AS_OF).summary()
    with Store(store_location) as reopened:
        assert reopened.campaign(AS_OF).summary() == summary
        assert reopened.ingest_bytes(NOT_A_WORKBOOK, "坏文件.xlsx").status == "skipped"
    assert summary["hazards"]["unique"] == 2 and summary["files"] == {"accepted": 2, "rejected": 1}


def test_parser_version_bump_rereads_stored_bytes(store, monkeypatch):
    outcome = store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "台账.xlsx")
    expected = store.campaign(AS_OF).summary()
    # Stand in for an old parser's output: an empty result. Only a re-read from the bytes restores it.
    empty = result_to_dict(loaders.WorkbookResult(file="台账.xlsx", sha256=outcome.sha256))
    with store.engine.begin() as conn:
        conn.execute(store_db.files.update().values(result_json=json.dumps(empty)))
    assert Store(store.url).campaign(AS_OF).summary()["hazards"]["unique"] == 0

    monkeypatch.setattr(loaders, "PARSER_VERSION", loaders.PARSER_VERSION + 1)
    reopened = Store(store.url)

    assert reopened.campaign(AS_OF).summary() == expected
    assert list(reopened.files_frame()["parser_version"]) == [loaders.PARSER_VERSION]
    assert row_counts(reopened) == {"files": 1, "submissions": 1}


def test_a_failure_mid_ingest_leaves_no_half_file(store, monkeypatch):
    def fail(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_db, "_insert_submissions", fail)
    with pytest.raises(RuntimeError):
        store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT]), "台账.xlsx")
    assert row_counts(store) == {"files": 0, "submissions": 0}


def test_store_location_from_option_environment_or_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(store_db.STORE_ENV_VAR, raising=False)
    assert resolve_store_url() == f"sqlite:///{tmp_path / 'data' / 'hazardboard.sqlite'}"
    monkeypatch.setenv(store_db.STORE_ENV_VAR, str(tmp_path / "env"))
    assert resolve_store_url() == f"sqlite:///{tmp_path / 'env' / 'hazardboard.sqlite'}"
    assert resolve_store_url("postgresql://u:p@db/hazards") == "postgresql+psycopg://u:p@db/hazards"
    assert resolve_store_url("postgres://u:p@db:5433/hazards") == "postgresql+psycopg://u:p@db:5433/hazards"
    for explicit in ("postgresql+psycopg://u@db/h", "postgresql+psycopg2://u@db/h", "sqlite:///x.sqlite"):
        assert resolve_store_url(explicit) == explicit
    monkeypatch.setenv(store_db.STORE_ENV_VAR, "postgresql://u:p@db/hazards")
    assert resolve_store_url() == "postgresql+psycopg://u:p@db/hazards"
    assert Store("sqlite:///" + str(tmp_path / "x.sqlite")).campaign(AS_OF).summary()["files"] == {"accepted": 0, "rejected": 0}


def test_an_unreachable_database_server_is_named_without_its_password():
    with pytest.raises(StoreError) as refused:
        Store("postgresql://hb:s3cret-pw@127.0.0.1:1/campaign")  # nothing listens on port 1
    message = refused.value.message
    assert message.startswith("无法连接数据库服务器 127.0.0.1:1（数据库“campaign”，用户“hb”）")
    assert "s3cret-pw" not in message and "Traceback" not in message and "\n" not in message


def test_the_store_url_shown_hides_the_password(postgresql_database):
    url = postgresql_database()  # postgresql://postgres@127.0.0.1:PORT/hb_…: trust, a password is ignored
    with Store(url.replace("postgres@", "postgres:s3cret-pw@")) as opened:
        assert "s3cret-pw" not in opened.display_url
        assert opened.display_url == url.replace("postgresql://postgres@", "postgresql+psycopg://postgres:***@")


def test_store_written_by_a_newer_program_is_refused(tmp_path):
    with Store(tmp_path) as opened, opened.engine.begin() as conn:
        conn.execute(store_db.schema_info.update().values(value="99").where(store_db.schema_info.c.key == "schema_version"))
    with pytest.raises(StoreError, match="较新版本"):
        Store(tmp_path)


def test_a_store_of_schema_version_1_is_migrated_in_place(tmp_path):
    with Store(tmp_path / "data") as opened:
        opened.ingest_bytes(county_form_workbook(AUGUST_FORM), "章贡区8月调度表.xlsx")
        opened.ingest_bytes(county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", 7), filed_on="2023年9月21日"), "重报.xlsx")
        with opened.engine.begin() as conn:  # back to the version-1 tables
            conn.execute(sa.text("ALTER TABLE files DROP COLUMN batch"))
            conn.execute(sa.text("ALTER TABLE files DROP COLUMN content_kept"))
            for column in ("correction", "supplement", "state"):
                conn.execute(sa.text(f"ALTER TABLE submissions DROP COLUMN {column}"))
            conn.execute(sa.text("UPDATE schema_info SET value = '1' WHERE key = 'schema_version'"))
    with Store(tmp_path / "data") as reopened:
        with reopened.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM schema_info WHERE key = 'schema_version'")).scalar_one()
        assert version == str(store_db.SCHEMA_VERSION)
        history = reopened.submission_history().set_index("file_name")
        # Each file stored before was its own batch: the later one counts.
        assert history["batch"].to_dict() == {"章贡区8月调度表.xlsx": 1, "重报.xlsx": 2}
        assert reopened.campaign(AS_OF).summary()["indicators"]["章贡区"]["2023-08"]["penalties"] == 7


# Written by the previous release (commit e3410fc, schema version 1, parser version 1) with
# its own Store: 章贡区8月台账.xlsx (the ledger above), 章贡区8月调度表.xlsx (AUGUST_FORM) and
# 重报.xlsx (AUGUST_FORM with 行政处罚 7, filed 2023-09-21), ingested in that order; see
# tests/fixtures/README.md.
PREVIOUS_RELEASE_STORE = Path(__file__).parent / "fixtures" / "store_v1.sqlite"


def test_a_store_written_by_the_previous_release_is_upgraded(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copyfile(PREVIOUS_RELEASE_STORE, tmp_path / "data" / "hazardboard.sqlite")
    with Store(tmp_path / "data") as upgraded:
        with upgraded.engine.connect() as conn:
            info = dict(conn.execute(sa.select(store_db.schema_info.c.key, store_db.schema_info.c.value)).all())
        assert info == {"schema_version": str(store_db.SCHEMA_VERSION), "codec_format": str(CODEC_FORMAT), "last_batch": "3",
                    "data_revision": "3"}
        summary = upgraded.campaign(AS_OF).summary()
        # Read again by this parser from the stored bytes, in the order received.
        stored = upgraded.files_frame()
        assert list(stored["file_name"]) == ["章贡区8月台账.xlsx", "章贡区8月调度表.xlsx", "重报.xlsx"]
        assert set(stored["parser_version"]) == {loaders.PARSER_VERSION}
        history = upgraded.submission_history().set_index("file_name")
        assert history["batch"].to_dict() == {"章贡区8月台账.xlsx": 1, "章贡区8月调度表.xlsx": 2, "重报.xlsx": 3}
        assert history["active"].to_dict() == {"章贡区8月台账.xlsx": True, "章贡区8月调度表.xlsx": False, "重报.xlsx": True}
        assert summary["files"] == {"accepted": 3, "rejected": 0}
        assert summary["hazards"]["unique"] == 2 and summary["hazards"]["overdue"] == 1
        assert summary["indicators"]["章贡区"]["2023-08"]["penalties"] == 7
        assert summary["indicators"]["章贡区"]["2023-08"]["fines_wan"] == 35.6
        # The bytes the previous release stored are the same content: skipped.
        assert upgraded.ingest_bytes(upgraded.file_content(int(stored["id"][0])), "again.xlsx").status == "skipped"
        later = upgraded.ingest_bytes(county_form_workbook(with_value(AUGUST_FORM, "行政处罚（次）", 9)), "三报.xlsx")
        assert later.status == "accepted"
        assert upgraded.campaign(AS_OF).summary()["indicators"]["章贡区"]["2023-08"]["penalties"] == 9
        assert upgraded.submission_history().set_index("file_name")["batch"]["三报.xlsx"] == 4


def test_results_of_another_codec_format_are_read_again_once(store, monkeypatch):
    outcome = store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "台账.xlsx")
    expected = store.campaign(AS_OF).summary()
    empty = result_to_dict(loaders.WorkbookResult(file="台账.xlsx", sha256=outcome.sha256))
    with store.engine.begin() as conn:  # stands in for a result the other format encoded differently
        conn.execute(store_db.files.update().values(result_json=json.dumps(empty)))
    assert Store(store.url).campaign(AS_OF).summary()["hazards"]["unique"] == 0

    monkeypatch.setattr(store_db, "CODEC_FORMAT", CODEC_FORMAT + 1)
    with Store(store.url) as reopened:
        assert reopened.campaign(AS_OF).summary() == expected
        with reopened.engine.connect() as conn:
            assert conn.execute(sa.select(store_db.schema_info.c.value)
                                .where(store_db.schema_info.c.key == "codec_format")).scalar_one() == str(CODEC_FORMAT + 1)
    assert row_counts(store) == {"files": 1, "submissions": 1}

    def no_parse(*_args):
        raise AssertionError("read again although nothing changed")

    monkeypatch.setattr(loaders, "load_workbook", no_parse)
    with Store(store.url) as again:
        assert again.campaign(AS_OF).summary() == expected


def _row_format(result_json: str) -> str:
    """A stored result as format 1 wrote it: each frame row by row, every value tagged on its own."""
    data = json.loads(result_json)
    data["format"] = 1
    for submission in data["submissions"]:
        frame = result_from_dict({**data, "submissions": [submission]}).submissions[0].records
        submission["records"] = {"columns": [str(c) for c in frame.columns], "dtypes": [str(t) for t in frame.dtypes],
                                 "rows": [[encode_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]}
    return json.dumps(data, ensure_ascii=False)


def test_results_stored_row_by_row_are_read_as_they_are(store, monkeypatch):
    """A store written before results were kept column by column opens without parsing any file again."""
    store.ingest_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]), "台账.xlsx")
    store.ingest_bytes(county_form_workbook(AUGUST_FORM), "调度表.xlsx")
    expected = store.campaign(AS_OF).summary()
    with store.engine.begin() as conn:
        for file_id, result_json in conn.execute(sa.select(store_db.files.c.id, store_db.files.c.result_json)).all():
            assert '"rows"' not in result_json
            conn.execute(store_db.files.update().where(store_db.files.c.id == file_id)
                         .values(result_json=_row_format(result_json)))
        conn.execute(store_db.schema_info.update().where(store_db.schema_info.c.key == "codec_format").values(value="1"))

    def no_parse(*_args):
        raise AssertionError("read again although its format is still readable")

    monkeypatch.setattr(loaders, "load_workbook", no_parse)
    with Store(store.url) as reopened:
        assert reopened.campaign(AS_OF).summary() == expected
        with reopened.engine.connect() as conn:
            assert conn.execute(sa.select(store_db.schema_info.c.value)
                                .where(store_db.schema_info.c.key == "codec_format")).scalar_one() == str(CODEC_FORMAT)


def test_batch_numbers_are_handed_out_once(store, tmp_path):
    first, second = store.new_batch(), Store(store.url).new_batch()
    assert second == first + 1  # another Store (another process) never gets the same number
    form = county_form_workbook(AUGUST_FORM)  # once: openpyxl stamps the second it was saved
    store.ingest_bytes(form, "调度表.xlsx")
    own = store.submission_history()["batch"].item()
    assert own > second
    # A call whose files were all stored before takes no number.
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "调度表.xlsx").write_bytes(form)
    assert store.ingest_paths([tmp_path / "in"], workers=1).count("skipped") == 1
    assert store.new_batch() == own + 1


def test_a_write_waits_for_another_writer_instead_of_failing(sqlite_store):
    store = sqlite_store
    lock = sqlite3.connect(sa.engine.make_url(store.url).database, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN IMMEDIATE")  # another process's write transaction
    release = threading.Timer(1.0, lambda: lock.execute("COMMIT"))
    release.start()
    started = time.perf_counter()
    try:
        outcome = store.ingest_bytes(county_form_workbook(AUGUST_FORM), "调度表.xlsx")
    finally:
        release.join()
        lock.close()
    assert outcome.status == "accepted" and 0.8 < time.perf_counter() - started < 10


# --- files refused as too large: recorded by name, size and hash, their bytes not kept ----------

OVERSIZED = loaders.workbook.MAX_FILE_BYTES + 1024 * 1024  # 101 MB


def oversized_bytes() -> bytes:
    return b"not a workbook, far too large " * (OVERSIZED // 30 + 1)


def test_an_oversized_refusal_is_the_one_the_loaders_give():
    data = oversized_bytes()
    result, _ = store_db.oversized_result("大文件.xlsx", len(data), hashlib.sha256(data).hexdigest())
    expected = loaders.load_workbook(data, "大文件.xlsx")
    assert result.issues == expected.issues and result.sha256 == expected.sha256
    assert [issue.code for issue in result.issues] == ["file_too_large"]


def test_an_oversized_upload_is_recorded_without_its_bytes(store):
    data = oversized_bytes()
    on_sqlite = store.engine.dialect.name == "sqlite"
    database = Path(sa.engine.make_url(store.url).database)
    size_before = _store_bytes(database) if on_sqlite else 0
    outcome = store.ingest_bytes(data, "大文件.xlsx")
    assert outcome.status == "rejected" and [i.code for i in outcome.issues] == ["file_too_large"]
    if on_sqlite:
        assert _store_bytes(database) - size_before < 1024 * 1024  # was the whole 101 MB
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.length(store_db.files.c.content))).scalar_one() == 0
    row = store.files_frame().set_index("file_name").loc["大文件.xlsx"]
    assert (row["size"], row["sha256"], bool(row["content_kept"])) == (len(data), hashlib.sha256(data).hexdigest(), False)
    with pytest.raises(StoreError, match="超出大小上限，未保存原件"):
        store.file_content(int(row["id"]))
    again = store.ingest_bytes(data, "大文件（重发）.xlsx")
    assert again.status == "skipped" and again.stored_as == "大文件.xlsx"


def test_a_refused_file_over_2_gb_is_recorded_with_its_size(store):
    if store.engine.dialect.name == "postgresql":  # a schema-7 store's integer column is widened
        with store._write() as conn:
            conn.exec_driver_sql("ALTER TABLE files ALTER COLUMN size TYPE INTEGER")
            conn.execute(store_db.schema_info.update().where(store_db.schema_info.c.key == "schema_version").values(value="7"))
        with Store(store.url) as upgraded, upgraded.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT data_type FROM information_schema.columns "
                                        "WHERE table_name = 'files' AND column_name = 'size'").scalar() == "bigint"
    size = 3 * 1024 ** 3  # as ingest_paths gives an oversized file on disk: hashed, never read whole
    outcome = store._ingest(None, "录像.xlsx", None, store_db._BatchSlot(), sha256="ab" * 32, size=size)
    assert outcome.status == "rejected" and [i.code for i in outcome.issues] == ["file_too_large"]
    assert store.files_frame().set_index("file_name").loc["录像.xlsx", "size"] == size


def test_the_cli_ingest_hashes_an_oversized_file_without_reading_it_whole(sqlite_store, tmp_path):
    store = sqlite_store  # about reading the file, not storing it
    folder = tmp_path / "in"
    folder.mkdir()
    chunk = b"x" * (1024 * 1024)
    with (folder / "大文件.xlsx").open("wb") as out:
        for _ in range(OVERSIZED // len(chunk)):
            out.write(chunk)
    (folder / "台账.xlsx").write_bytes(ledger_workbook([CHEMICAL_PLANT]))
    expected_sha = hashlib.sha256(chunk * (OVERSIZED // len(chunk))).hexdigest()
    tracemalloc.start()
    try:
        report = store.ingest_paths([folder], workers=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024, peak  # reading it whole took 101 MB
    assert {o.file_name: o.status for o in report.outcomes} == {"大文件.xlsx": "rejected", "台账.xlsx": "accepted"}
    assert next(o.sha256 for o in report.outcomes if o.file_name == "大文件.xlsx") == expected_sha
    assert store.ingest_paths([folder], workers=1).count("skipped") == 2
    # The report does not claim the refused file's bytes were kept.
    from dashboards.cli import format_ingest_report
    text = format_ingest_report(report, [])
    assert "大文件.xlsx：文件未导入：文件大小101MB，超出上限100MB。（未保存原件）" in text


def _store_bytes(database: Path) -> int:
    return sum(path.stat().st_size for path in database.parent.glob(database.name + "*"))


# Written by the release before this one (schema version 3) with its own Store: 章贡区8月台账.xlsx,
# 章贡区8月调度表.xlsx and 超大文件.xlsx, 12,000 bytes refused as too large under a limit lowered
# to 8 KB, its bytes kept as that release did; see tests/fixtures/README.md.
STORE_V3 = Path(__file__).parent / "fixtures" / "store_v3.sqlite"


def test_a_version_3_store_drops_the_bytes_of_oversized_refusals(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copyfile(STORE_V3, tmp_path / "data" / "hazardboard.sqlite")
    with sqlite3.connect(tmp_path / "data" / "hazardboard.sqlite") as raw:
        assert raw.execute("SELECT length(content) FROM files WHERE file_name = '超大文件.xlsx'").fetchone() == (12000,)
    with Store(tmp_path / "data") as upgraded:
        with upgraded.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM schema_info WHERE key = 'schema_version'")).scalar_one()
            kept = dict(conn.execute(sa.text("SELECT file_name, length(content) FROM files")).all())
        assert version == str(store_db.SCHEMA_VERSION)
        assert kept["超大文件.xlsx"] == 0 and kept["章贡区8月台账.xlsx"] > 0 and kept["章贡区8月调度表.xlsx"] > 0
        stored = upgraded.files_frame().set_index("file_name")
        assert stored["content_kept"].to_dict() == {"章贡区8月台账.xlsx": True, "章贡区8月调度表.xlsx": True, "超大文件.xlsx": False}
        assert stored.loc["超大文件.xlsx", "size"] == 12000
        with pytest.raises(StoreError, match="未保存原件"):
            upgraded.file_content(int(stored.loc["超大文件.xlsx", "id"]))
        ledger = upgraded.file_content(int(stored.loc["章贡区8月台账.xlsx", "id"]))
        assert loaders.load_workbook(ledger, "章贡区8月台账.xlsx").accepted
        summary = upgraded.campaign(AS_OF).summary()
        assert summary["files"] == {"accepted": 2, "rejected": 1} and summary["hazards"]["unique"] == 2
    # A new parser re-reads every stored file: the one without bytes keeps its refusal.
    with Store(tmp_path / "data") as reopened, reopened.engine.begin() as conn:
        conn.execute(store_db.files.update().values(parser_version=store_db.STALE_PARSER_VERSION))
    with Store(tmp_path / "data") as reread:
        results = {result.file: result for result in reread.results()}
        assert [i.code for i in results["超大文件.xlsx"].issues] == ["file_too_large"]
        assert results["章贡区8月台账.xlsx"].accepted
        assert set(reread.files_frame()["parser_version"]) == {loaders.PARSER_VERSION}
