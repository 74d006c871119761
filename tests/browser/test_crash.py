"""Nothing lost when the server dies (issue 10): the real server is killed with SIGKILL while an
officer saves an annotation edit, and again in the middle of an upload; after each restart the
store passes ``PRAGMA integrity_check``, every write the officer saw saved is there with its
audit entry, the interrupted edit is there with its audit entry or not at all, and the
interrupted upload is wholly out (no file, submission or audit entry of it). The restarted
server serves the dashboard. (tests/test_durability.py kills the same write paths at many more
moments without a browser.)
"""

from __future__ import annotations

import re
import shutil
import signal
import sqlite3
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect

from tests.browser.conftest import TRACK_WEBSOCKET, click_row_until, free_port, start_server, stop_server, wait_ready

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = ROOT / "sample_data" / "campaign"
STARTING_FILES = ("会昌县8月台账.xlsx", "会昌县8月调度表.xlsx", "章贡区_2023年8月_台账.xlsx", "章贡区_2023年8月_调度表.xlsx")
UNITS_QUERY = "units=" + quote('["会昌县"]')
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _database(store_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(store_dir / "hazardboard.sqlite")


def _check_consistent(store_dir: Path) -> None:
    with _database(store_dir) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # No batch is partial: every stored file has its submissions and its audit entry.
        for file_name, in db.execute("SELECT file_name FROM files"):
            assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'upload' AND target = ?",
                              (file_name,)).fetchone()[0] >= 1, file_name


def _kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_a_killed_server_loses_nothing_it_committed_and_keeps_no_half_upload(browser, tmp_path):
    data = tmp_path / "august"
    data.mkdir()
    for name in STARTING_FILES:
        shutil.copy(CAMPAIGN / "2023年08月" / name, data / name)
    store_dir = tmp_path / "store"
    port = free_port()
    base = f"http://localhost:{port}"
    server = start_server(store_dir, port, data=[str(data)], log_name="server-crash-1")
    context = browser.new_context(viewport={"width": 1600, "height": 1200}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    try:
        # An annotation saved (the officer sees its card), then an edit saved and the server
        # killed while it is being written.
        page.goto(f"{base}/?page=hazards&{UNITS_QUERY}")
        wait_ready(page, timeout=60_000)
        first = page.locator(".hb-hazard-table .tabulator-row").first
        click_row_until(page, first.locator(".tabulator-cell[tabulator-field='enterprise']"),
                        "() => Boolean(new URLSearchParams(location.search).get('hazard'))")
        editor = page.locator(".hb-hazard-detail .hb-an-editor")
        editor.locator(".hb-an-author input").fill("张科长")
        editor.locator(".hb-an-author input").press("Enter")
        editor.locator(".hb-an-text textarea").fill("已电话核实，企业承诺月底前完成整改。")
        editor.locator(".hb-an-save button").click()
        card = page.locator(".hb-hazard-detail .hb-an-card")
        expect(card).to_have_count(1)
        page.locator(".hb-hazard-detail .hb-an-edit button").click()
        editor.locator(".hb-an-text textarea").fill("已督办：9月30日前完成整改。")
        editor.locator(".hb-an-save button").click()
        _kill(server)

        _check_consistent(store_dir)
        with _database(store_dir) as db:
            (version, text), = db.execute("SELECT version, text FROM annotations").fetchall()
            versions = db.execute("SELECT count(*) FROM annotation_versions").fetchone()[0]
            logged = dict(db.execute("SELECT action, count(*) FROM audit_log WHERE action LIKE 'annotation%' "
                                     "GROUP BY action").fetchall())
        assert versions == version and logged.get("annotation_add") == 1
        assert (version, text, logged.get("annotation_edit", 0)) in (
            (1, "已电话核实，企业承诺月底前完成整改。", 0), (2, "已督办：9月30日前完成整改。", 1))
        print(f"edit interrupted by SIGKILL: annotation at version {version}")

        # Restarted: an upload of thirty files, killed while its files are being read.
        server = start_server(store_dir, port, log_name="server-crash-2")
        september = sorted((CAMPAIGN / "2023年09月").glob("*.xlsx"))[:30]
        page.goto(f"{base}/?page=data")
        wait_ready(page, timeout=60_000)
        page.locator(".hb-upload-input input[type=file]").set_input_files(
            [{"name": path.name, "mimeType": XLSX, "buffer": path.read_bytes()} for path in september])
        page.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached", timeout=60_000)
        page.locator(".hb-upload-import button").click()
        page.get_by_text(re.compile(rf"正在导入 ([2-9]|1[0-9])/{len(september)}")).first.wait_for(timeout=60_000)
        _kill(server)

        _check_consistent(store_dir)
        with _database(store_dir) as db:
            stored = {name for name, in db.execute("SELECT file_name FROM files")}
            uploads = db.execute("SELECT count(*) FROM audit_log WHERE action = 'upload'").fetchone()[0]
        assert stored == set(STARTING_FILES) and uploads == len(STARTING_FILES)  # the upload: wholly out

        # And the server comes back over that store.
        server = start_server(store_dir, port, log_name="server-crash-3")
        page.goto(f"{base}/?page=hazards")
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-hazards-summary p")).to_contain_text("共")
    finally:
        context.close()
        if server.poll() is None:
            stop_server(server)
