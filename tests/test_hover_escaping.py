"""Every hover tool the app draws shows workbook text as text (issue 8, point 1), without a browser.

Bokeh writes a tooltip field as text unless its format is ``{safe}`` or the tooltip is an HTML
template; then a unit name such as ``<img src=x onerror=…>`` would run. Each chart with a hover tool
is built from the sample campaign with markup before every unit name and rendered to its Bokeh
figure: its tooltips are plain field references, and the unit names reach the hovered data as
written (escaping them beforehand would show ``&lt;img`` in the tooltip). The browser test
``tests/browser/test_markup_is_text.py`` hovers the same charts on the served pages.
"""

from __future__ import annotations

import re

import holoviews as hv
import numpy as np
import pandas as pd
import param
import pytest
from bokeh.models import ColumnDataSource, GlyphRenderer, HoverTool

from components import charts_indicators as indicator_charts
from components.charts_hazards import SECTOR_COLORS, hazards_by_unit_bars, status_over_time_bars, unit_sector_heatmap
from components.charts_overview import campaign_timeline, quota_bars
from components.county_map import county_choropleth
from components.filters import hazard_index
from components.i18n import sector_label
from components.live_charts import HeatmapChart, StackedBarChart
from metrics import indicators as metrics
from metrics import overview
from metrics.hazards import status_by_period, unit_sector_counts
from tests.conftest import SAMPLE_AS_OF

MARKUP = '<img src=x onerror="alert(1)">'
FIELD = re.compile(r"@\{([^}]+)\}|@(\w+)")
# Charts whose tooltips show no workbook text: contract labels, periods, figures, the map's own county names.
WITHOUT_WORKBOOK_TEXT = {"status over time", "timeline", "map", "increments", "spot-check trend", "live status bars"}


class _Frames(param.Parameterized):
    counts = param.DataFrame()
    statuses = param.DataFrame()


def _marked(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(unit=MARKUP + frame["unit"].astype(str))


@pytest.fixture(scope="module")
def figures(shared, campaign) -> dict:
    """Every chart with a hover tool, as the Bokeh figure the page shows, units marked up."""
    hazards, indicators = _marked(campaign.unique_hazards), _marked(campaign.indicators)
    counts = unit_sector_counts(hazards)
    statuses = status_by_period(hazard_index(shared.snapshot), np.ones(len(hazards), dtype=bool))
    two_units = metrics.unit_values(indicators, "penalties").dropna(subset=["value"])["unit"].head(2).tolist()
    quarter = overview.quarter_progress(indicators, f"{SAMPLE_AS_OF.year - 1}Q4")
    elements = {
        "hazards by unit": hazards_by_unit_bars(counts),
        "unit × sector": unit_sector_heatmap(counts),
        "status over time": status_over_time_bars(statuses),
        "timeline": campaign_timeline(overview.campaign_stages(), overview.reporting_deadlines(),
                                      overview.campaign_milestones(), SAMPLE_AS_OF),
        "quota bars": quota_bars(quarter, 10),
        "map": county_choropleth(pd.Series(dtype=float), "隐患数"),
        "ranking": indicator_charts.unit_ranking_chart(metrics.unit_values(indicators, "penalties"), "penalties"),
        "increments": indicator_charts.increments_chart(metrics.increments_by_period(indicators, "penalties"), "penalties"),
        "increments heatmap": indicator_charts.increments_heatmap(metrics.monthly_increments(indicators, ["penalties"]),
                                                                 "penalties"),
        "comparison": indicator_charts.comparison_chart(metrics.comparison(indicators, "penalties", two_units), "penalties"),
        "spot-check heatmap": indicator_charts.spot_check_heatmap(metrics.spot_check_matrix(indicators)),
        "spot-check trend": indicator_charts.spot_check_trend_chart(metrics.spot_checks_by_period(indicators)),
    }
    drawn = {name: hv.render(element, backend="bokeh") for name, element in elements.items()}
    frames = _Frames(counts=counts.rename(columns={"unit": "x"}), statuses=statuses)
    sectors = {key: sector_label(key) for key in SECTOR_COLORS}
    drawn["live bars"] = StackedBarChart(
        frames.param.counts, x="x", stack="sector", labels=sectors, colors=SECTOR_COLORS, title="", x_label="单位",
        stack_label="行业领域", y_label="隐患数", height=300, horizontal=True).figure
    drawn["live heatmap"] = HeatmapChart(
        frames.param.counts, x="x", y="sector", y_labels=sectors, title="", x_label="单位", y_label="行业领域",
        value_label="隐患数", height=300, horizontal=True).figure
    drawn["live status bars"] = StackedBarChart(
        frames.param.statuses, x="period", stack="status", labels={"in_progress": "整改中"},
        colors={"in_progress": "#f9a825"}, title="", x_label="月份", stack_label="状态", y_label="隐患数", height=300).figure
    return drawn


def _hovered_values(figure, tool: HoverTool) -> list[str]:
    """The values of the fields the tool's tooltips show, over the data of the renderers it hovers."""
    renderers = tool.renderers if tool.renderers != "auto" else figure.select(type=GlyphRenderer)
    names = [match[0] or match[1] for _label, spec in tool.tooltips for match in FIELD.findall(spec)]
    values = []
    for renderer in renderers:
        source = renderer.data_source
        assert isinstance(source, ColumnDataSource)
        values += [str(value) for name in names if name in source.data for value in source.data[name]]
    return values


def test_every_hover_shows_its_fields_as_text_and_workbook_text_as_written(figures):
    for name, figure in figures.items():
        tools = figure.select(type=HoverTool)
        assert tools, f"{name}: no hover tool"
        for tool in tools:
            # A list of (label, field) pairs: Bokeh writes each field as text. An HTML template or a
            # {safe} format would write it as markup.
            assert isinstance(tool.tooltips, list), f"{name}: tooltips are a template: {tool.tooltips!r}"
            for label, spec in tool.tooltips:
                assert "{safe}" not in spec and "<" not in spec and "<" not in label, f"{name}: {label!r}: {spec!r}"
        values = [value for tool in tools for value in _hovered_values(figure, tool)]
        assert values, f"{name}: the tooltips show no field of the data"
        units = [value for value in values if value.startswith(MARKUP)]
        if name in WITHOUT_WORKBOOK_TEXT:
            assert units == [], name
        else:
            assert units, f"{name}: no unit name in the hovered fields: {values[:5]}"
        assert not any("&lt;" in value for value in values), f"{name}: text escaped before Bokeh writes it"
