"""The overview page's charts as Bokeh figures: the campaign timeline and the quarterly quota bars.

They draw the same frames as the HoloViews definitions in ``charts_overview`` (``timeline_layers``,
``quota_frame``), which stay what exports, notebooks and the meeting screen draw. The overview is
the page every officer lands on: its three HoloViews charts took ~0.3 s of every session's server
time, ~0.5 s for a server's first visitor, most of the start-up budget (issue 11). A figure built
directly costs a few milliseconds, and the quota bars follow the quarter and the unit filter by
replacing their data in place. ``tests/test_overview_page.py`` checks both drawings show the same.
"""

from __future__ import annotations

import pandas as pd
from bokeh.models import ColumnDataSource, FactorRange, FixedTicker, HoverTool, Range1d, Span
from bokeh.plotting import figure

from components.chart_style import NUMERAL_FORMAT
from components.charts_overview import (
    BEHIND_COLOR, DEADLINE_COLOR, MILESTONE_COLOR, QUOTA_CHART_HEIGHT, TIMELINE_HEIGHT, TODAY_COLOR, TimelineLayers,
    quota_value_end,
)
from components.i18n import tr
from components.live_charts import LiveChart, category_figure, set_rows


def _text(plot, frame: pd.DataFrame, size: str, color: str, align: str = "center") -> None:
    plot.text(x="x", y="y", text="text", source=ColumnDataSource(frame[["x", "y", "text"]]), text_font_size=size,
              text_color=color, text_align=align, text_baseline="middle")


def _dashed_line(x: float, color: str) -> Span:
    """A vertical dashed line across the plot at ``x`` (today on the timeline, the quota on the bars)."""
    return Span(location=x, dimension="height", line_color=color, line_width=2, line_dash="dashed")


def timeline_figure(layers: TimelineLayers, lang: str = "zh"):
    """The campaign calendar: stages (hover: the stage and its dates), deadlines, milestones, today.
    No pan or zoom: the page scrolls under the mouse wheel."""
    plot = figure(height=TIMELINE_HEIGHT, sizing_mode="stretch_width", tools="", toolbar_location=None,
                  x_range=Range1d(*layers.xlim), y_range=Range1d(*layers.ylim), min_border_left=10)
    plot.xgrid.grid_line_color = plot.ygrid.grid_line_color = None
    plot.xaxis.ticker = FixedTicker(ticks=[x for x, _ in layers.xticks])
    plot.xaxis.major_label_overrides = {x: text for x, text in layers.xticks}
    plot.yaxis.ticker = FixedTicker(ticks=[y for y, _ in layers.yticks])
    plot.yaxis.major_label_overrides = {y: text for y, text in layers.yticks}
    stages = layers.stages.assign(color=[layers.stage_colors[stage] for stage in layers.stages["stage"]])
    bars = plot.quad(left="x0", right="x1", bottom="y0", top="y1", fill_color="color", line_color="white", line_width=2,
                     source=ColumnDataSource(stages))
    plot.add_tools(HoverTool(renderers=[bars], tooltips=[(tr("ov_stage", lang), "@stage"), (tr("ov_dates", lang), "@dates")]))
    _text(plot, layers.stage_labels, "12px", "#212121")
    plot.scatter(x="x", y="y", size=9, color=DEADLINE_COLOR, source=ColumnDataSource(layers.deadlines[["x", "y"]]))
    _text(plot, layers.deadline_labels, "10px", DEADLINE_COLOR)
    plot.segment(x0="x0", y0="y0", x1="x1", y1="y1", line_width=4, color=MILESTONE_COLOR,
                 source=ColumnDataSource(layers.milestones[["x0", "y0", "x1", "y1"]]))
    _text(plot, layers.milestone_labels, "11px", MILESTONE_COLOR, align="left")
    plot.add_layout(_dashed_line(layers.today_x, TODAY_COLOR))
    _text(plot, layers.today_label, "11px", TODAY_COLOR, align="right")
    return plot


class QuotaBarsChart(LiveChart):
    """Hazards each unit found in a quarter against the quota line, from a ``quota_frame`` parameter:
    one unit a row (the frame's first on top, ``chart_style.ROW_PX`` each), units behind in red,
    the value axis above the rows. The hover names the unit, the figure, the status and the months
    a provisional figure depends on."""

    def __init__(self, frame, *, quota: int, lang: str = "zh", **params):
        self._quota, self._lang = quota, lang
        super().__init__(frame, **params)

    def _build(self):
        lang = self._lang
        self.source.data = {"unit": [], "found": [], "status": [], "missing": [], "color": []}
        plot = category_figure(Range1d(0, self._quota * 1.15), FactorRange(), QUOTA_CHART_HEIGHT, None,
                       tr("ov_quarter_found", lang), "")
        plot.tools, plot.toolbar_location = [], None  # the page scrolls under the wheel: no pan or zoom
        plot.hbar(y="unit", right="found", height=0.8, fill_color="color", line_color=None, source=self.source)
        plot.add_layout(_dashed_line(self._quota, BEHIND_COLOR))
        plot.add_tools(HoverTool(tooltips=[
            (tr("ov_unit", lang), "@unit"), (tr("ov_quarter_found", lang), "@found{" + NUMERAL_FORMAT + "}"),
            (tr("ov_quota_status", lang), "@status"), (tr("ov_missing_months", lang), "@missing"),
        ]))
        return plot

    def _draw(self, frame: pd.DataFrame) -> None:
        self.source.data = {column: frame[column].to_numpy() for column in ("unit", "found", "status", "missing", "color")}
        set_rows(self.figure, [str(unit) for unit in frame["unit"]], QUOTA_CHART_HEIGHT)
        self.figure.x_range.end = quota_value_end(frame, self._quota)
