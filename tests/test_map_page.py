"""The map page (挂图作战) without a browser: figures per county, the choropleth, the map view, the page."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.mpl  # noqa: F401  (loaded as the exports load it, before any chart is defined)
import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.models import ColorBar
from panel.models.tabulator import CellClickEvent

from components.county_map import (
    CountyMap,
    county_at,
    county_choropleth,
    county_shapes,
    format_figure,
)
from components.state import DashboardState
from dashboards.pages import map as map_page
from loaders.reference import COUNTIES, ZONES
from metrics.filters import HazardFilter
from metrics.map import MEASURES, enterprises_by_unit, map_filter, unit_figures
from metrics.overview import latest_cumulative

TOOLTIP_LABELS = ["县市区", "隐患数", "未整改", "逾期", "督办", "每百家企业隐患数"]


@pytest.fixture
def state() -> DashboardState:
    return DashboardState(page="map")


def _polygons(overlay: hv.Overlay) -> hv.Polygons:
    return next(element for element in overlay if isinstance(element, hv.Polygons))


def _county_values(overlay: hv.Overlay) -> dict[str, float]:
    """County -> the value it is coloured by."""
    polygons = _polygons(overlay)
    return {data["county"]: data["value"] for data in polygons.data}


def _outlined(overlay: hv.Overlay) -> int:
    return len(next(element for element in overlay if type(element) is hv.Path).data)


def _label_texts(overlay: hv.Overlay) -> list[str]:
    return [text for element in overlay if isinstance(element, hv.Labels) for text in element.dimension_values("text")]


def _colorbar_title(overlay: hv.Overlay) -> str:
    figure = hv.renderer("bokeh").get_plot(overlay).state
    return figure.select_one({"type": ColorBar}).title


# --- metrics -----------------------------------------------------------------------------

def test_unit_figures_count_each_measure_per_unit_and_zero_for_units_without_hazards(campaign):
    unique = campaign.unique_hazards
    enterprises = enterprises_by_unit(latest_cumulative(campaign.indicators))
    figures = unit_figures(unique, enterprises, (*COUNTIES, *ZONES))
    assert list(figures.index) == [*COUNTIES, *ZONES]
    in_map = unique[unique["unit"].isin(figures.index)]
    assert figures["hazards"].sum() == len(in_map)
    assert figures["unrectified"].sum() == (in_map["status"] != "rectified").sum()
    assert figures["overdue"].sum() == in_map["overdue"].sum()
    assert figures["supervised"].sum() == (in_map["supervision_level"] != "none").sum()
    zhanggong = unique[unique["unit"] == "章贡区"]
    assert figures.loc["章贡区", "hazards"] == len(zhanggong)
    assert figures.loc["章贡区", "per_100_enterprises"] == pytest.approx(len(zhanggong) / enterprises["章贡区"] * 100)
    # A zone that never reported: no hazards, and no rate rather than a rate of 0.
    assert figures.loc["赣州高新区", "hazards"] == 0
    assert np.isnan(figures.loc["赣州高新区", "per_100_enterprises"])


def test_enterprises_are_the_latest_cumulative_form_value(campaign):
    enterprises = enterprises_by_unit(latest_cumulative(campaign.indicators))
    rows = campaign.indicators[(campaign.indicators["unit"] == "瑞金市") & (campaign.indicators["key"] == "enterprises")]
    assert enterprises["瑞金市"] == rows.sort_values("period")["cumulative"].iloc[-1]


def test_map_filter_drops_only_the_unit_part():
    spec = HazardFilter(units=("章贡区",), unit_type="county", sectors=("fire",), overdue_only=True)
    assert map_filter(spec) == HazardFilter(sectors=("fire",), overdue_only=True)


# --- the choropleth ------------------------------------------------------------------------

def test_boundaries_hold_the_18_counties_and_a_click_point_finds_its_county():
    shapes = county_shapes()
    assert sorted(shape.name for shape in shapes) == sorted(COUNTIES)
    assert county_shapes() is shapes  # read once per process
    for shape in shapes:
        assert county_at(shape.label_x, shape.label_y) == shape.name
    assert county_at(0.0, 0.0) is None


def test_counties_keep_their_shape_on_equal_axes():
    """x is longitude scaled by cos(latitude): the city's extent matches its ~250 km × ~300 km on the ground."""
    xs = np.concatenate([shape.x for shape in county_shapes()])
    ys = np.concatenate([shape.y for shape in county_shapes()])
    east_west_km = (xs.max() - xs.min()) * 111.3
    north_south_km = (ys.max() - ys.min()) * 111.3
    assert 245 < east_west_km < 290 and 280 < north_south_km < 310


