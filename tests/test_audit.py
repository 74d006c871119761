"""The audit log is append-only and filterable (issue 10, "Audit")."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from store import Store
from store.audit import Actor, entries, record, recent_failures
from store.db import audit_log


def test_entries_are_filtered_and_the_database_refuses_to_change_or_delete_them(store_location):
    with Store(store_location) as store:
        officer = Actor("张三", "unit", "10.0.0.7")
        record(store, officer, "signin")
        record(store, officer, "upload", target="会昌县8月台账.xlsx", detail="sha256=ab12 已导入")
        record(store, Actor("李四", "viewer", "10.0.0.8"), "upload", target="章贡区8月台账.xlsx",
               detail="不是本单位的文件", outcome="refused")
        everything = entries(store)
        assert list(everything["action"]) == ["upload", "upload", "signin"]  # newest first
        assert list(entries(store, actor="张三")["action"]) == ["upload", "signin"]
        refused = entries(store, outcome="refused")
        assert list(refused["actor"]) == ["李四"] and refused.iloc[0]["origin"] == "10.0.0.8"
        assert list(entries(store, text="会昌")["target"]) == ["会昌县8月台账.xlsx"]
        assert entries(store, since=dt.date.today() + dt.timedelta(days=1)).empty
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store._write() as conn:
                conn.execute(audit_log.update().values(actor="nobody"))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store._write() as conn:
                conn.execute(audit_log.delete())
        assert len(entries(store)) == 3
        if store.engine.dialect.name == "postgresql":  # TRUNCATE fires no row trigger: refused too
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                with store._write() as conn:
                    conn.exec_driver_sql("TRUNCATE audit_log")
            assert len(entries(store)) == 3


def test_failed_sign_ins_count_from_the_last_success(store_location):
    with Store(store_location) as store:
        who = Actor("王五", "", "10.0.0.9")
        now = dt.datetime.now(dt.timezone.utc)
        for minutes in (30, 20, 10):
            record(store, who, "signin_failed", at=now - dt.timedelta(minutes=minutes))
        assert recent_failures(store, "王五", dt.timedelta(minutes=15), now)[0] == 1
        assert recent_failures(store, "王五", dt.timedelta(hours=1), now)[0] == 3
        record(store, who, "signin", at=now - dt.timedelta(minutes=5))
        assert recent_failures(store, "王五", dt.timedelta(hours=1), now)[0] == 0
