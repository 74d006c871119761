"""挂图作战: the county choropleth of 赣州市 and the map view of the dashboard.

``county_choropleth`` is a pure function from figures per county to a HoloViews
overlay (county polygons coloured by a measure, county names with their figure, the
selected counties outlined), drawn in Bokeh on screen and in matplotlib for briefing
exports. ``CountyMap`` is the session's view: measure buttons, the map, and the
functional zones (which have no boundary of their own) as a table beside it; a click
on a county or a zone filters every page to it.

The boundaries are plain lon/lat polygons (``sample_data/geo``, read once per
process). Longitudes are scaled by cos(latitude) of the city's centre, so with equal
axis scaling the counties keep their true shape without a map projection library.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
from collections.abc import Collection
from dataclasses import dataclass

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.core.spaces import Callable
from matplotlib.path import Path as PolygonPath

from components.chart_style import bokeh_backend, for_matplotlib, readable_numbers
from components.data import CampaignSnapshot, SharedCampaign
from components.i18n import register_labels, tr
from components.kpi import format_count, latest_for, report_period
from components.page_view import PageView
from components.read_only_table import ReadOnlyTable
from components.state import FILTER_PARAMS
from loaders.reference import COUNTIES, ZONES
from metrics.filters import filter_mask
from metrics.map import MEASURES, enterprises_by_unit, map_filter, unit_figures

bokeh_backend()  # chart options can only be set for a loaded backend

register_labels({
    "map_county": ("县市区", "County"),
    "map_zone": ("功能区", "Zone"),
    "map_measure_hazards": ("隐患数", "Hazards"),
    "map_measure_unrectified": ("未整改", "Not rectified"),
    "map_measure_overdue": ("逾期", "Overdue"),
    "map_measure_supervised": ("督办", "Supervised"),
    "map_measure_per_100_enterprises": ("每百家企业隐患数", "Hazards per 100 enterprises"),
    "map_zones_heading": ("功能区（无行政区划边界）", "Functional zones (no boundary of their own)"),
    "map_click_hint": ("点击县市区或功能区可按该单位筛选全部页面，再次点击取消。",
                       "Click a county or a zone to filter every page to it; click again to clear."),
    "map_notes": ("批注", "Notes"),
    "map_no_hazards": ("当前筛选条件下没有隐患，地图无可显示的数据。", "No hazards match this filter: nothing to show on the map."),
})

# Latitude of the city's centre (赣州市 spans 24.5°–27.2° N): one degree of longitude there is
# cos(25.8°) ≈ 0.90 of a degree of latitude on the ground.
CENTRE_LATITUDE = 25.8
LONGITUDE_SCALE = math.cos(math.radians(CENTRE_LATITUDE))
MAP_HEIGHT_PX = 620
COLOR_MAP = "OrRd"
MISSING_COLOR = "#e0e0e0"
BORDER_COLOR = "#ffffff"
SELECTED_COLOR = "#0d47a1"
LABEL_COLOR = "#212121"
LABEL_ON_DARK_COLOR = "#ffffff"
# Share of the colour scale above which the fill is dark enough to need white labels.
DARK_FILL_SHARE = 0.6
MISSING = "—"
# matplotlib's default font has no Chinese glyphs. These rc settings apply to the map's figure only; the
# family is named outright (not "sans-serif") because texts keep it from creation to the later savefig.


@dataclass(frozen=True)
class CountyShape:
    """One county's boundary ring in map coordinates (x = lon·cos(25.8°), y = lat) and its label point."""

    name: str
    adcode: str
    x: np.ndarray
    y: np.ndarray
    label_x: float
    label_y: float

    @functools.cached_property
    def path(self) -> PolygonPath:
        return PolygonPath(np.column_stack([self.x, self.y]))


def _label_point(x: np.ndarray, y: np.ndarray, steps: int = 40) -> tuple[float, float]:
    """The point inside the ring farthest from its boundary (on a grid): a label there stays inside
    the county even where the shape is concave, unlike at the centroid."""
    grid_x, grid_y = np.meshgrid(np.linspace(x.min(), x.max(), steps), np.linspace(y.min(), y.max(), steps))
    candidates = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    candidates = candidates[PolygonPath(np.column_stack([x, y])).contains_points(candidates)]
    distances = np.hypot(candidates[:, :1] - x, candidates[:, 1:] - y).min(axis=1)
    best = candidates[distances.argmax()]
    return float(best[0]), float(best[1])


