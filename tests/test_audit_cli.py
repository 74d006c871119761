"""``hazardboard users …`` and ``hazardboard audit`` (issue 10): user changes through the command
line, each one in the audit log, and the log printed with filters, in local time or as JSON."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest

from auth import UsersFile
from dashboards.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from store import Store
from store.audit import Actor, entries, record

PASSWORD = "Huichang-2023"


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("HAZARDBOARD_USERS", raising=False)
    monkeypatch.delenv("HAZARDBOARD_STORE", raising=False)
    return tmp_path / "data"


def run(monkeypatch, capsys, argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_users_commands_change_the_file_and_every_change_is_audited(store_dir, monkeypatch, capsys):
    store = ["--store", str(store_dir)]
    code, out, err = run(monkeypatch, capsys, ["users", "add", "zhang", "--role", "unit", "--unit", "会昌",
                                               "--display-name", "张三", "--password-stdin", *store], PASSWORD + "\n")
    assert code == EXIT_OK, err
    assert "会昌县" in out and PASSWORD not in out + err
    users = UsersFile(store_dir / "users.json")  # the default: users.json in the data folder
    assert users.verify("zhang", PASSWORD).unit == "会昌县"

    assert run(monkeypatch, capsys, ["users", "add", "screen", "--role", "viewer", "--sso", *store])[0] == EXIT_OK
    code, out, err = run(monkeypatch, capsys, ["users", "list", *store])
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[1].split() == ["用户名", "姓名", "角色", "单位", "登录方式"]
    assert lines[2].split() == ["zhang", "张三", "单位", "会昌县", "密码"]
    assert lines[3].split() == ["screen", "screen", "只读", "—", "单点登录"]
    assert "argon2" not in out

    code, out, err = run(monkeypatch, capsys, ["users", "passwd", "zhang", "--password-stdin", *store], "New-password-9\r\n")
    assert code == EXIT_OK, err
    assert users.verify("zhang", PASSWORD) is None and users.verify("zhang", "New-password-9") is not None

    code, out, err = run(monkeypatch, capsys, ["users", "change", "zhang", "--role", "committee", *store])
    assert code == EXIT_OK, err
    assert (users.get("zhang").role, users.get("zhang").unit) == ("committee", None)

    # Refused: a duplicate name (before any password is read), an SSO user's password, an unknown name.
    code, out, err = run(monkeypatch, capsys, ["users", "add", "zhang", "--role", "viewer", "--password-stdin", *store], "x")
    assert code == EXIT_FAILED and "已存在" in err
    code, _, err = run(monkeypatch, capsys, ["users", "passwd", "screen", "--password-stdin", *store], PASSWORD + "\n")
    assert code == EXIT_FAILED and "单点登录" in err
    code, _, err = run(monkeypatch, capsys, ["users", "remove", "nobody", *store])
    assert code == EXIT_FAILED and "没有用户“nobody”" in err

    code, out, err = run(monkeypatch, capsys, ["users", "remove", "screen", *store])
    assert code == EXIT_OK, err
    assert list(users.users()) == ["zhang"]

    log = entries(store_dir).iloc[::-1]  # oldest first
    assert list(zip(log["action"], log["target"], log["outcome"])) == [
        ("user_add", "zhang", "ok"), ("user_add", "screen", "ok"), ("user_passwd", "zhang", "ok"),
        ("user_change", "zhang", "ok"), ("user_add", "zhang", "refused"), ("user_passwd", "screen", "refused"),
        ("user_remove", "nobody", "refused"), ("user_remove", "screen", "ok")]
    assert set(log["role"]) == {"committee"} and set(log["origin"]) == {"localhost"}
    assert all(actor.startswith("命令行") for actor in log["actor"])
    assert "会昌县" in log.iloc[0]["detail"] and "单位" in log.iloc[0]["detail"]
    assert "安委会办公室" in log.iloc[3]["detail"]
    assert not any(secret in " ".join(log["detail"]) for secret in (PASSWORD, "New-password-9", "argon2"))


def test_passwords_are_never_taken_from_a_pipe_without_the_flag(store_dir, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, ["users", "add", "li", "--role", "viewer", "--store", str(store_dir)], PASSWORD)
    assert code == EXIT_USAGE and "--password-stdin" in err
    code, _, err = run(monkeypatch, capsys, ["users", "add", "li", "--role", "viewer", "--password-stdin",
                                             "--store", str(store_dir)], "short\n")
    assert code == EXIT_FAILED and "至少要有 8 个字符" in err
    assert UsersFile(store_dir / "users.json").is_empty
    with pytest.raises(SystemExit):  # no such option: a password is never an argument
        main(["users", "add", "li", "--role", "viewer", "--password", PASSWORD])


def test_an_explicit_users_file_and_a_terminal_prompt(tmp_path, store_dir, monkeypatch, capsys):
    prompts = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(prompts))
    monkeypatch.setattr("sys.stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    target = tmp_path / "elsewhere" / "people.json"
    assert main(["users", "add", "wang", "--role", "committee", "--users", str(target), "--store", str(store_dir)]) == EXIT_OK
    assert UsersFile(target).verify("wang", PASSWORD) is not None
    assert not (store_dir / "users.json").exists()

    mismatched = iter(["first-password", "second-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(mismatched))
    assert main(["users", "passwd", "wang", "--users", str(target), "--store", str(store_dir)]) == EXIT_FAILED
    assert "不一致" in capsys.readouterr().err
    assert UsersFile(target).verify("wang", PASSWORD) is not None


@pytest.fixture
def shanghai_time(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def audited_store(store_dir):
    at = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.timezone.utc)  # 2026-03-02 01:30 in Shanghai
    with Store(store_dir) as store:
        record(store, Actor("张三", "unit", "10.0.0.7"), "signin", at=at - dt.timedelta(days=1))
        record(store, Actor("张三", "unit", "10.0.0.7"), "upload", target="会昌县8月台账.xlsx", detail="sha256=ab12 已导入", at=at)
        record(store, Actor("李四", "viewer", "10.0.0.8"), "upload", target="章贡区8月台账.xlsx",
               detail="只读用户不能上传", outcome="refused", at=at + dt.timedelta(minutes=1))
        record(store, Actor("evil\x1b[2J\nname", "", "10.0.0.9"), "signin_failed", at=at + dt.timedelta(minutes=2))
    return store_dir


def test_audit_prints_filtered_entries_in_local_time(audited_store, shanghai_time, monkeypatch, capsys):
    store = ["--store", str(audited_store)]
    code, out, err = run(monkeypatch, capsys, ["audit", *store])
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert "UTC+08:00" in lines[0] and "共 4 条" in lines[0]
    assert lines[1].split() == ["时间", "用户", "角色", "操作", "对象", "结果", "来源", "说明"]
    assert lines[2].startswith("2026-03-02 01:32:00") and "登录失败" in lines[2]
    assert "\x1b" not in out and "\\x1b[2J name" in lines[2]  # an attacker's name cannot drive the terminal
    assert lines[3].split() == ["2026-03-02", "01:31:00", "李四", "只读", "上传文件", "章贡区8月台账.xlsx", "被拒绝",
                                "10.0.0.8", "只读用户不能上传"]
    assert lines[5].startswith("2026-03-01 01:30:00") and "登录" in lines[5]
    assert lines[4].index("会昌县8月台账") == lines[3].index("章贡区8月台账")  # aligned across wide characters

    def printed(*options: str) -> list[str]:
        code, out, err = run(monkeypatch, capsys, ["audit", *store, *options])
        assert code == EXIT_OK, err
        return out.splitlines()[2:]

    assert [line.split()[2] for line in printed("--user", "张三")] == ["张三", "张三"]
    assert len(printed("--action", "upload")) == 2 and printed("--action", "上传文件") == printed("--action", "upload")
    assert [line.split()[2] for line in printed("--outcome", "refused")] == ["李四"]
    assert [line.split()[5] for line in printed("--text", "会昌")] == ["会昌县8月台账.xlsx"]
    # Days are the machine's: 17:30 UTC on 1 March is already 2 March in Shanghai.
    assert len(printed("--since", "2026-03-02")) == 3
    assert len(printed("--until", "2026-03-01")) == 1
    assert len(printed("--since", "2026-03-01", "--until", "2026-03-01")) == 1
    code, out, _ = run(monkeypatch, capsys, ["audit", *store, "--limit", "2"])
    assert len(out.splitlines()) == 4 and "只显示最新的 2 条" in out.splitlines()[0]
    code, out, _ = run(monkeypatch, capsys, ["audit", *store, "--user", "王五"])
    assert code == EXIT_OK and "没有符合条件的审计记录" in out


def test_audit_json_lines_and_refused_options(audited_store, monkeypatch, capsys):
    store = ["--store", str(audited_store)]
    code, out, err = run(monkeypatch, capsys, ["audit", *store, "--json", "--action", "upload"])
    assert code == EXIT_OK, err
    assert "上传文件" in out  # not \u escapes
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["target"] for row in rows] == ["章贡区8月台账.xlsx", "会昌县8月台账.xlsx"]
    assert rows[1] == {"id": 2, "at": "2026-03-01T17:30:00+00:00", "actor": "张三", "role": "unit", "action": "upload",
                       "action_label": "上传文件", "target": "会昌县8月台账.xlsx", "detail": "sha256=ab12 已导入",
                       "origin": "10.0.0.7", "outcome": "ok"}
    assert dt.datetime.fromisoformat(rows[0]["at"]).utcoffset() == dt.timedelta(0)

    code, out, err = run(monkeypatch, capsys, ["audit", *store, "--action", "login"])
    assert code == EXIT_USAGE and out == ""
    assert "signin（登录）" in err and "user_passwd（修改密码）" in err
    assert run(monkeypatch, capsys, ["audit", *store, "--since", "2026/03/01"])[0] == EXIT_USAGE
    assert run(monkeypatch, capsys, ["audit", *store, "--since", "2026-03-05", "--until", "2026-03-01"])[0] == EXIT_USAGE
    assert run(monkeypatch, capsys, ["audit", *store, "--limit", "-1"])[0] == EXIT_USAGE
    with pytest.raises(SystemExit):
        main(["audit", *store, "--outcome", "maybe"])
