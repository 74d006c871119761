"""Charts that a filter change updates in place: stacked bars and a heatmap as Bokeh figures.

The HoloViews definitions (``charts_hazards``) stay what exports and notebooks draw. A view
that follows every filter change of every session cannot afford them: at province scale a
HoloViews re-render cost ~80 ms of server time a chart, sent the categories as ~190 KB of
JSON strings per change, and re-laid out each plot in the browser. These figures are built
once per page; a change replaces only their data source and factor ranges (numbers go out
as binary arrays), so it costs a few milliseconds on the server.

Both read the same aggregated frames (``metrics.hazards``) and take the same labels and
colours, so a chart looks the same whichever way it is drawn (``tests/test_hazards_page.py``
compares their counts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd
import panel as pn
import param
from bokeh.models import (
    ColorBar, ColumnDataSource, DataRange1d, FactorRange, HoverTool, Legend, LegendItem, LinearColorMapper,
    NumeralTickFormatter,
)
from bokeh.palettes import Reds256
from bokeh.plotting import figure

from components.chart_style import NUMERAL_FORMAT, rows_height
from components.page_view import Lifecycle

# The tools HoloViews gives its Bokeh plots, plus the two these charts use.
TOOLS = "tap,pan,wheel_zoom,box_zoom,reset,save"


def category_figure(x_range, y_range, height: int, title: str, x_label: str, y_label: str, x_above: bool | None = None):
    """A figure whose categorical axis (x or y, the one given a ``FactorRange``) lists names and whose
    numeric axis reads 100,000 (never Bokeh's default 1.000e+5). A chart with its categories down
    the side (``horizontal``) has its x axis above the rows (``x_above``), where a scrolled box keeps it in view first."""
    horizontal = isinstance(y_range, FactorRange) and not isinstance(x_range, FactorRange)
    above = horizontal if x_above is None else x_above
    plot = figure(x_range=x_range, y_range=y_range, height=height, title=title, tools=TOOLS, toolbar_location="above",
                  sizing_mode="stretch_width", min_border_left=10, x_axis_location="above" if above else "below")
    plot.xaxis.axis_label, plot.yaxis.axis_label = x_label, y_label
    if not isinstance(x_range, FactorRange):
        plot.xaxis.formatter = NumeralTickFormatter(format=NUMERAL_FORMAT)
    elif not horizontal and not isinstance(y_range, FactorRange):
        plot.xaxis.major_label_orientation = math.pi / 4
    if not isinstance(y_range, FactorRange):
        plot.yaxis.formatter = NumeralTickFormatter(format=NUMERAL_FORMAT)
    (plot.ygrid if horizontal else plot.xgrid).grid_line_color = None
    return plot


class LiveChart(pn.viewable.Viewer):
    """A Bokeh figure drawn from a DataFrame parameter of another object and redrawn in place
    when that parameter changes; a tap on a glyph calls ``on_tap`` with that glyph's row.

    A subclass defines ``_build()`` (the figure, drawing from ``self.source``) and
    ``_draw(frame)`` (the frame into ``self.source`` and the figure's factor ranges)."""

    def __init__(self, frame: param.Parameter, on_tap: Callable[[dict], None] | None = None,
                 css_class: str = "", visible: bool | param.Parameter = True, x_factors: param.Parameter | None = None,
                 lifecycle: Lifecycle | None = None, **params):
        """``visible``: a boolean or a boolean parameter of another object (e.g. ``owner.param.has_rows``).
        ``x_factors``: a list parameter of the same owner giving the x categories (those without
        rows stay as empty slots); by default the frame's x values, in its order. The owner
        should set it in the same ``param.update`` as the frame.
        ``lifecycle``: the owner of the chart's watchers on those objects (the page's, so a rebuilt
        page leaves none behind); by default the chart's own."""
        super().__init__(**params)
        self._frame_owner, self._frame_name = frame.owner, frame.name
        self._x_factors = x_factors
        self._on_tap = on_tap
        self.lifecycle = lifecycle if lifecycle is not None else Lifecycle()
        self.source = ColumnDataSource()
        self.figure = self._build()
        # The pane hands the figure itself to the page, so the figure carries the class.
        self.figure.css_classes = [css_class] if css_class else []
        shown = visible if isinstance(visible, param.Parameter) else None
        self._pane = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", css_classes=[css_class] if css_class else [])
        # Shown and hidden through a box around the pane: a Bokeh pane whose own ``visible`` changes
        # re-reads its figure's properties, and once the figure is on a page its stylesheets are
        # objects the pane refuses (TypeError on every filter change that hid or showed the chart).
        self._box = pn.Column(self._pane, sizing_mode="stretch_width", margin=0,
                              visible=bool(getattr(shown.owner, shown.name)) if shown is not None else visible)
        if shown is not None:
            def show() -> None:
                self._box.visible = bool(getattr(shown.owner, shown.name))

            self.lifecycle.follow(shown.owner, (shown.name,), show)
        self._draw(getattr(self._frame_owner, self._frame_name))
        self.lifecycle.watch(self._frame_owner, lambda event: self._redraw(event.new), self._frame_name)
        if on_tap is not None:
            self.lifecycle.on_change(self.source.selected, "indices", self._tapped)

    def _x_order(self, values: pd.Series) -> list[str]:
        if self._x_factors is not None:
            return [str(value) for value in getattr(self._x_factors.owner, self._x_factors.name)]
        return [str(value) for value in pd.unique(values)]

    def _redraw(self, frame: pd.DataFrame) -> None:
        self._draw(frame)
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            # In a notebook the figure's document is not a server session's: push the change.
            pn.io.push_notebook(self._pane)

    def _tapped(self, _attr, _old, new: list[int]) -> None:
        if not new:
            return
        row = {column: values[new[0]] for column, values in self.source.data.items()}
        # The selection would dim the other glyphs; the filter the tap sets is the feedback.
        self.source.selected.indices = []
        self._on_tap(row)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._box


class StackedBarChart(LiveChart):
    """Counts per x category stacked by a second category, from a long frame ``x, stack, count``.

    Every stack category is always drawn (zeros included), so each keeps its colour and its
    place in the legend whatever the filter. ``horizontal``: the categories down the side, the
    frame's first on top, ``chart_style.ROW_PX`` each (the figure grows with them: at least ``height``);
    the source's ``x`` column holds the categories either way.
    """

    def __init__(self, frame: param.Parameter, *, x: str, stack: str, labels: Mapping[str, str],
                 colors: Mapping[str, str], title: str, x_label: str, stack_label: str, y_label: str, height: int,
                 horizontal: bool = False, **params):
        self._x, self._stack = x, stack
        self._labels, self._colors = dict(labels), dict(colors)
        self._title, self._x_label, self._y_label, self._height = title, x_label, y_label, height
        self._stack_label = stack_label
        self._horizontal = horizontal
        super().__init__(frame, **params)

    def _build(self):
        columns = list(self._labels.values())
        self.source.data = {"x": [], **{column: [] for column in columns}}
        colours = [self._colors[key] for key in self._labels]
        if self._horizontal:
            plot = category_figure(DataRange1d(start=0), FactorRange(), self._height, self._title, self._y_label, self._x_label)
            renderers = plot.hbar_stack(columns, y="x", height=0.8, source=self.source, line_color="white",
                                        color=colours, name=columns)
        else:
            plot = category_figure(FactorRange(), DataRange1d(start=0), self._height, self._title, self._x_label, self._y_label)
            renderers = plot.vbar_stack(columns, x="x", width=0.8, source=self.source, line_color="white",
                                        color=colours, name=columns)
        plot.add_tools(HoverTool(tooltips=[(self._x_label, "@x"), (self._stack_label, "$name"),
                                           (self._y_label, "@$name{" + NUMERAL_FORMAT + "}")]))
        items = [LegendItem(label=label, renderers=[renderer]) for label, renderer in zip(columns, renderers, strict=True)]
        # Vertical stacks: the top of the stack first; horizontal ones read left to right.
        legend = Legend(items=items if self._horizontal else items[::-1], click_policy="hide")
        plot.add_layout(legend, "right")
        return plot

    @property
    def factor_range(self) -> FactorRange:
        """The categorical range (the y range of a horizontal chart)."""
        return self.figure.y_range if self._horizontal else self.figure.x_range

    def _draw(self, frame: pd.DataFrame) -> None:
        order = self._x_order(frame[self._x])
        # One row per (x, stack) pair in the aggregated frames, so a plain unstack (pivot_table is 5× slower).
        wide = (frame.assign(**{self._x: frame[self._x].astype(str)}).set_index([self._x, self._stack])["count"]
                .unstack(fill_value=0).reindex(index=order, columns=list(self._labels), fill_value=0))
        self.source.data = {"x": order, **{label: wide[key].to_numpy() for key, label in self._labels.items()}}
        if self._horizontal:
            set_rows(self.figure, order, self._height)
        else:
            self.figure.x_range.factors = order


def set_rows(plot, order: list[str], minimum: int) -> None:
    """The categories of a horizontal chart, the first on top (Bokeh draws the first factor at the
    bottom), and the height that gives each ``chart_style.ROW_PX``; unchanged values are not sent again."""
    factors = order[::-1]
    if list(plot.y_range.factors) != factors:
        plot.y_range.factors = factors
    height = rows_height(len(order), minimum)
    if plot.height != height:
        plot.height = height


class HeatmapChart(LiveChart):
    """Counts on a grid of two categories from a long frame ``x, y, count``: every y category of
    ``y_labels`` always (its first on top, or first on the left when ``horizontal``).

    ``horizontal``: the x categories (units) down the side, the frame's first on top, ``chart_style.ROW_PX``
    each, and the fixed y categories across the top; otherwise the chart keeps its height
    whatever the filter. The source's ``x`` and ``y`` columns keep the frame's roles either way.
    """

    def __init__(self, frame: param.Parameter, *, x: str, y: str, y_labels: Mapping[str, str], title: str,
                 x_label: str, y_label: str, value_label: str, height: int, horizontal: bool = False, **params):
        self._x, self._y, self._y_labels = x, y, dict(y_labels)
        self._title, self._x_label, self._y_label, self._value_label = title, x_label, y_label, value_label
        self._height = height
        self._horizontal = horizontal
        super().__init__(frame, **params)

    def _build(self):
        self.source.data = {"x": [], "y": [], "count": []}
        self._mapper = LinearColorMapper(palette=Reds256[::-1], low=0, high=1)
        fixed = list(self._y_labels.values())
        bar = ColorBar(color_mapper=self._mapper, label_standoff=8, formatter=NumeralTickFormatter(format=NUMERAL_FORMAT))
        if self._horizontal:
            plot = category_figure(FactorRange(factors=fixed), FactorRange(), self._height, self._title, self._y_label, self._x_label,
                           x_above=True)
            plot.xaxis.major_label_orientation = math.pi / 8  # English sector names are long: "Hazardous chemicals"
            plot.rect(x="y", y="x", width=1, height=1, source=self.source, line_color=None,
                      fill_color={"field": "count", "transform": self._mapper})
            bar.orientation, bar.height, bar.width = "horizontal", 10, 240
            plot.add_layout(bar, "above")
        else:
            # Bokeh puts the first factor at the bottom.
            plot = category_figure(FactorRange(), FactorRange(factors=fixed[::-1]), self._height, self._title, self._x_label,
                           self._y_label)
            plot.xaxis.major_label_orientation = math.pi / 4
            plot.rect(x="x", y="y", width=1, height=1, source=self.source, line_color=None,
                      fill_color={"field": "count", "transform": self._mapper})
            plot.add_layout(bar, "right")
        plot.add_tools(HoverTool(tooltips=[(self._x_label, "@x"), (self._y_label, "@y"),
                                           (self._value_label, "@count{" + NUMERAL_FORMAT + "}")]))
        plot.xgrid.grid_line_color = plot.ygrid.grid_line_color = None
        return plot

    @property
    def factor_range(self) -> FactorRange:
        """The range of the x categories (the y range of a horizontal chart)."""
        return self.figure.y_range if self._horizontal else self.figure.x_range

    def _draw(self, frame: pd.DataFrame) -> None:
        columns = frame[self._x].astype(str)
        rows = frame[self._y].map(self._y_labels).fillna(frame[self._y]).astype(str)
        self.source.data = {"x": columns.to_numpy(), "y": rows.to_numpy(), "count": frame["count"].to_numpy()}
        self._mapper.high = max(int(frame["count"].max()) if len(frame) else 1, 1)
        if self._horizontal:
            set_rows(self.figure, self._x_order(columns), self._height)
        else:
            self.figure.x_range.factors = self._x_order(columns)
