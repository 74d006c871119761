"""Large uploads in a real browser (issue 8, point 7): a 26 MB selection, which closed the session on
main (websocket 1009), travels in chunks with progress and is imported; a selection past the
server's limit (``serve --upload-limit-mb``) is refused in the browser with the limit named."""

from __future__ import annotations


import pytest

from tests.browser.conftest import free_port, start_server, stop_server, wait_ready

LIMIT_MB = 30
MB = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("limits-store"), port, log_name="server-upload-limits",
                           options=["--upload-limit-mb", str(LIMIT_MB)])
    yield f"http://localhost:{port}"
    stop_server(process)


def _files(sizes_mb: list[float]) -> list[dict]:
    return [{"name": f"大文件{index}.xlsx", "mimeType": XLSX, "buffer": bytes([index + 1]) * int(size * MB)}
            for index, size in enumerate(sizes_mb)]


def test_a_26_mb_selection_arrives_in_chunks_and_a_larger_one_is_refused(page, limited_server):
    page.goto(f"{limited_server}/?page=data")
    wait_ready(page)
    chooser = page.locator(".hb-upload-input input[type=file]")
    # Past the limit: refused in the browser, the message names the limit; nothing is imported.
    chooser.set_input_files(_files([20, 20]))
    refused = page.locator(".hb-upload-refused")
    refused.get_by_text(f"上限 {LIMIT_MB} MB").wait_for(timeout=10_000)
    assert "40 MB" in refused.inner_text()
    page.locator(".hb-upload-refused-server").get_by_text(f"上限 {LIMIT_MB} MB").wait_for(timeout=10_000)
    # 26 MB (three files, seven chunks): arrives, then imports; the session stays connected.
    chooser.set_input_files(_files([9, 9, 8]))
    page.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached", timeout=60_000)
    page.locator(".hb-upload-import button").click()
    page.get_by_text("导入完成：共 3 个文件").wait_for(timeout=120_000)
    assert refused.inner_text() == ""
    report = page.locator(".hb-upload-report")
    report.locator(".tabulator-row", has_text="大文件0.xlsx").wait_for(timeout=30_000)
    wait_ready(page)
    assert page.get_by_text("Server connection lost").count() == 0
    assert page.console_log.errors == []
