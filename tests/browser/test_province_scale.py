"""Every page and the meeting screen at province scale (100 units) on a 1600×1000 screen, in Chinese
and English: screenshots in ``tests/artifacts/province/``, no number in scientific notation (in the
page's text or on any chart axis, read from Bokeh's own axis views), and every unit axis gives each
unit a row a name fits in.

The dataset is the generator's ``province-quick`` scale (the province's 100 units, a few dozen hazards
each), of which only the last two months' workbooks are written and ingested: the fixture takes
~25 s of CPU (its wall time is in ``fixture-seconds.txt``) instead of the minutes of the full province set.
"""

from __future__ import annotations

import re
import time

import pytest

from components.state import PAGES
from dashboards.meeting import SLIDES, TOP_UNITS
from sample_data.generate import build_plan, write_plan
from tests.browser.conftest import ARTIFACTS, free_port, start_server, stop_server, wait_ready

SHOTS = ARTIFACTS / "province"
MONTHS = ("2023年11月", "2023年12月")  # the folders of the months written
UNITS = 100
SCIENTIFIC = re.compile(r"\d\.\d+e[+-]\d", re.IGNORECASE)
MIN_ROW_PX = 14

# For every Bokeh plot of the page: its CSS classes, the categorical ranges' factor counts and the
# pixels each factor has on screen; and every tick label of every axis as drawn, and the colour
# bars' formatters.
PLOTS_JS = """
() => {
  const plots = [], labels = [], colourbars = [];
  for (const view of Bokeh.index.all_views()) {
    const model = view.model, kind = model.constructor.__name__;
    if (kind === "Figure" || kind === "Plot") {
      const frame = view.frame.bbox;
      const ranges = {};
      for (const [axis, range, pixels] of [["x", model.x_range, frame.width], ["y", model.y_range, frame.height]]) {
        if (range.factors !== undefined) {
          ranges[axis] = {factors: range.factors.length, pixels_per_factor: pixels / Math.max(range.factors.length, 1)};
        }
      }
      plots.push({kind, classes: model.css_classes.join(" "), ranges});
    }
    if (kind.endsWith("Axis") && view.tick_coords !== undefined) {
      const ticks = view.tick_coords.major[view.dimension];
      try {
        labels.push(...model.formatter.doFormat(ticks, view).map(String));
      } catch (error) {
        labels.push(`<unreadable: ${error}>`);
      }
      for (const override of Object.values(model.major_label_overrides || {})) labels.push(String(override));
    }
    if (kind === "ColorBar") colourbars.push(model.formatter ? model.formatter.constructor.__name__ : "auto");
  }
  return {plots, labels, colourbars};
}
"""


@pytest.fixture(scope="module")
def province_server(tmp_path_factory):
    """A server on 100 units: the ``province-quick`` plan's last two months, written and ingested."""
    started = time.monotonic()
    plan = build_plan(1, "province-quick")
    plan.files = [file for file in plan.files if file.path.startswith(MONTHS)]
    data = tmp_path_factory.mktemp("province-data")
    write_plan(plan, data, workers=2, progress=lambda _line: None)
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("province-store"), port, data=[str(data)], log_name="server-province")
    process.url = f"http://localhost:{port}"
    # Kept beside the screenshots (not asserted: a loaded machine stretches it): ~25 s of CPU,
    # 3 s planning, 13 s writing 404 workbooks on two workers, 7 s ingesting them, the server's start.
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "fixture-seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
    yield process
    stop_server(process)


def _open(page, url: str) -> dict:
    page.goto(url)
    wait_ready(page, timeout=60_000)
    page.wait_for_timeout(300)  # the last layout after the websocket's quiet moment
    return page.evaluate(PLOTS_JS)


def _check(found: dict, page, where: str) -> list[dict]:
    """Assert no scientific notation (text, axes, colour bars); the plots that have a unit axis."""
    text = page.inner_text("body")
    assert not SCIENTIFIC.findall(text), (where, SCIENTIFIC.findall(text)[:5])
    assert not [label for label in found["labels"] if SCIENTIFIC.search(label) or label.startswith("<unreadable")], (
        where, [label for label in found["labels"] if SCIENTIFIC.search(label)][:5])
    assert all(kind == "NumeralTickFormatter" for kind in found["colourbars"]), (where, found["colourbars"])
    unit_plots = []
    for plot in found["plots"]:
        for axis, factors in plot["ranges"].items():
            if factors["factors"] < 30:  # months, sectors, a few units: not a unit axis at province scale
                continue
            unit_plots.append(plot)
            # Units read down the side, each with a row a 12 px name fits in.
            assert axis == "y", (where, plot)
            assert factors["pixels_per_factor"] >= MIN_ROW_PX, (where, plot)
    return unit_plots


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_reads_at_100_units(province_server, page, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    checked = {}
    for name in PAGES:
        found = _open(page, f"{province_server.url}/?page={name}&lang={lang}")
        page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"))
        checked[name] = _check(found, page, f"{name} ({lang})")
    # The pages whose charts list the units: all 100 on the hazards page's bars and heatmap, the
    # counties and zones on the overview's quotas and the enforcement page's ranking.
    assert {plot["classes"] for plot in checked["hazards"]} == {"hb-chart-by-unit", "hb-chart-heatmap"}
    assert all(plot["ranges"]["y"]["factors"] == UNITS for plot in checked["hazards"])
    assert checked["overview"] and checked["enforcement"]
    assert page.console_log.errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_meeting_screen_reads_at_100_units(province_server, page, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for slide, name in enumerate(SLIDES):
        found = _open(page, f"{province_server.url}/meeting?slide={slide}&lang={lang}")
        page.screenshot(path=str(SHOTS / f"meeting-{slide}-{name}-{lang}.png"))
        assert not _check(found, page, f"meeting {name} ({lang})")  # no unit axis past 30 units on a room's screen
        if name == "enforcement":
            (plot,) = [plot for plot in found["plots"] if "y" in plot["ranges"]]
            assert plot["ranges"]["y"]["factors"] == TOP_UNITS
            assert plot["ranges"]["y"]["pixels_per_factor"] >= 24  # read from across a meeting room
            link = page.locator(".hb-top-note a")
            assert "page=enforcement" in (link.get_attribute("href") or "")
    assert page.console_log.errors == []