def test_choropleth_colours_labels_outlines_and_tooltips():
    values = pd.Series({"章贡区": 12, "瑞金市": 3.5})
    details = pd.DataFrame({m: [1, 2] for m in MEASURES}, index=["章贡区", "瑞金市"])
    overlay = county_choropleth(values, "隐患数", selected=["瑞金市"], details=details)
    coloured = _county_values(overlay)
    assert coloured["章贡区"] == 12 and coloured["瑞金市"] == 3.5 and np.isnan(coloured["寻乌县"])
    assert _outlined(overlay) == 1
    assert "章贡区\n12" in _label_texts(overlay) and "瑞金市\n3.5" in _label_texts(overlay) and "寻乌县\n—" in _label_texts(overlay)
    plot = hv.renderer("bokeh").get_plot(overlay)
    polygons_plot = next(sub for sub in plot.subplots.values() if isinstance(sub.hmap.last, hv.Polygons))
    hover = next(tool for tool in polygons_plot.state.tools if tool.__class__.__name__ == "HoverTool")
    assert [label for label, _field in hover.tooltips] == TOOLTIP_LABELS
    assert _colorbar_title(overlay) == "隐患数"
    assert _outlined(county_choropleth(values, "隐患数")) == 0


def test_choropleth_without_details_shows_the_value_in_the_tooltip():
    overlay = county_choropleth(pd.Series({"章贡区": 2}), "逾期")
    assert _polygons(overlay).opts.get("plot", backend="bokeh").kwargs["hover_tooltips"] == [("县市区", "@county"), ("逾期", "@value_text")]


def test_choropleth_renders_with_matplotlib_for_briefings():
    overlay = county_choropleth(pd.Series({"章贡区": 12, "南康区": 40}), "隐患数", selected=["南康区"])
    figure = hv.render(overlay, backend="matplotlib")
    texts = {text.get_text() for axes in figure.axes for text in axes.texts}
    assert "南康区\n40" in texts
    colorbar_labels = {axes.get_ylabel() for axes in figure.axes}
    assert "隐患数" in colorbar_labels


def test_figures_are_formatted_for_officers():
    assert format_figure(1234) == "1,234"
    assert format_figure(3.14159) == "3.1"
    assert format_figure(float("nan")) == "—"


# --- the map view --------------------------------------------------------------------------

def test_map_follows_filters_but_always_shows_every_county(shared, campaign, state):
    view = CountyMap(state=state, shared=shared)
    unique = campaign.unique_hazards
    everything = _county_values(view.map[()])
    assert everything["章贡区"] == (unique["unit"] == "章贡区").sum()

    state.sectors = ["fire"]
    fire = _county_values(view.map[()])
    assert fire["章贡区"] == ((unique["unit"] == "章贡区") & (unique["sector"] == "fire")).sum()

    state.units = ["瑞金市"]  # the unit filter outlines the county, it does not hide the others
    assert _county_values(view.map[()]) == fire
    assert _outlined(view.map[()]) == 1
    assert view.figures.loc["章贡区", "hazards"] == fire["章贡区"]


def test_measure_switch_recolours_the_map_and_the_zones(shared, campaign, state):
    view = CountyMap(state=state, shared=shared)
    state.measure = "overdue"
    unique = campaign.unique_hazards
    assert _county_values(view.map[()])["于都县"] == unique.loc[unique["unit"] == "于都县", "overdue"].sum()
    assert view._measure_buttons.value == "overdue"
    assert list(view.zones.value.columns) == ["功能区", "逾期"]

    view._measure_buttons.value = "per_100_enterprises"
    assert state.measure == "per_100_enterprises"
    coloured = _county_values(view.map[()])
    assert coloured["于都县"] == pytest.approx(view.figures.loc["于都县", "per_100_enterprises"])
    assert _colorbar_title(view.map[()]) == "每百家企业隐患数"


def test_clicking_a_county_or_a_zone_toggles_the_unit_filter(shared, state):
    view = CountyMap(state=state, shared=shared)
    ruijin = next(shape for shape in county_shapes() if shape.name == "瑞金市")
    view._tap(x=ruijin.label_x, y=ruijin.label_y)
    assert state.units == ["瑞金市"]
    assert view.selected == ["瑞金市"]
    view._tap(x=ruijin.label_x, y=ruijin.label_y)
    assert state.units == []
    view._tap(x=0.0, y=0.0)  # outside the city: nothing happens
    assert state.units == []

    row = list(view.zones.value["功能区"]).index("蓉江新区")
    view.zones._process_event(CellClickEvent(model=None, column="功能区", row=row))
    assert state.units == ["蓉江新区"]
    assert view.zones.selection == [row]


def test_a_filter_that_matches_nothing_shows_the_empty_state(shared, state):
    view = CountyMap(state=state, shared=shared)
    layout = view.__panel__()
    empty = layout.select(pn.pane.Alert)[0]
    assert not empty.visible
    state.search = "没有这样的企业名称"
    assert view.figures["hazards"].sum() == 0
    assert empty.visible
    assert "没有隐患" in empty.object


def test_page_builds_in_english_too(shared, state):
    state.lang = "en"
    page = map_page.build(state, shared.snapshot, shared)
    markdown = " ".join(str(pane.object) for pane in page.select(pn.pane.Markdown))
    assert "Map · as of 2024-01-23" in markdown
    buttons = page.select(pn.widgets.RadioButtonGroup)[0]
    assert "Hazards per 100 enterprises" in buttons.options
    polygons = _polygons(page.select(pn.pane.HoloViews)[0].object[()])
    assert polygons.get_dimension("county").label == "County"


def test_a_replaced_page_stops_following_the_filters(shared, state):
    view = CountyMap(state=state, shared=shared)
    figures = view.figures
    state.lang = "en"  # the template rebuilds the page
    state.sectors = ["fire"]
    assert view.figures is figures
