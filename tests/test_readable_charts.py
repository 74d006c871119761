"""Every chart stays readable at province scale (100 units): no scientific notation on an axis, a
colour bar or in a hover, and a unit axis gives each unit a row a name fits in (or shows only the
top units). Frames are built synthetically at 100 units; the served pages are screenshotted by
``tests/browser/test_province_scale.py``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import holoviews as hv
import holoviews.plotting.mpl  # noqa: F401  (loaded as the exports load it, before any chart is defined)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import panel as pn
import param
import pytest
from bokeh.models import (
    Axis, BasicTickFormatter, CategoricalAxis, ColorBar, FactorRange, GlyphRenderer, HoverTool, NumeralTickFormatter,
)

from briefing.charts import FONT_SCALE, MIN_NAME_PT, _sized
from components.chart_style import ROW_PX, format_number
from components.charts_hazards import (
    SECTOR_COLORS,
    STATUS_COLORS,
    hazards_by_unit_bars,
    sector_status_bars,
    status_over_time_bars,
    unit_sector_heatmap,
)
from components.charts_indicators import increments_heatmap, spot_check_heatmap, unit_ranking_chart
from components.charts_overview import quota_bars
from components.county_map import county_choropleth
from components.i18n import sector_label
from components.live_charts import HeatmapChart, StackedBarChart
from loaders.reference import COUNTIES, SECTOR_KEYS
from metrics.hazards import STATUSES

ROOT = Path(__file__).resolve().parents[1]
UNITS = [f"第{i:03d}号测试县" for i in range(100)]
SCIENTIFIC = re.compile(r"\d(\.\d+)?e[+-]?\d", re.IGNORECASE)
# A row of a unit axis must hold a name in 12 px type.
MIN_ROW_PX = 14


@pytest.fixture(scope="module", autouse=True)
def backends():
    hv.extension("bokeh", "matplotlib", logo=False)


def _unit_sector_counts(units: int = 100) -> pd.DataFrame:
    """``units`` units × 4 sectors, the biggest unit first, up to ~4,000 hazards a unit."""
    return pd.DataFrame([(unit, sector, 1000 - 9 * i + j) for i, unit in enumerate(UNITS[:units])
                         for j, sector in enumerate(SECTOR_KEYS[:4])], columns=["unit", "sector", "count"])


def _statuses() -> pd.DataFrame:
    """Province-scale status counts: ~100,000 hazards by December."""
    return pd.DataFrame([(period, status, 12_000 * (k + 1) + 1_000 * s) for k, period in enumerate(("2023-10", "2023-11", "2023-12"))
                         for s, status in enumerate(STATUSES)], columns=["period", "status", "count"])


def _unit_values(scale: float = 1.0, units: int = 100) -> pd.DataFrame:
    return pd.DataFrame({"unit": UNITS[:units], "unit_type": ["department" if i % 7 == 0 else "county" for i in range(units)],
                         "period": "2023-12", "value": np.linspace(180_000.5, 3, units) * scale})


def _quota_progress(units: int = 100) -> pd.DataFrame:
    found = np.linspace(620, 12, units)
    return pd.DataFrame({"unit": UNITS[:units], "hazards_found": found, "behind_hazards": found < 30, "missing_periods": ""})


def _increments(units: int = 100) -> pd.DataFrame:
    rows = [(unit, period, "fines_wan", 1_500.25 * (i + 1), 40_000.5 + i, False, "")
            for i, unit in enumerate(UNITS[:units]) for period in ("2023-11", "2023-12")]
    return pd.DataFrame(rows, columns=["unit", "period", "key", "increment", "cumulative", "decrease", "gap_periods"])


def _spot_checks(units: int = 100) -> pd.DataFrame:
    return pd.DataFrame([(unit, category, 3 + i % 5, 40) for i, unit in enumerate(UNITS[:units])
                         for category in ("chk_head_no_study", "chk_no_drill")], columns=["unit", "category", "count", "checked"])


# Each chart of units, given how many units to draw.
UNIT_CHARTS = {
    "hazards by unit": lambda units: hazards_by_unit_bars(_unit_sector_counts(units)),
    "unit × sector": lambda units: unit_sector_heatmap(_unit_sector_counts(units)),
    "quota bars": lambda units: quota_bars(_quota_progress(units), 30),
    "ranking": lambda units: unit_ranking_chart(_unit_values(units=units), "fines_wan"),
    "increments heatmap": lambda units: increments_heatmap(_increments(units), "fines_wan"),
    "spot-check heatmap": lambda units: spot_check_heatmap(_spot_checks(units)),
}
NUMBER_CHARTS = {
    **UNIT_CHARTS,
    "status over time": lambda _units: status_over_time_bars(_statuses()),
    "sectors by status": lambda _units: sector_status_bars(pd.DataFrame(
        [(sector, status, 30_000 + 1_000 * s) for sector in SECTOR_KEYS[:5] for s, status in enumerate(STATUSES)],
        columns=["sector", "status", "count"])),
    "map": lambda _units: county_choropleth(pd.Series(np.linspace(250_000, 1_000, len(COUNTIES)), index=list(COUNTIES)), "隐患数"),
}


def _unit_range(figure) -> FactorRange:
    """The range of the unit axis: the categorical range with the most factors."""
    ranges = [r for r in (figure.x_range, figure.y_range) if isinstance(r, FactorRange)]
    return max(ranges, key=lambda r: len(r.factors))


def _numbers_read_in_thousands(figure) -> None:
    numeric = [axis for axis in figure.select(type=Axis) if not isinstance(axis, CategoricalAxis)]
    for axis in numeric:
        assert isinstance(axis.formatter, NumeralTickFormatter) and "0,0" in axis.formatter.format, axis
    for bar in figure.select(type=ColorBar):
        assert isinstance(bar.formatter, NumeralTickFormatter), bar
    assert not any(isinstance(model, BasicTickFormatter) for axis in numeric for model in [axis.formatter])


def test_format_number_never_writes_scientific_notation():
    assert format_number(100_000) == "100,000"
    assert format_number(1.5e7) == "15,000,000"
    assert format_number(1736.2) == "1,736.2"
    assert format_number(0.5) == "0.5" and format_number(0) == "0" and format_number(-0.0) == "0"


@pytest.mark.parametrize("name", sorted(UNIT_CHARTS))
def test_unit_axes_give_each_of_100_units_a_readable_row(name):
    figure = hv.render(UNIT_CHARTS[name](100), backend="bokeh")
    units = _unit_range(figure)
    assert len(units.factors) == 100
    # Units down the side (a name reads horizontally), each in a row a name fits in.
    assert units is figure.y_range
    assert figure.height / len(units.factors) >= MIN_ROW_PX


@pytest.mark.parametrize("name", sorted(NUMBER_CHARTS))
def test_axes_colour_bars_and_hovers_read_100_000_not_scientific(name):
    figure = hv.render(NUMBER_CHARTS[name](100), backend="bokeh")
    _numbers_read_in_thousands(figure)
    for hover in figure.select(type=HoverTool):
        for _label, spec in hover.tooltips if isinstance(hover.tooltips, list) else []:
            for field in re.findall(r"@\{?(\w+)\}?", spec):
                values = [v for r in figure.select(type=GlyphRenderer) if field in r.data_source.data
                          for v in r.data_source.data[field]]
                if values and all(isinstance(v, (int, float, np.number)) for v in values):
                    # Bokeh's default prints a non-integer past 1,000 as 1.736e+3: a numeral format instead.
                    assert "{0,0" in spec, (name, spec)


@pytest.mark.parametrize("name", sorted(NUMBER_CHARTS))
def test_matplotlib_exports_have_no_scientific_tick_labels(name):
    # The figures of 100 units on 20 (matplotlib takes ~10 s to stack 100 units' bars): the numbers are the point here.
    figure = hv.render(NUMBER_CHARTS[name](20), backend="matplotlib")
    try:
        figure.canvas.draw()
        texts = [label.get_text() for axes in figure.axes for axis in (axes.xaxis, axes.yaxis)
                 for label in [*axis.get_ticklabels(), axis.get_offset_text()]]
    finally:
        plt.close(figure)
    assert not [text for text in texts if SCIENTIFIC.search(text)], texts
    if name in ("status over time", "map"):
        assert any("," in text for text in texts), texts  # 100,000 and its kind


@pytest.mark.parametrize("chart", ["quota", "enforcement"])
def test_briefing_unit_charts_fit_100_units_on_a_page(chart):
    element = quota_bars(_quota_progress(), 30) if chart == "quota" else unit_ranking_chart(_unit_values(1e-3), "penalties")
    sized = _sized(chart, element)
    figure = hv.render(sized, backend="matplotlib")
    try:
        figure.canvas.draw()
        axes = figure.axes[0]
        names = [label for label in axes.get_yticklabels() if label.get_text()]
        values = [label.get_text() for label in axes.get_xticklabels()]
        assert len(names) == 100 and names[0].get_fontsize() >= MIN_NAME_PT
        assert not [text for text in values if SCIENTIFIC.search(text)]
        # One row per unit, none lost off the page: the names do not overlap.
        boxes = sorted(label.get_window_extent().y0 for label in names)
        assert min(np.diff(boxes)) >= names[0].get_fontsize() * figure.dpi / 72 * 0.9
    finally:
        plt.close(figure)


class _Frames(param.Parameterized):
    counts = param.DataFrame()
    statuses = param.DataFrame()


def _live_unit_charts(frames: _Frames) -> tuple[StackedBarChart, HeatmapChart]:
    sectors = {key: sector_label(key) for key in SECTOR_COLORS}
    bars = StackedBarChart(frames.param.counts, x="unit", stack="sector", labels=sectors, colors=SECTOR_COLORS, title="",
                           x_label="单位", stack_label="行业领域", y_label="隐患数", height=340, horizontal=True)
    heatmap = HeatmapChart(frames.param.counts, x="unit", y="sector", y_labels=sectors, title="", x_label="单位",
                           y_label="行业领域", value_label="隐患数", height=340, horizontal=True)
    return bars, heatmap


def test_live_unit_charts_give_each_of_100_units_a_row_and_shrink_with_the_filter():
    counts = _unit_sector_counts()
    frames = _Frames(counts=counts, statuses=_statuses())
    bars, heatmap = _live_unit_charts(frames)
    for chart in (bars, heatmap):
        figure = chart.figure
        assert chart.factor_range is figure.y_range
        assert list(figure.y_range.factors) == UNITS[::-1]  # the biggest unit on top
        assert figure.height / 100 >= MIN_ROW_PX and figure.height >= 100 * ROW_PX
        _numbers_read_in_thousands(figure)
    frames.counts = counts[counts["unit"].isin(UNITS[:3])]
    for chart in (bars, heatmap):
        assert list(chart.figure.y_range.factors) == UNITS[:3][::-1]
        assert chart.figure.height == 340
    # The source keeps the frame's roles: x the unit, whichever axis it is drawn on.
    assert set(bars.source.data["x"]) == set(heatmap.source.data["x"]) == set(UNITS[:3])


def test_live_status_chart_reads_100_000():
    frames = _Frames(counts=_unit_sector_counts(), statuses=_statuses())
    statuses = StackedBarChart(frames.param.statuses, x="period", stack="status",
                               labels={key: key for key in STATUSES}, colors=STATUS_COLORS, title="", x_label="月份",
                               stack_label="状态", y_label="隐患数", height=340)
    _numbers_read_in_thousands(statuses.figure)
    assert isinstance(statuses.figure.x_range, FactorRange)
    (hover,) = statuses.figure.select(type=HoverTool)
    assert hover.tooltips[-1][1].startswith("@$name{0,0")


def test_meeting_enforcement_shows_the_top_units_and_links_the_full_ranking(shared, monkeypatch):
    from dashboards import meeting

    monkeypatch.setattr(meeting, "TOP_UNITS", 5)
    screen = meeting.MeetingScreen(state=meeting.MeetingState(slide=4), shared=shared)
    slide = screen._enforcement("zh")
    (chart,) = slide.select(pn.pane.HoloViews)
    assert len(chart.object.get(0)) == 5
    note = next(pane.object for pane in slide.select(pn.pane.HTML) if "hb-top-note" in str(pane.object))
    assert "前 5 名" in note and "page=enforcement" in note
    # The filtered units stay on the screen whatever their rank.
    last = chart.object.get(0).data["unit"].iloc[0]
    screen.state.units = ["章贡区"]
    (chart,) = screen._enforcement("zh").select(pn.pane.HoloViews)
    assert "章贡区" in set(chart.object.get(0).data["unit"]) and last in set(chart.object.get(0).data["unit"])


def test_briefing_squeezes_100_units_without_a_plotting_extension():
    """``hazardboard brief`` never runs ``hv.extension``: sizing a chart of 100 units must not need it."""
    script = (
        "import numpy as np, pandas as pd\n"
        "from briefing.charts import _sized\n"
        "from components.charts_indicators import unit_ranking_chart\n"
        "values = pd.DataFrame({'unit': [f'单位{i:03d}' for i in range(100)], 'unit_type': 'county',"
        " 'period': '2023-12', 'value': np.arange(100.0)})\n"
        "print(_sized('enforcement', unit_ranking_chart(values, 'penalties')).get(1)"
        ".opts.get('style', backend='matplotlib').kwargs['size'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout) * FONT_SCALE >= MIN_NAME_PT
