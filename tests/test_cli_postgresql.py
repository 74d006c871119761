"""The ``hazardboard`` command on a PostgreSQL store (``--store postgresql://…``), as officers run
it, against a fresh database of the test cluster (tests/postgres.py): ``ingest`` and ``serve`` as
processes of the installed command (the driver is there at run time), the others through the
same ``main`` in this process (each process start costs ~2 s of imports)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from dashboards.cli import main
from store import Store
from tests.conftest import SAMPLE_CAMPAIGN

HAZARDBOARD = Path(sys.executable).with_name("hazardboard")
AUGUST = SAMPLE_CAMPAIGN / "2023年08月"
# A few of August's files: two counties' ledgers and forms, and a correction that supersedes one.
FILES = [AUGUST / name for name in ("会昌县8月台账.xlsx", "会昌县8月调度表.xlsx", "南康区8月台账.xlsx",
                                    "南康区8月调度表.xlsx", "南康区8月调度表（更正）.xlsx")]
AS_OF = "2023-09-30"
PASSWORD = "pg-admin-pass-1"


def hazardboard(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    run = subprocess.run([str(HAZARDBOARD), *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, f"hazardboard {' '.join(args[:2])} failed:\n{run.stdout}\n{run.stderr}"
    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(capsys, *args: str) -> str:
    """``hazardboard ARGS`` in this process; its standard output."""
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, f"hazardboard {' '.join(args[:2])} failed:\n{captured.out}\n{captured.err}"
    return captured.out


def test_the_commands_on_a_postgresql_store(postgresql_database, tmp_path, capsys, monkeypatch):
    url = postgresql_database()
    shown = url.replace("postgresql://", "postgresql+psycopg://")

    ingest = hazardboard("ingest", "--store", url, *map(str, FILES))
    assert f"数据库：{shown}" in ingest.stdout
    assert "会昌县8月台账.xlsx" in ingest.stdout or "已导入 5" in ingest.stdout, ingest.stdout
    with Store(url) as store:
        stored = store.files_frame()
        history = store.submission_history(unit="南康区", period="2023-08")
        from_store = store.campaign(dt.date.fromisoformat(AS_OF)).summary()
    assert sorted(stored["file_name"]) == sorted(path.name for path in FILES) and stored["accepted"].all()
    forms = history[history["kind"] == "county_form"].set_index("file_name")["active"].to_dict()
    assert forms == {"南康区8月调度表.xlsx": False, "南康区8月调度表（更正）.xlsx": True}

    # The same files read directly give what the PostgreSQL store rebuilds.
    summary = json.loads(cli(capsys, "summary", *map(str, FILES), "--as-of", AS_OF, "--json"))
    assert summary == json.loads(json.dumps(from_store, ensure_ascii=False))
    assert summary["files"] == {"accepted": 5, "rejected": 0}

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HAZARDBOARD_USERS", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    added = cli(capsys, "users", "add", "admin", "--role", "committee", "--display-name", "安委办李四",
                "--password-stdin", "--store", url)
    assert "已添加用户“admin”" in added and f"数据库“{shown}”的账户表" in added
    listed = cli(capsys, "users", "list", "--store", url)
    assert f"数据库“{shown}”的账户表（1 个用户）" in listed
    assert "admin" in listed and "安委办李四" in listed and "安委会办公室" in listed and PASSWORD not in listed
    assert not (tmp_path / "data").exists()  # no users.json anywhere: the accounts are in the database

    log = [json.loads(line) for line in cli(capsys, "audit", "--json", "--store", url).splitlines()]
    assert [entry["action"] for entry in log] == ["user_add"] + ["upload"] * len(FILES)  # newest first
    assert {entry["target"] for entry in log[1:]} == {path.name for path in FILES}
    assert log[0]["target"] == "admin" and log[0]["outcome"] == "ok" and log[0]["at"].endswith("+00:00")

    out = tmp_path / "简报"
    brief = cli(capsys, "brief", "--store", url, "--period", "2023-08", "--as-of", AS_OF, "--out", str(out))
    assert "全市 2023-08 简报" in brief, brief
    assert {path.suffix for path in out.iterdir()} >= {".docx", ".pdf", ".xlsx", ".pptx"}

    port = free_port()
    server = subprocess.Popen([str(HAZARDBOARD), "serve", "--store", url, "--port", str(port), "--address", "127.0.0.1",
                               "--as-of", AS_OF], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "NO_COLOR": "1"})
    try:
        status, deadline = None, time.monotonic() + 120
        while status != 200 and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                    status, page = response.status, response.read().decode("utf-8", "replace")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert status == 200, f"the server did not answer 200 within 120 s; it printed:\n{_stop(server)}"
        assert "<html" in page.lower()
    finally:
        printed = _stop(server)
    assert "不需要登录（仅本机访问）" in printed and f"http://127.0.0.1:{port}/" in printed
    assert "导入" not in printed.split("看板地址")[0]  # a store with data: the bundled sample is not added


def _stop(server: subprocess.Popen) -> str:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.stdout.read() if server.stdout else ""


def test_an_unreachable_database_server_is_one_chinese_line(capsys, tmp_path):
    (tmp_path / "台账.xlsx").write_bytes(FILES[0].read_bytes())
    assert main(["ingest", "--store", "postgresql://hb:pw@127.0.0.1:1/campaign", str(tmp_path / "台账.xlsx")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("错误：无法连接数据库服务器 127.0.0.1:1（数据库“campaign”，用户“hb”）")
    assert "Traceback" not in err and "pw@" not in err


def test_a_server_on_a_postgresql_store_signs_in_with_the_accounts_in_that_database(postgresql_database, capsys,
                                                                                   monkeypatch):
    import dashboards.app
    from auth.users import UsersTable

    served: list[dict] = []
    monkeypatch.setattr(dashboards.app, "serve", lambda **kwargs: served.append(kwargs))
    monkeypatch.delenv("HAZARDBOARD_USERS", raising=False)
    url = postgresql_database()
    shown = url.replace("postgresql://", "postgresql+psycopg://")
    options = ["serve", "--store", url, "--data", str(FILES[0]), "--address", "0.0.0.0", "--allow-host", "aqw.gz.gov.cn"]
    assert main(options) != 0  # beyond loopback: no account yet, not started
    assert f"但数据库“{shown}”的账户表中还没有可以登录的账号" in capsys.readouterr().err and not served
    UsersTable(url).add("awh", "committee", password=PASSWORD)  # e.g. from another machine
    assert main(options) == 0
    signin = served[0]["signin"]
    assert signin.required and isinstance(signin.users, UsersTable)
    assert signin.users.verify("awh", PASSWORD).role == "committee"
    assert f"需要登录（账号保存在数据库“{shown}”的账户表）" in capsys.readouterr().err
