"""Hostile uploads in a real browser (issue 8): the merge bomb and a legitimate-looking but heavy
ledger are uploaded through the data page of a server started with a small parse memory limit,
while a second page keeps changing a filter on the hazards page. Each file costs one refused
upload with a Chinese reason; the other session keeps its answers within seconds, and the
server stays up with bounded memory."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.browser.conftest import (TRACK_WEBSOCKET, free_port, screenshot, start_server, stop_server,
                                    wait_ready)
from tests.test_bad_files import merge_bomb_bytes
from tests.test_upload_isolation import heavy_ledger

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

# The heavy ledger needs ~150 MB resident to parse (measured 2026-11-29: refused at 128 and 140 MB every
# time, at 150 MB once in three; ~180 MB before the loaders shared their texts), the merge bomb ~80 MB.
PARSE_MEMORY_MB = 128
PARSE_TIMEOUT_S = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOMB_NAME = "兴国县调度表（合并炸弹）.xlsx"
HEAVY_NAME = "章贡区8月台账（超大）.xlsx"
SUMMARY = re.compile(r"共 (\d+) 条隐患")
# In this order, each search shows another count than the one before (the page opens unfiltered).
SEARCHES = ["有限公司", "燃气", "通道", ""]
# A filter change answered within this long counts as "the other session carried on". Measured:
# 0.6-1.3 s while the files are parsed, up to 7.5 s for the one change that meets the rebuild every
# upload causes (the dataset is rebuilt and both sessions redraw their page, even when no file was
# accepted); parsed in the server, the heavy ledger alone held the server for ~3 s.
ANSWER_WITHIN_S = 10
# The server on the sample campaign peaked at 282 MB through this test; the merge bomb alone used
# to take 2 GB, and the heavy ledger parsed in the server takes ~180 MB more.
MAX_SERVER_RSS_MB = 700


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("hostile-store"), port, log_name="server-hostile-upload",
                           options=["--parse-memory-mb", str(PARSE_MEMORY_MB), "--parse-timeout-s", str(PARSE_TIMEOUT_S)])
    yield f"http://localhost:{port}", process
    stop_server(process)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def _total(page) -> int:
    return int(SUMMARY.search(page.locator(".hb-hazards-summary p").inner_text()).group(1))


def _search(page, term: str) -> None:
    box = page.locator(".hb-filter-search input")
    box.fill(term)
    box.press("Enter")


def test_hostile_uploads_are_refused_while_another_session_keeps_filtering(browser, hostile_server):
    base, process = hostile_server
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    errors: list[str] = []
    try:
        watcher, uploader = context.new_page(), context.new_page()
        for page in (watcher, uploader):
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
        # The watcher's answers before any upload: the count for each search.
        watcher.goto(f"{base}/?page=hazards")
        wait_ready(watcher)
        expected = {}
        summary = watcher.locator(".hb-hazards-summary p")
        expect(summary).to_contain_text("条隐患")
        for term in SEARCHES:
            previous = summary.inner_text()
            _search(watcher, term)
            expect(summary).not_to_have_text(previous)
            wait_ready(watcher)
            expected[term] = _total(watcher)
        print(f"counts per search: {expected}")

        print(f"server memory before the upload: {memory_mb(process.pid)}")
        uploader.goto(f"{base}/?page=data")
        wait_ready(uploader)
        uploader.locator(".hb-upload-input input[type=file]").set_input_files([
            {"name": BOMB_NAME, "mimeType": XLSX, "buffer": merge_bomb_bytes()},
            {"name": HEAVY_NAME, "mimeType": XLSX, "buffer": heavy_ledger()},
        ])
        uploader.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached", timeout=60_000)
        import_button = uploader.locator(".hb-upload-import button")
        import_button.click()

        # While the upload runs (and after, until at least six changes were answered), the other
        # session changes its filter and must see the answer each time.
        answered: list[float] = []
        finished = uploader.get_by_text("导入完成：共 2 个文件")
        deadline = time.monotonic() + 240
        step = 0
        while (finished.count() == 0 or len(answered) < 6) and time.monotonic() < deadline:
            term = SEARCHES[step % len(SEARCHES)]
            step += 1
            started = time.monotonic()
            _search(watcher, term)
            expect(watcher.locator(".hb-hazards-summary p")).to_contain_text(f"共 {expected[term]} 条",
                                                                              timeout=ANSWER_WITHIN_S * 1000)
            answered.append(time.monotonic() - started)
        print(f"filter changes answered in {[round(s, 2) for s in answered]} s")
        finished.wait_for(timeout=1000)

        # Both files refused, each with its name and its Chinese reason; nothing imported.
        expect(uploader.get_by_text("已导入 0 个，未通过 2 个")).to_be_visible()
        report = uploader.locator(".hb-upload-report")
        heavy_row = report.locator(".tabulator-row", has_text=HEAVY_NAME)
        expect(heavy_row).to_contain_text(f"文件解析超出内存上限（{PARSE_MEMORY_MB} MB），已拒绝读取")
        expect(report.locator(".tabulator-row", has_text=BOMB_NAME)).to_contain_text("没有找到可导入")
        # The data page is usable again.
        expect(import_button).to_be_enabled()
        wait_ready(uploader)
        screenshot(uploader, "hostile-upload-refused")

        assert process.poll() is None, "the server died"
        memory = memory_mb(process.pid)
        print(f"server memory after the hostile upload: {memory}")
        assert memory["VmHWM"] < MAX_SERVER_RSS_MB, memory
        # The watcher still answers after the upload.
        _search(watcher, SEARCHES[1])
        expect(watcher.locator(".hb-hazards-summary p")).to_contain_text(f"共 {expected[SEARCHES[1]]} 条")
        assert uploader.get_by_text("Server connection lost").count() == 0
        assert errors == []
    finally:
        context.close()