@functools.cache
def county_shapes() -> tuple[CountyShape, ...]:
    """The 18 county boundaries of the bundled GeoJSON, read once per process."""
    source = importlib.resources.files("sample_data") / "geo" / "ganzhou_counties.geojson"
    shapes = []
    for feature in json.loads(source.read_text(encoding="utf-8"))["features"]:
        ring = np.asarray(feature["geometry"]["coordinates"][0], dtype=float)
        x, y = ring[:, 0] * LONGITUDE_SCALE, ring[:, 1]
        label_x, label_y = _label_point(x, y)
        properties = feature["properties"]
        shapes.append(CountyShape(properties["name"], properties["adcode"], x, y, label_x, label_y))
    return tuple(shapes)


def county_at(x: float, y: float) -> str | None:
    """The county whose boundary contains the map point (x, y), if any."""
    return next((shape.name for shape in county_shapes() if shape.path.contains_point((x, y))), None)


def _map_bounds(margin: float = 0.03) -> tuple[tuple[float, float], tuple[float, float]]:
    xs = np.concatenate([shape.x for shape in county_shapes()])
    ys = np.concatenate([shape.y for shape in county_shapes()])
    return (xs.min() - margin, xs.max() + margin), (ys.min() - margin, ys.max() + margin)


def measure_name(measure: str, lang: str = "zh") -> str:
    return tr(f"map_measure_{measure}", lang)


def format_figure(value: float) -> str:
    """A figure as officers read it: whole numbers without decimals (counts), others with one (rates)."""
    if pd.isna(value):
        return MISSING
    return format_count(value) if float(value).is_integer() else f"{value:,.1f}"


def _labels(frame: pd.DataFrame, color: str) -> hv.Labels:
    return for_matplotlib(hv.Labels(frame, ["x", "y"], "text").opts(text_font_size="11px", text_color=color, backend="bokeh"),
                          size=8, color=color)


def _county_polygons(records: list[dict], vdims: list, tooltips: list[tuple[str, str]]) -> hv.Polygons:
    return for_matplotlib(hv.Polygons(records, vdims=vdims).opts(
        line_color=BORDER_COLOR, line_width=1, tools=["hover"], hover_tooltips=tooltips, backend="bokeh",
    ), edgecolor=BORDER_COLOR, linewidth=0.8)


