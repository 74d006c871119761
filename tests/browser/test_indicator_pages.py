"""The 执法 and 培训与推动 pages in a real browser: they load cleanly, the selectors and bar clicks work."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, wait_ready

# Bokeh draws after the document is ready; give the canvases a moment.
RENDER_SETTLE_MS = 1500


def open_page(page, server: str, name: str, query: str = "") -> None:
    page.goto(f"{server}/?page={name}{query}")
    wait_ready(page)
    page.wait_for_timeout(RENDER_SETTLE_MS)


@pytest.mark.parametrize("name", ["enforcement", "training"])
def test_page_loads_without_errors(page, server, name):
    open_page(page, server, name)
    assert page.locator(".hb-indicator-totals .hb-card").count() > 0
    assert page.locator(".hb-indicator-select select").count() == 1
    assert page.locator(".hb-increments canvas").count() > 0
    screenshot(page, f"indicator-{name}")
    assert page.console_log.errors == []


def test_indicator_selector_redraws_the_charts(page, server):
    open_page(page, server, "enforcement")
    page.locator(".hb-indicator-select select").select_option(label="行政处罚（万元）")
    page.wait_for_timeout(RENDER_SETTLE_MS)
    # The value axis of the monthly chart now names the fines.
    page.wait_for_function("() => document.body.innerHTML.length > 0")
    assert page.locator(".hb-increments canvas").count() > 0
    assert page.console_log.errors == []


def test_clicking_a_bar_filters_to_that_unit(page, server):
    open_page(page, server, "enforcement")
    ranking = page.locator(".hb-ranking-ind_counties_zones").first
    ranking.scroll_into_view_if_needed()
    box = ranking.bounding_box()
    # The top bar (largest value) starts right of the unit names, just under the title.
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + 42)
    page.wait_for_url(re.compile(r"units="), timeout=10_000)
    page.wait_for_timeout(RENDER_SETTLE_MS)
    screenshot(page, "indicator-enforcement-unit-clicked")
    assert page.console_log.errors == []


def test_training_page_shows_media_columns_and_spot_checks(page, server):
    open_page(page, server, "training")
    assert page.locator(".hb-media-columns .hb-chip").count() > 0
    page.locator(".hb-spot-measure button", has_text="每百家抽查企业").click()
    page.wait_for_timeout(RENDER_SETTLE_MS)
    assert page.locator(".hb-spot-heatmap canvas").count() > 0
    assert page.console_log.errors == []


def test_sector_filter_shows_the_note(page, server):
    open_page(page, server, "enforcement", "&sectors=%5B%22fire%22%5D")
    assert page.locator(".hb-sector-note").first.is_visible()
