"""The 周调度 and 数据 pages in a real browser: they load without errors, a dispatch row opens its
hazard, the history marks superseded submissions, and an upload reports each file.

The upload changes the server's data, so it runs against a server of its own; the
other tests use the session's shared server on the pristine sample.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from loaders.reference import INDICATORS

from tests.browser.conftest import click_row_until, free_port, screenshot, start_server, stop_server, wait_ready

GOOD_FILE = "章贡区2024年1月调度表.xlsx"
BAD_FILE = "报送说明.xlsx"


def county_form() -> bytes:
    """A county dispatch form (附件3) of 章贡区 filed on 2024-01-20: title, unit and date, then label/value pairs."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "调度表"
    sheet["A1"] = "赣州市章贡区重大事故隐患专项排查整治进展情况调度表"
    sheet["A2"] = "填报单位：章贡区"
    sheet["C2"] = "时间：2024 年 1 月 20 日"
    county_indicators = [indicator for indicator in INDICATORS if 3 in indicator.forms and indicator.kind == "count"]
    for row, indicator in enumerate(county_indicators[:12], start=3):
        sheet.cell(row, 1, indicator.label)
        sheet.cell(row, 2, 500 + row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    """A server of its own (the bundled sample in a fresh store) for the upload test."""
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("upload-store"), port, log_name="server-upload")
    yield f"http://localhost:{port}"
    stop_server(process)




def open_page(page, url: str) -> None:
    page.goto(url)
    wait_ready(page)


def test_dispatch_page_shows_counts_and_lists(page, server):
    open_page(page, f"{server}/?page=dispatch")
    cards = page.locator(".hb-kpi-dispatch-new .hb-kpi-value")
    cards.wait_for()
    assert int(cards.inner_text().replace(",", "")) > 0
    new_table = page.locator(".hb-dispatch-new")
    assert new_table.locator(".tabulator-col-title", has_text="企业（项目）").count() == 1
    assert new_table.locator(".tabulator-row").count() > 0
    assert page.get_by_text("督办超期未见实质进展").first.is_visible()
    screenshot(page, "dispatch")
    assert page.console_log.errors == []


def test_dispatch_hazard_row_opens_the_hazard(page, server):
    open_page(page, f"{server}/?page=dispatch")
    stalled = page.locator(".hb-dispatch-stalled .tabulator-row").first
    stalled.wait_for()
    enterprise = stalled.locator(".tabulator-cell[tabulator-field=enterprise]").inner_text()
    # The state (page, hazard) is mirrored in the URL by replaceState: no navigation event to wait for.
    click_row_until(page, stalled.locator(".tabulator-cell[tabulator-field=description]"),
                    "() => { const query = new URLSearchParams(location.search); "
                    "return query.get('page') === 'hazards' && query.get('hazard'); }")
    page.locator(".hb-hazard-detail .hb-detail-body", has_text=enterprise).wait_for()
    wait_ready(page)
    screenshot(page, "dispatch-opened-hazard")
    assert page.console_log.errors == []


def test_data_page_history_marks_superseded(page, server):
    open_page(page, f"{server}/?page=data")
    history = page.locator(".hb-history-table")
    history.locator(".tabulator-row").first.wait_for()
    page.locator(".hb-history-unit select").select_option("南康区")
    history.locator(".hb-superseded", has_text="被替代").first.wait_for()
    assert history.get_by_text("下一页").count() == 1
    screenshot(page, "data")
    assert page.console_log.errors == []


def test_upload_reports_each_file(page, upload_server):
    open_page(page, f"{upload_server}/?page=data")
    page.locator(".hb-upload-input input[type=file]").set_input_files([
        {"name": GOOD_FILE, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "buffer": county_form()},
        {"name": BAD_FILE, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "buffer": "这只是一段说明文字，不是表格。".encode()},
    ])
    # The files travel to the server after the change event; wait until both have arrived.
    page.wait_for_timeout(1000)
    page.locator(".hb-upload-import button").click()
    page.get_by_text("导入完成").wait_for(timeout=60_000)
    report = page.locator(".hb-upload-report")
    good = report.locator(".tabulator-row", has_text=GOOD_FILE)
    bad = report.locator(".tabulator-row", has_text=BAD_FILE)
    assert "已导入" in good.inner_text()
    assert "未通过" in bad.inner_text() and "不是Excel工作簿" in bad.inner_text()
    assert page.locator(".hb-upload-changes").get_by_text("已导入文件").is_visible()
    wait_ready(page)
    screenshot(page, "data-upload")
    assert page.console_log.errors == []