def county_choropleth(
    values: pd.Series,
    measure_label: str,
    selected: Collection[str] | None = None,
    details: pd.DataFrame | None = None,
    lang: str = "zh",
    badges: dict[str, str] | None = None,
) -> hv.Overlay:
    """The counties coloured by ``values`` (indexed by county name; a county missing from it is grey).

    ``measure_label`` titles the colour bar; ``selected`` counties get a thick outline;
    ``details`` (indexed by county, columns among ``metrics.map.MEASURES``) adds those
    figures to the hover tooltip, which otherwise shows the value alone; ``badges`` (county → text,
    e.g. "✎2" for its annotations) follow the county's name in its label.
    """
    shapes = county_shapes()
    names = [shape.name for shape in shapes]
    values = values.reindex(names).astype(float)
    tooltip_columns = [c for c in (details.columns if details is not None else ()) if c in MEASURES]
    detail_rows = details.reindex(names) if details is not None else None
    polygons = []
    for position, shape in enumerate(shapes):  # one record per county (18), not per hazard
        record = {"x": shape.x, "y": shape.y, "county": shape.name, "value": values.iloc[position],
                  "value_text": format_figure(values.iloc[position])}
        for column in tooltip_columns:
            record[f"{column}_text"] = format_figure(detail_rows[column].iloc[position])
        polygons.append(record)
    vdims = [hv.Dimension("value", label=measure_label), hv.Dimension("county", label=tr("map_county", lang)),
             "value_text", *(f"{column}_text" for column in tooltip_columns)]
    tooltips = [(tr("map_county", lang), "@county")] + (
        [(measure_name(column, lang), f"@{column}_text") for column in tooltip_columns]
        if tooltip_columns else [(measure_label, "@value_text")]
    )
    top = float(np.nanmax(values.to_numpy())) if values.notna().any() else 0.0
    xlim, ylim = _map_bounds()
    frame_width = round(MAP_HEIGHT_PX * (xlim[1] - xlim[0]) / (ylim[1] - ylim[0]))
    colours = {"color": "value", "cmap": COLOR_MAP, "colorbar": True, "clabel": measure_label,
               "clim": (0, max(top, 1.0)), "clipping_colors": {"NaN": MISSING_COLOR}}
    counties = for_matplotlib(_county_polygons(polygons, vdims, tooltips).opts(**colours, backend="bokeh"), **colours)
    chosen = [{"x": shape.x, "y": shape.y} for shape in shapes if selected and shape.name in selected]
    outline = for_matplotlib(hv.Path(chosen).opts(color=SELECTED_COLOR, line_width=4, backend="bokeh"),
                             color=SELECTED_COLOR, linewidth=3)
    label_frame = pd.DataFrame({
        "x": [shape.label_x for shape in shapes], "y": [shape.label_y for shape in shapes],
        "text": [f"{shape.name}{(badges or {}).get(shape.name, '')}\n{record['value_text']}"
                 for shape, record in zip(shapes, polygons)],
    })
    on_dark_fill = (values / max(top, 1.0)).fillna(0).to_numpy() > DARK_FILL_SHARE
    labels = _labels(label_frame[~on_dark_fill], LABEL_COLOR) * _labels(label_frame[on_dark_fill], LABEL_ON_DARK_COLOR)
    return readable_numbers(for_matplotlib((counties * outline * labels).opts(
        frame_height=MAP_HEIGHT_PX, frame_width=frame_width, xaxis=None, yaxis=None, show_grid=False,
        toolbar=None, xlim=xlim, ylim=ylim, backend="bokeh",
    ), fig_inches=7, aspect="equal", xaxis=None, yaxis=None, xlim=xlim, ylim=ylim))


# The map ignores the unit part of the filter (it shows every county); a unit change only moves the outline.
_FIGURE_PARAMS = tuple(name for name in FILTER_PARAMS if name not in ("units", "unit_type"))
MAP_UNITS = (*COUNTIES, *ZONES)


def enterprises_for(snapshot: CampaignSnapshot, period: str | None) -> pd.Series:
    """Enterprises per unit from the forms up to ``period``, computed once per snapshot for every session."""
    return snapshot.derived(("map_enterprises", period), lambda: enterprises_by_unit(latest_for(snapshot, period)))


