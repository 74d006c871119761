"""The overview page in a real browser: it loads cleanly, its cards follow a click in the
ranking, the quarter can be switched and the language changes every label."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

import components.ranking  # noqa: F401  (registers the quarter labels)
from components.i18n import tr
from tests.browser.conftest import click_row_until, screenshot, wait_ready
from tests.conftest import SAMPLE_CAMPAIGN



def _open(page, server: str, query: str = "") -> None:
    page.goto(f"{server}/?page=overview{query}")
    wait_ready(page)
    expect(page.locator(".hb-kpi-found .hb-kpi-value")).to_be_visible()


def _kpi(page, name: str) -> str:
    return page.locator(f".hb-kpi-{name} .hb-kpi-value").inner_text()


def test_overview_loads_with_cards_timeline_quotas_and_ranking(server, page):
    _open(page, server)
    expect(page.locator(".hb-kpi-found .hb-kpi-label")).to_have_text("发现重大隐患")
    assert re.fullmatch(r"[\d,]+", _kpi(page, "found"))
    assert re.fullmatch(r"[\d,]+\.\d{2}", _kpi(page, "fines"))
    expect(page.locator(".hb-kpi-rectified .hb-kpi-detail")).to_contain_text("整改率")
    expect(page.locator(".hb-timeline canvas").first).to_be_visible()
    expect(page.locator(".hb-quota-local canvas").first).to_be_visible()
    expect(page.locator(".hb-quota-summary")).to_contain_text("每季度")
    expect(page.locator(".hb-ranking-local .tabulator-row").first).to_be_visible()
    expect(page.locator(".hb-ranking-department .tabulator-row").first).to_be_visible()
    screenshot(page, "overview")
    assert page.console_log.errors == []


def test_clicking_a_ranked_county_filters_the_cards(server, page):
    _open(page, server)
    everything = _kpi(page, "found")
    first_row = page.locator(".hb-ranking-local .tabulator-row").first
    unit_cell = first_row.locator('.tabulator-cell[tabulator-field="单位"]')
    county = unit_cell.inner_text()
    hazards_found = first_row.locator('.tabulator-cell[tabulator-field="发现重大隐患（个）"]').inner_text()
    click_row_until(page, unit_cell, "() => JSON.parse(new URLSearchParams(location.search).get('units') || '[]').length === 1")
    expect(page.locator(".hb-kpi-found .hb-kpi-value")).to_have_text(hazards_found)
    assert hazards_found != everything
    expect(page.locator(".hb-kpi-scope")).to_contain_text("1 个单位")
    expect(page.locator(".hb-quota-summary")).to_be_visible()
    expect(page.locator(".hb-filter-units")).to_contain_text(county)
    screenshot(page, "overview-filtered")
    assert page.console_log.errors == []


def test_switching_quarter_and_language(server, page):
    _open(page, server)
    summary = page.locator(".hb-quota-behind")
    before = summary.inner_text()
    page.locator(".hb-quota-quarter button", has_text="第二季度").click()
    expect(summary).not_to_have_text(before)
    page.locator(".hb-lang button").click()
    expect(page.locator(".hb-kpi-found .hb-kpi-label")).to_have_text("Hazards found")
    expect(page.locator(".hb-ranking-local .tabulator-col-title", has_text="Rank")).to_be_visible()
    screenshot(page, "overview-en")
    assert page.console_log.errors == []


def test_quota_table_marks_a_provisional_quarter_figure_with_the_missing_month(server, page):
    """The sample's planted gap (manifest.json "cases.gap"): a unit's quarter figure that depends on a month
    it did not report is listed as provisional (暂定) with that month."""
    gap = json.loads((SAMPLE_CAMPAIGN / "manifest.json").read_text(encoding="utf-8"))["cases"]["gap"]
    _open(page, server)
    page.locator(".hb-quota-quarter button", has_text=tr(f"ov_quarter_{gap['quarter']}")).click()
    row = page.locator(f".hb-quota-provisional tr[data-unit='{gap['unit']}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("暂定")
    for month in gap["quarter_missing_periods"]:
        expect(row).to_contain_text(month)
    expect(page.locator(".hb-quota-provisional")).to_contain_text("缺报月份")
    screenshot(page, "overview-provisional")
    assert page.console_log.errors == []
