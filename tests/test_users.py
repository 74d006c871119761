"""The users file (issue 10, "Sign-in"): Argon2id hashes only, atomic 0600 writes, validation in
Chinese, and changes seen by a running server without a restart; for a store given as a database
URL the same accounts in its table, shared by servers on several machines (on PostgreSQL)."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import auth.users as users_module
from auth import ROLES, User, UsersError, UsersFile, default_users_path
from auth.users import UsersTable, users_for
from store import Store
from store.db import accounts

PASSWORD = "会昌-secret-1"


@pytest.fixture
def users_file(tmp_path) -> UsersFile:
    return UsersFile(tmp_path / "users.json")


def test_users_round_trip_through_the_file_with_only_argon2id_hashes(users_file, tmp_path):
    assert users_file.is_empty and users_file.users() == {}  # a missing file is no users
    users_file.add("admin", "committee", password=PASSWORD, display_name="王主任")
    users_file.add("huichang", "unit", unit="会昌", password="another-pass")
    users_file.add("screen", "viewer", sso=True)

    reread = UsersFile(users_file.path).users()
    assert list(reread) == ["admin", "huichang", "screen"]
    assert reread["admin"].display_name == "王主任" and reread["admin"].unit is None
    assert reread["huichang"] == users_file.get("huichang")
    assert (reread["huichang"].role, reread["huichang"].unit, reread["huichang"].display_name) == ("unit", "会昌县", "huichang")
    assert reread["screen"].sso and reread["screen"].password_hash is None
    assert not reread["admin"].sso and reread["admin"].password_hash.startswith("$argon2id$")

    raw = users_file.path.read_bytes()
    assert PASSWORD.encode() not in raw and b"another-pass" not in raw
    document = json.loads(raw.decode("utf-8"))
    assert document["format"] == 1
    first = document["users"][0]
    assert set(first) == {"name", "role", "unit", "display_name", "password_hash", "sso", "created_at", "updated_at"}
    assert first["password_hash"].startswith("$argon2id$")
    assert stat.S_IMODE(os.stat(users_file.path).st_mode) == 0o600
    # Written through a temporary file that is gone (only the file and its lock remain).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["users.json", "users.json.lock"]
    assert "$argon2" not in repr(reread["admin"])


def test_verify_accepts_the_password_and_nothing_else(users_file):
    users_file.add("zhang", "unit", unit="章贡区", password=PASSWORD)
    users_file.add("screen", "viewer", sso=True)
    assert users_file.verify("zhang", PASSWORD) == users_file.get("zhang")
    assert users_file.verify("zhang", PASSWORD + "x") is None
    assert users_file.verify("zhang", "") is None
    assert users_file.verify("nobody", PASSWORD) is None
    assert users_file.verify("screen", "") is None  # single sign-on only: no password opens it
    users_file.set_password("zhang", "a-new-password")
    assert users_file.verify("zhang", PASSWORD) is None
    assert users_file.verify("zhang", "a-new-password").name == "zhang"


@pytest.fixture
def default_cost(monkeypatch):
    """Hashes at the library's defaults, as in production (the suite otherwise hashes at the lowest cost)."""
    monkeypatch.setattr(users_module, "_HASHER", PasswordHasher())
    monkeypatch.setattr(users_module, "_DUMMY_HASH", users_module._DUMMY_HASH)  # rebuilt at this cost, put back after


def test_unknown_names_and_sso_users_cost_a_hash_check_too(users_file, monkeypatch, default_cost):
    users_file.add("screen", "viewer", sso=True)
    checked = []
    real_check = users_module._check
    monkeypatch.setattr(users_module, "_check", lambda h, p: checked.append(h) or real_check(h, p))
    assert users_file.verify("nobody", "whatever1") is None
    assert users_file.verify("screen", "whatever1") is None
    assert checked == [users_module._dummy_hash()] * 2
    assert not PasswordHasher().check_needs_rehash(users_module._dummy_hash())  # costs what a real hash costs


