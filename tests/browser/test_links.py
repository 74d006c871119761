"""Links officers share: a bookmark or a forwarded link whose filters the data do not know.

The browser sends the address it was opened with a second time once the page has loaded; both
applications of the link are checked, the unknown values are dropped and named once, and the page
settles (an unknown period used to bounce between the browser and the server for ever, using a
whole core and starving every other session, and no notice ever came)."""

from __future__ import annotations

import json
import time
import urllib.parse

from playwright.sync_api import expect

from tests.browser.conftest import cpu_seconds, screenshot, wait_ready

UNKNOWN_UNIT = "不存在县"


def _link(server: str, **query) -> str:
    return f"{server}/?{urllib.parse.urlencode(query)}"


def test_a_link_with_a_period_and_a_unit_the_data_lack_is_cleaned_named_once_and_settles(server_process, page):
    link = _link(server_process.url, period_start="2031-01", units=json.dumps([UNKNOWN_UNIT], ensure_ascii=False))
    page.goto(link)
    wait_ready(page, timeout=60_000)
    notice = page.locator(".notyf__message")
    expect(notice.first).to_contain_text("已忽略", timeout=20_000)
    assert UNKNOWN_UNIT in notice.first.inner_text() and "2031-01" in notice.first.inner_text()
    page.wait_for_timeout(3000)  # the browser's second application of the address has arrived
    assert notice.count() == 1
    # The filters show what was applied: no unit, any period.
    expect(page.locator(".hb-filter-units .choices__list--multiple .choices__item")).to_have_count(0)
    assert page.locator(".hb-filter-period-start select").input_value() in ("", "不限")
    # The page has settled: the server idles.
    before = cpu_seconds(server_process.pid)
    time.sleep(3)
    assert cpu_seconds(server_process.pid) - before < 0.6
    expect(page.locator(".hb-kpi-found .hb-kpi-value")).to_be_visible()
    screenshot(page, "link-unknown-values")
    assert page.console_log.errors == []


def test_a_link_with_known_filters_applies_them_without_a_notice(server_process, page):
    page.goto(_link(server_process.url, page="hazards", period_start="2023-08",
                    units=json.dumps(["章贡区"], ensure_ascii=False)))
    wait_ready(page, timeout=60_000)
    expect(page.locator(".hb-filter-units")).to_contain_text("章贡区")
    page.wait_for_timeout(3000)
    assert page.locator(".notyf__message").count() == 0
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["period_start"] == ["2023-08"] and json.loads(query["units"][0]) == ["章贡区"]
    before = cpu_seconds(server_process.pid)
    time.sleep(3)
    assert cpu_seconds(server_process.pid) - before < 0.6
