"""Uploaded files are parsed in a child process with a memory and a time limit (store/isolation.py).

The heavy file is a legitimate-looking ledger of 30,000 hazards: it passes every reading limit of
loaders/workbook.py and takes ~3 s and ~180 MB resident to parse, so small limits refuse it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import xlsxwriter

from store import Store
from store.db import parse_and_encode
from store.isolation import CODE_CRASHED, CODE_MEMORY, CODE_TIMEOUT, ParseLimits, parse_isolated, warm_up
from tests.test_bad_files import merge_bomb_bytes
from tests.test_store import CHEMICAL_PLANT, LEDGER_HEADER, SHOPPING_MALL, ledger_workbook

HEAVY_ROWS = 30_000


def heavy_ledger(rows: int = HEAVY_ROWS) -> bytes:
    """A ledger as an officer would fill it, only with very many hazards."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": True})
    sheet = workbook.add_worksheet("台账")
    sheet.write_row(0, 0, ["重大事故隐患排查整治台账（2023年8月）"])
    sheet.write_row(1, 0, ["填报单位（盖章）：章贡区安委会"])
    sheet.write_row(2, 0, LEDGER_HEADER)
    for index in range(rows):
        sheet.write_row(3 + index, 0, [index + 1, "章贡区", f"赣州某企业{index}有限公司", "危化",
                                       f"储罐区第{index}号未设置紧急切断装置", "加装紧急切断装置", "无", "2023.9.30", "整改中"])
    workbook.close()
    return out.getvalue()


@pytest.fixture(scope="module")
def heavy() -> bytes:
    return heavy_ledger()


def only_error(result) -> tuple[str, str]:
    errors = [issue for issue in result.issues if issue.severity == "error"]
    assert len(errors) == 1, result.issues
    return errors[0].code, errors[0].message


def forkserver_children() -> list[int]:
    """The parse children alive now: children of the fork server, itself a child of this process."""
    children = []
    for server in _children(os.getpid()):
        if b"forkserver" in Path(f"/proc/{server}/cmdline").read_bytes():
            children.extend(_children(server))
    return children


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def zombies(pids: list[int]) -> list[int]:
    states = {}
    for pid in pids:
        try:
            states[pid] = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
    return [pid for pid, state in states.items() if state == "Z"]


def test_a_normal_workbook_gives_the_in_process_result():
    data = ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL])
    result, result_json = parse_isolated(data, "章贡区8月台账.xlsx")
    expected, expected_json = parse_and_encode(data, "章贡区8月台账.xlsx")
    assert result.accepted and len(result.submissions) == 1
    assert json.loads(result_json) == json.loads(expected_json)
    assert result.submissions[0].records.equals(expected.submissions[0].records)


def test_the_merge_bomb_is_read_within_the_default_limits_as_in_process():
    bomb = merge_bomb_bytes()  # written anew each call, with the time in it
    result, result_json = parse_isolated(bomb, "兴国县调度表.xlsx")
    assert json.loads(result_json) == json.loads(parse_and_encode(bomb, "兴国县调度表.xlsx")[1])
    assert not result.accepted


def test_a_file_past_the_memory_limit_is_refused_and_the_parent_carries_on(heavy):
    started = time.monotonic()
    result, result_json = parse_isolated(heavy, "章贡区8月台账.xlsx", ParseLimits(memory_mb=128))
    code, message = only_error(result)
    assert code == CODE_MEMORY
    assert message == ("文件未导入：文件解析超出内存上限（128 MB），已拒绝读取，疑似异常或恶意构造的文件。"
                       "请检查文件后重新报送。")
    assert result.issues[0].file == "章贡区8月台账.xlsx" and not result.accepted and not result.submissions
    assert json.loads(result_json)["issues"][0]["code"] == CODE_MEMORY
    assert time.monotonic() - started < 30  # killed when it reached the limit, not at the time limit
    # The same file within the default limits is an ordinary ledger.
    result, _ = parse_isolated(heavy, "章贡区8月台账.xlsx")
    assert result.accepted and len(result.submissions[0].records) == HEAVY_ROWS


def test_a_file_past_the_time_limit_is_killed_and_refused(heavy):
    started = time.monotonic()
    result, _ = parse_isolated(heavy, "章贡区8月台账.xlsx", ParseLimits(timeout_s=0.5))
    elapsed = time.monotonic() - started
    code, message = only_error(result)
    assert code == CODE_TIMEOUT
    assert "文件解析超出时间上限（0.5 秒），已拒绝读取" in message
    assert elapsed < 3, elapsed
    assert forkserver_children() == []