def test_an_older_hash_is_replaced_on_sign_in_unless_the_password_changed_meanwhile(users_file, default_cost):
    users_file.add("li", "viewer", password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    document = json.loads(users_file.path.read_text("utf-8"))
    document["users"][0]["password_hash"] = weak
    users_file.path.write_text(json.dumps(document), "utf-8")
    assert users_file.verify("li", PASSWORD).name == "li"
    stored = UsersFile(users_file.path).get("li").password_hash
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert users_file.verify("li", PASSWORD) is not None

    # A rehash based on a password someone has changed since does not bring the old one back.
    before = users_file.get("li")
    users_file.set_password("li", "changed-by-admin")
    users_file._rehash(before, PASSWORD)
    assert users_file.verify("li", PASSWORD) is None
    assert users_file.verify("li", "changed-by-admin") is not None


@pytest.mark.parametrize(("call", "message"), [
    (lambda f: f.add("", "viewer", password=PASSWORD), "用户名不能为空"),
    (lambda f: f.add("zhang san", "viewer", password=PASSWORD), "不能含空格"),
    (lambda f: f.add("zhang\x1b[2J", "viewer", password=PASSWORD), "控制字符"),
    (lambda f: f.add("x" * 65, "viewer", password=PASSWORD), "64"),
    (lambda f: f.add("命令行", "viewer", password=PASSWORD), "不能用作用户名"),
    (lambda f: f.add("li", "viewer", password="1234567"), "至少要有 8 个字符"),
    (lambda f: f.add("li", "viewer", password="li"), "至少要有 8 个字符"),
    (lambda f: f.add("lisisisi", "viewer", password="LISISISI"), "不能与用户名相同"),
    (lambda f: f.add("li", "viewer"), "设置密码"),
    (lambda f: f.add("li", "viewer", sso=True, password=PASSWORD), "不设密码"),
    (lambda f: f.add("li", "admin", password=PASSWORD), "角色“admin”无效"),
    (lambda f: f.add("li", "unit", password=PASSWORD), "必须指定所属单位"),
    (lambda f: f.add("li", "committee", unit="会昌县", password=PASSWORD), "不绑定单位"),
    (lambda f: f.add("li", "unit", unit="会唱县城", password=PASSWORD), "相近的单位：会昌县"),
    (lambda f: f.add("taken", "viewer", password=PASSWORD), "已存在"),
    (lambda f: f.add("TAKEN", "viewer", password=PASSWORD), "只差大小写"),
    (lambda f: f.remove("nobody"), "没有用户“nobody”"),
    (lambda f: f.set_password("nobody", PASSWORD), "没有用户“nobody”"),
    (lambda f: f.set_password("screen", PASSWORD), "单点登录"),
    (lambda f: f.change("taken", role="unit"), "必须指定所属单位"),
    (lambda f: f.change("taken", unit="会昌县"), "不绑定单位"),
])
def test_invalid_changes_are_refused_in_chinese_and_write_nothing(users_file, call, message):
    users_file.add("taken", "viewer", sso=True)  # no hashing: these cases stay quick
    users_file.add("screen", "viewer", sso=True)
    before = users_file.path.read_bytes()
    with pytest.raises(UsersError) as raised:
        call(users_file)
    assert message in raised.value.message
    assert users_file.path.read_bytes() == before


def test_units_are_stored_by_canonical_name_and_follow_role_changes(users_file):
    assert users_file.add("kfq", "unit", unit="经开区", password=PASSWORD).unit == "赣州经开区"
    assert users_file.change("kfq", unit="赣州市应急局").unit == "市应急管理局"
    moved = users_file.change("kfq", role="viewer", display_name="  赵六 ")
    assert (moved.role, moved.unit, moved.display_name) == ("viewer", None, "赵六")
    back = users_file.change("kfq", role="unit", unit="瑞金")
    assert (back.role, back.unit) == ("unit", "瑞金市")
    assert users_file.remove("kfq").name == "kfq" and users_file.is_empty
    assert set(ROLES) == {"committee", "unit", "viewer"}


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b'{"format": 1}', b'{"format": 1, "users": [{"role": "viewer"}]}',
                                     b'{"format": 1, "users": [{"name": "a", "role": "viewer", "password_hash": "plain"}]}',
                                     b'{"format": 9, "users": []}'])