class CountyMap(PageView):
    """The session's map: measure buttons, the county choropleth and the zones table, following the filters."""

    shared = param.ClassSelector(class_=SharedCampaign)
    figures = param.DataFrame(doc="metrics.map.unit_figures of the counties and zones for the session's filter")
    measure = param.Selector(default=MEASURES[0], objects=list(MEASURES))
    selected = param.List(default=[], item_type=str, doc="Units of the unit filter, outlined on the map")
    badges = param.Dict(default={}, doc="Unit → annotation badge (\"✎2\") shown after its name")

    def __init__(self, **params):
        state = params["state"]
        params = {"snapshot": params["shared"].snapshot, "measure": state.measure, "selected": list(state.units), **params}
        super().__init__(**params)
        lang = self.state.lang
        self._measure_buttons = pn.widgets.RadioButtonGroup(
            options={measure_name(m, lang): m for m in MEASURES}, value=self.measure,
            color="primary", variant="outline", css_classes=["hb-map-measure"],
        )
        self._measure_buttons.param.watch(lambda event: setattr(self.state, "measure", event.new), "value")
        # The Tap stream is one of the map's own streams: HoloViews attaches a stream given a
        # DynamicMap of overlays as its source to no plot, so clicks would never arrive.
        tap = hv.streams.Tap()
        tap.add_subscriber(self._tap)
        self._book = self._feed = None
        if self.shared.store is not None:  # a read-only dataset (notebook, tests) has no annotations
            from components.annotation_panel import book_for, feed_for

            self._book, self._feed = book_for(self.shared), feed_for(self.state, self.shared)
        self.map = hv.DynamicMap(Callable(self._draw, memoize=False),
                                 streams=[hv.streams.Params(self, ["figures", "measure", "selected", "badges"]), tap])
        self.zones = ReadOnlyTable(
            pd.DataFrame(), show_index=False, selectable=True, layout="fit_data_stretch",
            width=300, css_classes=["hb-map-zones"],
        )
        self.zones.on_click(lambda event: self.state.toggle_unit(self.zones.value.iloc[event.row, 0]))
        self._refresh_figures()
        self.follow(self.state, _FIGURE_PARAMS, self._refresh_figures)
        self.follow(self.state, ("measure",), self._follow_measure)
        self.follow(self.state, ("units",), lambda: setattr(self, "selected", list(self.state.units)))
        if self._feed is not None:
            self._refresh_badges()
            self.follow(self._feed, ("revision",), self._refresh_badges)

    def _refresh_badges(self) -> None:
        from components.annotation_panel import unit_badge_text

        counts = self._book.unit_counts(self.snapshot)
        self.badges = {unit: unit_badge_text(unit, counts) for unit in MAP_UNITS if counts.get(unit)}

    def _follow_measure(self) -> None:
        self.measure = self._measure_buttons.value = self.state.measure

    def _refresh_figures(self) -> None:
        unique = self.snapshot.campaign.unique_hazards
        mask = filter_mask(unique, map_filter(self.state.hazard_filter), self.snapshot.search_text)
        enterprises = enterprises_for(self.snapshot, report_period(self.state, self.snapshot))
        self.figures = unit_figures(unique[mask], enterprises, MAP_UNITS, scope_unit=self.snapshot.scope_unit)

    @param.depends("figures", "measure", "selected", "badges", watch=True, on_init=False)
    def _refresh_zones(self) -> None:
        lang = self.state.lang
        zones = self.figures.loc[list(ZONES)]
        value = pd.DataFrame({
            tr("map_zone", lang): list(ZONES), measure_name(self.measure, lang): zones[self.measure].map(format_figure).to_numpy(),
        })
        if any(self.badges.get(zone) for zone in ZONES):
            value[tr("map_notes", lang)] = [self.badges.get(zone, "") for zone in ZONES]
        self.zones.value = value
        self.zones.selection = [i for i, zone in enumerate(ZONES) if zone in self.selected]

    def _draw(self, figures: pd.DataFrame, measure: str, selected: list[str], badges: dict | None = None,
              **_tap_position) -> hv.Overlay:
        counties = figures.loc[list(COUNTIES)]
        return county_choropleth(counties[measure], measure_name(measure, self.state.lang), selected,
                                 details=counties[list(MEASURES)], lang=self.state.lang, badges=badges)

    def _tap(self, x: float | None = None, y: float | None = None) -> None:
        county = county_at(x, y) if x is not None and y is not None else None
        if county is not None:
            self.state.toggle_unit(county)

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        has_hazards = pn.bind(lambda figures: bool(figures["hazards"].sum()), self.param.figures)
        empty = pn.pane.Alert(tr("map_no_hazards", lang), alert_type="light", css_classes=["hb-map-empty"],
                              visible=pn.bind(lambda shown: not shown, has_hazards))
        zones = pn.Column(f"#### {tr('map_zones_heading', lang)}", self.zones, width=320)
        body = pn.Row(pn.pane.HoloViews(self.map, css_classes=["hb-map"]), zones, visible=has_hazards)
        hint = pn.pane.Markdown(tr("map_click_hint", lang), styles={"color": "#666"}, margin=(0, 10))
        notes = []
        if self._book is not None:
            from components.annotation_panel import unit_notes

            notes = [unit_notes(self.state, self.snapshot, self.shared)]
        return pn.Column(self._measure_buttons, hint, *notes, empty, body, sizing_mode="stretch_width")
