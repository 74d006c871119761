"""The monthly routine while the dashboard is open: `hazardboard ingest` from the shell reaches the
open page within 10 s, without a reload or a restart, and the page says 数据已更新 and what changed."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from .conftest import ROOT, TRACK_WEBSOCKET, free_port, screenshot, start_server, stop_server, wait_ready

SAMPLE = ROOT / "sample_data" / "campaign"
HAZARDBOARD = Path(sys.executable).with_name("hazardboard")
FIRST_MONTHS = ["2023年05月", "2023年06月", "2023年07月", "2023年08月", "2023年09月"]
LATER_MONTHS = ["2023年10月", "2023年11月", "2023年12月"]


def count(figure) -> int:
    """A KPI's number ("1,234"), from a locator or its text; -1 when it shows none."""
    shown = figure if isinstance(figure, str) else figure.inner_text()
    digits = shown.replace(",", "").strip()
    return int(digits) if digits.isdigit() else -1


def test_an_ingest_from_the_shell_reaches_the_open_page_within_10_s(browser, tmp_path):
    store = tmp_path / "store"
    port = free_port()
    server = start_server(store, port, data=[str(SAMPLE / month) for month in FIRST_MONTHS], log_name="freshness-server")
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        context.add_init_script(TRACK_WEBSOCKET)
        page = context.new_page()
        page.goto(f"http://localhost:{port}/?page=overview")
        wait_ready(page, timeout=90_000)
        found = page.locator(".hb-kpi-found .hb-kpi-value")  # 发现重大隐患
        before = found.inner_text()
        assert re.fullmatch(r"[\d,]+", before)

        ingest = subprocess.run([str(HAZARDBOARD), "ingest", "--store", str(store),
                                 *(str(SAMPLE / month) for month in LATER_MONTHS)],
                                capture_output=True, text=True, timeout=300)
        assert ingest.returncode == 0, ingest.stderr
        ingested_at = time.monotonic()

        notice = page.locator(".notyf__message", has_text="数据已更新")
        notice.wait_for(timeout=10_000)
        took = time.monotonic() - ingested_at
        message = notice.inner_text()
        # The statistics date of a campaign received up to September, then up to December.
        assert re.search(r"新增\d+个文件", message) and "统计日期2023-10-23→2024-01-23" in message, message
        deadline = ingested_at + 10
        while count(found) <= count(before) and time.monotonic() < deadline:  # "—" while the page redraws
            page.wait_for_timeout(200)
        assert count(found) > count(before), (before, found.inner_text())
        assert time.monotonic() - ingested_at < 10, f"the page showed the new data {took:.1f} s after the ingest"
        screenshot(page, "freshness-after-cli-ingest")
    finally:
        context.close()
        stop_server(server)