def test_a_damaged_file_is_an_error_naming_it_never_no_users(users_file, content):
    users_file.path.write_bytes(content)
    with pytest.raises(UsersError) as raised:
        users_file.users()
    assert str(users_file.path) in raised.value.message
    with pytest.raises(UsersError):
        users_file.add("li", "viewer", password=PASSWORD)  # nothing is written over it
    assert users_file.path.read_bytes() == content
    assert users_file.verify("li", PASSWORD) is None  # a sign-in is refused, not a crash


@pytest.fixture(params=["file", "table"])
def two_instances(request, tmp_path):
    """Two objects on the same accounts, as two processes (or machines) hold them: the users
    file, or the accounts table of a PostgreSQL store."""
    if request.param == "file":
        yield UsersFile(tmp_path / "users.json"), UsersFile(tmp_path / "users.json")
        return
    url = request.getfixturevalue("postgresql_database")()
    pair = (UsersTable(url), UsersTable(url))
    yield pair
    for table in pair:
        table.close()


def test_another_instance_sees_changes_without_a_restart_and_reads_only_when_changed(two_instances, monkeypatch):
    users_file, server = two_instances
    users_file.add("zhang", "unit", unit="会昌县", password=PASSWORD)
    assert server.verify("zhang", PASSWORD) is not None
    reads = []
    real_parse = users_module._parse
    monkeypatch.setattr(users_module, "_parse", lambda data, where: reads.append(where) or real_parse(data, where))
    for _ in range(5):
        server.users()
    assert reads == []  # unchanged file (row version): served from the cache

    users_file.set_password("zhang", "Second-pass")  # same size, quite possibly the same mtime tick
    assert server.verify("zhang", PASSWORD) is None
    assert server.verify("zhang", "Second-pass") is not None
    users_file.remove("zhang")
    assert server.get("zhang") is None and server.verify("zhang", "Second-pass") is None
    if users_file.path is not None:
        os.remove(users_file.path)
    assert server.is_empty


def test_concurrent_adds_from_threads_all_land(two_instances):
    errors = []

    def add(number: int) -> None:
        try:
            two_instances[number % 2].add(f"user{number}", "viewer", sso=True)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for instance in two_instances:
        assert sorted(instance.users()) == sorted(f"user{n}" for n in range(8))


