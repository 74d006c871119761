"""The map page in a real browser: it loads cleanly, a click on a county or a zone filters, the measure switches."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from tests.browser.conftest import screenshot, wait_ready

from components.county_map import county_shapes

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

# Screen position of a map point: walks the rendered views to the map (the plot with
# a colour bar and no categorical axes) and converts with the plot's own scales.
MAP_POINT_JS = """
([x, y]) => {
  let found = null;
  function walk(view) {
    if (found || view == null) return;
    const model = view.model;
    if (view.frame && model.right && model.right.some((item) => item.type === "ColorBar") && !model.x_range.factors) {
      const rect = view.canvas_view.el.getBoundingClientRect();
      found = {x: rect.left + view.frame.x_scale.compute(x), y: rect.top + view.frame.y_scale.compute(y)};
      return;
    }
    if (view.children) for (const child of view.children()) walk(child);
  }
  for (const root of Object.values(Bokeh.index)) walk(root);
  return found;
}
"""


def _open(page, server: str, query: str = "") -> list[str]:
    """Open the map page; returns the list that collects requests which failed to load."""
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{server}/?page=map{query}")
    wait_ready(page)
    expect(page.locator(".hb-map-zones .tabulator-row").first).to_be_visible()
    return failed


def _url_param(page, name: str, default: str = "") -> str:
    return parse_qs(urlparse(page.url).query).get(name, [default])[0]


def _wait_for_units(page, units: list[str], timeout: float | None = None) -> None:
    """Wait until the URL holds exactly ``units`` (the server updates it a moment after a click)."""
    page.wait_for_function(
        "(units) => JSON.stringify(JSON.parse(new URLSearchParams(window.location.search).get('units') || '[]'))"
        " === JSON.stringify(units)", arg=units, timeout=timeout)


def _click_county(page, name: str) -> None:
    shape = next(shape for shape in county_shapes() if shape.name == name)
    position = page.evaluate(MAP_POINT_JS, [shape.label_x, shape.label_y])
    assert position, "the map is not drawn"
    page.mouse.click(position["x"], position["y"])


def _click_county_until(page, name: str, units: list[str], attempts: int = 3) -> None:
    """Click a county until the URL holds ``units``. Under the full suite's CPU load a tap on the
    map was once not acted on within 30 s (seen in CI, not alone); an officer would click again,
    and so does the test, at most ``attempts`` times. The effect itself is still asserted."""
    for _ in range(attempts - 1):
        _click_county(page, name)
        try:
            _wait_for_units(page, units, 10_000)
            return
        except Exception:  # noqa: BLE001 - not acted on: click again
            page.wait_for_timeout(500)
    _click_county(page, name)
    _wait_for_units(page, units)



def test_page_loads_with_map_zones_and_no_errors(page, server):
    failed = _open(page, server)
    expect(page.locator(".hb-map-measure")).to_contain_text("每百家企业隐患数")
    expect(page.locator(".hb-map-zones")).to_contain_text("蓉江新区")
    assert page.evaluate(MAP_POINT_JS, [0, 0]) is not None
    screenshot(page, "map-page")
    assert page.console_log.errors == [] and failed == []


def test_clicking_a_county_filters_every_page_and_a_second_click_clears_it(page, server):
    failed = _open(page, server)
    _click_county(page, "瑞金市")
    _wait_for_units(page, ["瑞金市"])
    expect(page.locator(".hb-filter-units")).to_contain_text("瑞金市")
    page.mouse.move(5, 5)  # no tooltip over the map in the picture
    page.wait_for_timeout(500)  # let the outline redraw first
    screenshot(page, "map-page-county-selected")

    _click_county(page, "瑞金市")
    _wait_for_units(page, [])

    _click_county_until(page, "章贡区", ["章贡区"])  # the small county in the middle of the city is clickable too
    assert page.console_log.errors == [] and failed == []


def test_clicking_a_zone_row_filters_to_the_zone(page, server):
    failed = _open(page, server)
    page.locator(".hb-map-zones .tabulator-cell", has_text="蓉江新区").click()
    _wait_for_units(page, ["蓉江新区"])
    assert page.console_log.errors == [] and failed == []


def test_measure_buttons_switch_the_measure_and_the_url_keeps_it(page, server):
    failed = _open(page, server)
    page.locator(".hb-map-measure button", has_text="逾期").click()
    page.wait_for_function("() => window.location.search.includes('measure')")
    assert _url_param(page, "measure") == "overdue"
    expect(page.locator(".hb-map-zones .tabulator-col-title", has_text="逾期")).to_be_visible()

    page.goto(f"{server}/?page=map&measure=per_100_enterprises&lang=en")
    wait_ready(page)
    expect(page.locator(".hb-map-zones .tabulator-col-title", has_text="Hazards per 100 enterprises")).to_be_visible()
    page.wait_for_timeout(500)
    screenshot(page, "map-page-english-per-100")
    assert page.console_log.errors == [] and failed == []


def test_a_filter_that_leaves_nothing_says_so(page, server):
    failed = _open(page, server)
    page.goto(f"{server}/?page=map&search=没有这样的企业名称")
    wait_ready(page)
    expect(page.locator(".hb-map-empty")).to_contain_text("没有隐患")
    screenshot(page, "map-page-empty")
    assert page.console_log.errors == [] and failed == []
