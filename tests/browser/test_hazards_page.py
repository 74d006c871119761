"""The hazards page in a real browser: it loads cleanly, and the filters, chart clicks and table clicks work."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from tests.browser.conftest import click_row_until, screenshot, wait_ready

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

NO_DATA = "当前筛选条件下没有数据。"
SUMMARY = re.compile(r"共 (\d+) 条隐患")

# Screen position of a category on a Bokeh chart: walks the rendered views to the plot
# whose axes hold the factors and converts them with the plot's own scales.
FACTOR_POSITION_JS = """
([unit, sector]) => {
  // The unit charts list the units down the side: the bars (no categories across) and the
  // heatmap (the sectors across). The point is on the unit's row: at the start of its bar, or in
  // the sector's cell; the plot is scrolled into view first (its box scrolls within the page).
  let found = null;
  function walk(view) {
    if (found || view == null) return;
    const model = view.model;
    if (view.frame && model.y_range && model.y_range.factors && model.y_range.factors.includes(unit)
        && (sector === null ? !model.x_range.factors : (model.x_range.factors && model.x_range.factors.includes(sector)))) {
      view.canvas_view.el.scrollIntoView({block: "start"});
      const rect = view.canvas_view.el.getBoundingClientRect();
      const x = sector === null ? view.frame.bbox.left + 4 : view.frame.x_scale.compute(sector);
      found = {x: rect.left + x, y: rect.top + view.frame.y_scale.compute(unit)};
      return;
    }
    if (view.children) for (const child of view.children()) walk(child);
  }
  for (const root of Object.values(Bokeh.index)) walk(root);
  return found;
}
"""
PLOT_FACTORS_JS = """
() => {
  const plots = [];
  function walk(view) {
    if (view == null) return;
    const model = view.model;
    if (view.frame && model.x_range && (model.x_range.factors || (model.y_range && model.y_range.factors))) {
      plots.push({x: (model.x_range.factors || []).map(String), y: (model.y_range.factors || []).map(String)});
    }
    if (view.children) for (const child of view.children()) walk(child);
  }
  for (const root of Object.values(Bokeh.index)) walk(root);
  return plots;
}
"""


def _open(page, server: str, query: str = "") -> list[str]:
    """Open the hazards page; returns the list that collects requests which failed to load."""
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{server}/?page=hazards{query}")
    wait_ready(page)
    expect(page.locator(".hb-hazards-summary")).to_contain_text("条隐患")
    return failed


def _total(page) -> int:
    return int(SUMMARY.search(page.locator(".hb-hazards-summary p").inner_text()).group(1))


def _query(page) -> str:
    return unquote(urlparse(page.url).query)


def _url_units(page) -> list[str]:
    """The units in the URL (lists are JSON there)."""
    return json.loads(parse_qs(urlparse(page.url).query).get("units", ["[]"])[0])


def _bars_units(page) -> list[str]:
    """Units down the bars chart, top first (the plot with categories down and counts across)."""
    plots = page.evaluate(PLOT_FACTORS_JS)
    return next(plot["y"][::-1] for plot in plots if plot["y"] and not plot["x"])


def _heatmap_factors(page) -> tuple[list[str], list[str]]:
    """Units down (top first) and sectors across the heatmap (the only plot with categories on both axes)."""
    plot = next(plot for plot in page.evaluate(PLOT_FACTORS_JS) if plot["y"] and plot["x"])
    return plot["y"][::-1], plot["x"]


def _table_column(page, field: str, first_value: str) -> set[str]:
    """The values of a table column on the current page, once the table shows ``first_value`` first
    (the table redraws a moment after the summary)."""
    cells = page.locator(f".hb-hazard-table .tabulator-cell[tabulator-field='{field}']")
    expect(cells.first).to_have_text(first_value)
    return set(cells.all_inner_texts())


def _click_factor(page, unit: str, sector: str | None = None) -> None:
    position = page.evaluate(FACTOR_POSITION_JS, [unit, sector])
    assert position, f"no chart shows {unit!r}"
    page.mouse.click(position["x"], position["y"])


def test_page_loads_with_charts_table_and_no_errors(page, server):
    failed = _open(page, server)
    assert _total(page) > 0
    for chart in ("hb-chart-by-unit", "hb-chart-heatmap", "hb-chart-status"):
        expect(page.locator(f".{chart} canvas").first).to_be_visible()
    table = page.locator(".hb-hazard-table")
    expect(table.locator(".tabulator-col-title", has_text="企业（项目）")).to_be_visible()
    expect(table.locator(".tabulator-col-title", has_text="剩余/逾期天数")).to_be_visible()
    expect(table.locator(".tabulator-row")).to_have_count(20)
    expect(table.locator(".tabulator-paginator")).to_contain_text("下一页")
    expect(page.locator(".hb-hazard-detail")).to_contain_text("点击表格中的一条隐患")
    page.set_viewport_size({"width": 1600, "height": 2600})
    screenshot(page, "hazards")
    assert page.console_log.errors == [] and failed == []


def test_clicking_a_table_row_opens_the_hazard_detail(page, server):
    failed = _open(page, server)
    first_row = page.locator(".hb-hazard-table .tabulator-row").first
    enterprise = first_row.locator(".tabulator-cell[tabulator-field='enterprise']").inner_text()
    click_row_until(page, first_row.locator(".tabulator-cell[tabulator-field='enterprise']"),
                    "() => Boolean(new URLSearchParams(location.search).get('hazard'))")
    detail = page.locator(".hb-hazard-detail")
    expect(detail).to_contain_text(enterprise)
    expect(detail).to_contain_text("整改历程")
    expect(detail).to_contain_text("数据来源")
    expect(detail.locator(".hb-detail-history table")).to_be_visible()
    assert "hazard=" in page.url
    page.set_viewport_size({"width": 1600, "height": 2600})
    screenshot(page, "hazards-detail")
    detail.locator(".hb-detail-close button").click()
    expect(detail).to_contain_text("点击表格中的一条隐患")
    assert page.console_log.errors == [] and failed == []


def test_search_filter_narrows_the_table_and_goes_into_the_url(page, server):
    failed = _open(page, server)
    everything = _total(page)
    search = page.locator(".hb-filter-search input")
    search.fill("燃气")
    search.press("Enter")
    expect(page.locator(".hb-hazards-summary")).not_to_contain_text(f"共 {everything} 条")
    assert 0 < _total(page) < everything
    assert "search=燃气" in _query(page)

    page.locator(".hb-filter-reset button").click()
    expect(page.locator(".hb-hazards-summary")).to_contain_text(f"共 {everything} 条")
    expect(search).to_have_value("")
    assert page.console_log.errors == [] and failed == []


def test_clicking_a_bar_filters_to_its_unit_and_a_second_click_clears_it(page, server):
    failed = _open(page, server)
    everything = _total(page)
    unit = _bars_units(page)[0]
    _click_factor(page, unit)
    expect(page.locator(".hb-filter-units")).to_contain_text(unit)
    expect(page.locator(".hb-hazards-summary")).not_to_contain_text(f"共 {everything} 条")
    assert _table_column(page, "unit", unit) == {unit}
    assert _url_units(page) == [unit]

    _click_factor(page, unit)
    expect(page.locator(".hb-hazards-summary")).to_contain_text(f"共 {everything} 条")
    assert page.console_log.errors == [] and failed == []


def test_clicking_a_heatmap_cell_filters_to_its_unit_and_sector(page, server):
    failed = _open(page, server)
    units, sectors = _heatmap_factors(page)
    # The unit with most hazards (first bar) surely has fire hazards: the cell is not empty.
    unit, sector = _bars_units(page)[0], "消防"
    assert unit in units and sector in sectors and units == _bars_units(page)
    _click_factor(page, unit, sector)
    expect(page.locator(".hb-filter-units")).to_contain_text(unit)
    expect(page.locator(".hb-filter-sectors")).to_contain_text(sector)
    assert _table_column(page, "sector", sector) == {sector}
    assert _table_column(page, "unit", unit) == {unit}
    assert page.console_log.errors == [] and failed == []


def test_a_filter_that_leaves_nothing_says_so(page, server):
    failed = _open(page, server, "&search=不可能出现的关键词")
    expect(page.get_by_text(NO_DATA)).to_have_count(4)
    expect(page.locator(".hb-filter-search input")).to_have_value("不可能出现的关键词")
    screenshot(page, "hazards-empty")
    assert page.console_log.errors == [] and failed == []