def test_default_users_path(tmp_path, monkeypatch):
    monkeypatch.delenv("HAZARDBOARD_USERS", raising=False)
    monkeypatch.delenv("HAZARDBOARD_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_users_path(None) == tmp_path / "data" / "users.json"
    assert default_users_path(str(tmp_path / "store")) == tmp_path / "store" / "users.json"
    assert default_users_path("postgresql://db.example/hazards") == tmp_path / "data" / "users.json"
    monkeypatch.setenv("HAZARDBOARD_STORE", str(tmp_path / "env-store"))
    assert default_users_path(None) == tmp_path / "env-store" / "users.json"
    monkeypatch.setenv("HAZARDBOARD_USERS", str(tmp_path / "elsewhere.json"))
    assert default_users_path(str(tmp_path / "store")) == tmp_path / "elsewhere.json"


def test_user_display_name_defaults_to_the_name():
    assert User("li", "viewer").display_name == "li"


# --- a store given as a database URL: the accounts in its table (auth.users.UsersTable) -----------

@pytest.fixture
def users_table(postgresql_database):
    table = UsersTable(postgresql_database())
    yield table
    table.close()


def test_the_accounts_of_a_database_store_are_in_its_table(users_table):
    assert users_table.is_empty and users_table.users() == {}
    users_table.add("admin", "committee", password=PASSWORD, display_name="王主任")
    users_table.add("huichang", "unit", unit="会昌", password="another-pass")
    users_table.add("screen", "viewer", sso=True)
    assert users_table.verify("admin", PASSWORD).display_name == "王主任"
    assert users_table.verify("admin", PASSWORD + "x") is None and users_table.verify("nobody", PASSWORD) is None
    users_table.set_password("huichang", "a-new-password")
    assert users_table.verify("huichang", "another-pass") is None
    assert users_table.verify("huichang", "a-new-password").unit == "会昌县"
    assert users_table.change("huichang", unit="瑞金").unit == "瑞金市"
    assert users_table.remove("screen").sso
    with pytest.raises(UsersError, match="已存在"):
        users_table.add("admin", "viewer", sso=True)
    with pytest.raises(UsersError) as missing:
        users_table.remove("nobody")
    assert missing.value.message.startswith(f"数据库“{users_table.display_url}”的账户表中没有用户“nobody”")

    again = UsersTable(users_table.location)  # another process, another machine
    try:
        assert list(again.users()) == ["admin", "huichang"]
        assert again.get("huichang") == users_table.get("huichang")
    finally:
        again.close()
    # The same document as a users file, in one row, with only hashes in it.
    with Store(users_table.location) as store, store.engine.connect() as conn:
        row = conn.execute(sa.select(accounts.c.version, accounts.c.document)).one()
    document = json.loads(row.document)
    assert document["format"] == 1 and [u["name"] for u in document["users"]] == ["admin", "huichang"]
    assert PASSWORD not in row.document and "a-new-password" not in row.document
    assert row.version == 6  # one per change; the refused ones wrote nothing


def test_a_damaged_accounts_row_is_an_error_naming_it_never_no_users(users_table):
    users_table.add("li", "viewer", password=PASSWORD)
    with Store(users_table.location) as store, store._write() as conn:
        conn.execute(accounts.update().values(document="{not json", version=accounts.c.version + 1))
    with pytest.raises(UsersError, match="账户表已损坏"):
        users_table.users()
    with pytest.raises(UsersError):
        users_table.add("wang", "viewer", password=PASSWORD)
    assert users_table.verify("li", PASSWORD) is None


def test_an_unreachable_accounts_database_refuses_sign_in_with_a_message():
    table = UsersTable("postgresql://hb@127.0.0.1:1/campaign")
    with pytest.raises(UsersError, match="无法读取数据库“postgresql\\+psycopg://hb@127.0.0.1:1/campaign”的账户表：无法连接数据库服务器"):
        table.users()
    assert table.verify("li", PASSWORD) is None


def test_users_for_a_store(tmp_path, monkeypatch):
    monkeypatch.delenv("HAZARDBOARD_USERS", raising=False)
    monkeypatch.delenv("HAZARDBOARD_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = users_for(str(tmp_path / "store"))
    assert type(folder) is UsersFile and folder.path == tmp_path / "store" / "users.json"
    assert users_for(None).path == tmp_path / "data" / "users.json"
    assert users_for("sqlite:///x.sqlite").path == tmp_path / "data" / "users.json"
    table = users_for("postgresql://u:pw@db.example/hazards")
    assert type(table) is UsersTable and table.display_url == "postgresql+psycopg://u:***@db.example/hazards"
    assert table.where == "数据库“postgresql+psycopg://u:***@db.example/hazards”的账户表"
    # --users FILE, or HAZARDBOARD_USERS, is always a file.
    assert users_for("postgresql://db.example/hazards", tmp_path / "u.json").path == tmp_path / "u.json"
    monkeypatch.setenv("HAZARDBOARD_STORE", "postgresql://db.example/hazards")
    assert type(users_for(None)) is UsersTable
    monkeypatch.setenv("HAZARDBOARD_USERS", str(tmp_path / "elsewhere.json"))
    assert users_for(None).path == tmp_path / "elsewhere.json"