def test_a_child_killed_by_a_signal_is_a_refusal_naming_it(heavy):
    warm_up()
    parse_isolated(b"warm", "warm.xlsx")  # the fork server is running with the loaders imported
    answer = {}
    parsing = threading.Thread(target=lambda: answer.setdefault("result", parse_isolated(heavy, "章贡区8月台账.xlsx")))
    parsing.start()
    deadline = time.monotonic() + 10
    while not (children := forkserver_children()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert children, "no parse child seen"
    os.kill(children[0], signal.SIGKILL)
    parsing.join(timeout=30)
    code, message = only_error(answer["result"][0])
    assert code == CODE_CRASHED
    assert "文件解析进程异常终止（信号 SIGKILL" in message


def test_no_child_pipe_or_zombie_is_left_behind(heavy):
    warm_up()
    parse_isolated(b"warm", "warm.xlsx")
    fds_before = len(os.listdir("/proc/self/fd"))
    own_children_before = set(_children(os.getpid()))
    for limits in (ParseLimits(), ParseLimits(timeout_s=0.3), ParseLimits(memory_mb=128)):
        parse_isolated(heavy, "章贡区8月台账.xlsx", limits)
    for _ in range(5):
        parse_isolated(ledger_workbook([CHEMICAL_PLANT]), "台账.xlsx")
    time.sleep(0.2)  # the fork server reaps its children on SIGCHLD
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert set(_children(os.getpid())) == own_children_before  # only the fork server
    assert forkserver_children() == []
    assert zombies(_children(os.getpid())) == []


def test_the_server_upload_parses_in_a_child_within_the_session_limits(tmp_path, heavy):
    """The upload job's worker thread parses with parse_isolated: a heavy file past a small
    limit is stored as rejected with the limit named (only a child can be refused so), a normal
    one in the same upload is imported."""
    from components.data import SharedCampaign

    shared = SharedCampaign(tmp_path / "store")
    progress = []
    outcomes = shared.ingest(
        [("章贡区8月台账.xlsx", heavy), ("章贡区9月台账.xlsx", ledger_workbook([CHEMICAL_PLANT], month=9))],
        lambda index, total, name: progress.append((index, total)), partial(parse_isolated, limits=ParseLimits(memory_mb=128)))
    assert progress == [(0, 2), (1, 2), (2, 2)]
    assert [o.status for o in outcomes] == ["rejected", "accepted"]
    assert outcomes[0].issues[0].code == CODE_MEMORY and "内存上限（128 MB）" in outcomes[0].issues[0].message
    with Store(tmp_path / "store") as reopened:
        frame = reopened.files_frame().set_index("file_name")
        assert frame["accepted"].to_dict() == {"章贡区8月台账.xlsx": False, "章贡区9月台账.xlsx": True}


def test_serve_options_set_the_parse_limits_of_the_server(tmp_path, monkeypatch, capsys):
    from components import upload
    from dashboards import app, cli

    served = []
    monkeypatch.setattr(app, "serve", lambda **options: served.append(options))
    monkeypatch.setattr(upload, "PARSE_LIMITS", upload.PARSE_LIMITS)  # restored after the test
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "台账.xlsx").write_bytes(ledger_workbook([CHEMICAL_PLANT]))
    base = ["serve", "--store", str(tmp_path / "store"), "--data", str(tmp_path / "in"), "--num-procs", "2"]
    assert cli.main([*base, "--parse-memory-mb", "300", "--parse-timeout-s", "7.5"]) == cli.EXIT_OK
    assert served and upload.PARSE_LIMITS == ParseLimits(memory_mb=300, timeout_s=7.5)
    assert cli.main([*base, "--parse-memory-mb", "64"]) == cli.EXIT_FAILED
    assert "--parse-memory-mb 不能小于 128" in capsys.readouterr().err
    assert cli.main([*base, "--parse-timeout-s", "0"]) == cli.EXIT_FAILED
    assert "--parse-timeout-s 必须大于 0" in capsys.readouterr().err
    assert len(served) == 1


# The standard launch that ``store.isolation._Popen._launch`` repeats without the main module.
CPYTHON_FORKSERVER_LAUNCH_SHA256 = "214844899bd3407f72082111e993b40f7c271620be27195b878ea1e44a5f3837"


def test_the_forkserver_launch_it_repeats_is_still_the_standard_one():
    """``_Popen._launch`` copies CPython's ``popen_forkserver.Popen._launch`` (less the main module):
    this fails the day a Python upgrade changes the original, so the copy is read again then."""
    import hashlib
    import inspect
    from multiprocessing import popen_forkserver

    source = inspect.getsource(popen_forkserver.Popen._launch)
    assert hashlib.sha256(source.encode()).hexdigest() == CPYTHON_FORKSERVER_LAUNCH_SHA256, (
        "CPython's forkserver launch changed: compare it with store/isolation.py _Popen._launch")
