"""The hazards page without a browser: metrics, charts, the filter panel, the table, the detail, the page wiring."""

from __future__ import annotations

import datetime as dt

import holoviews as hv
import holoviews.plotting.mpl  # noqa: F401  (loaded as the exports load it, before any chart is defined)
import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.plotting import figure as Figure
from panel.models.tabulator import CellClickEvent

from components.charts_hazards import (
    CHART_HEIGHT,
    hazards_by_unit_bars,
    status_over_time_bars,
    unit_sector_heatmap,
)
from components.filters import FilterPanel, HazardSelection, hazard_index
from components.hazard_detail import HazardDetail
from components.hazard_table import HazardTable, days_text, display_rows
from components.state import DashboardState
from dashboards.pages import hazards as hazards_page
from metrics.hazards import (
    STATUSES,
    hazard_history,
    registry_entry,
    selected_unit_sector_counts,
    status_by_period,
    unit_sector_counts,
)
from tests.conftest import SAMPLE_AS_OF


@pytest.fixture
def state() -> DashboardState:
    return DashboardState(page="hazards")


def _registered_hazard(campaign) -> pd.Series:
    """A hazard of an enterprise on the notice-board registry, reported in several periods."""
    unique = campaign.unique_hazards
    candidates = unique[unique["enterprise"].isin(campaign.registry["enterprise"]) & (unique["periods_reported"] > 1)]
    return candidates.iloc[0]


# --- metrics -----------------------------------------------------------------------------

def test_unit_sector_counts_add_up_and_put_the_biggest_unit_first(campaign):
    counts = unit_sector_counts(campaign.unique_hazards)
    assert counts["count"].sum() == len(campaign.unique_hazards)
    per_unit = counts.groupby("unit", sort=False)["count"].sum()
    assert per_unit.iloc[0] == per_unit.max()
    assert unit_sector_counts(campaign.unique_hazards.iloc[:0]).empty


@pytest.mark.parametrize("seed", range(5))
def test_counts_from_the_index_equal_counts_of_the_selected_hazards(shared, campaign, seed):
    unique = campaign.unique_hazards
    selected = np.random.default_rng(seed).random(len(unique)) < [0.0, 0.01, 0.3, 0.9, 1.0][seed]
    index = hazard_index(shared.snapshot)
    order = ["章贡区", "于都县"]  # the other units after these two
    for unit_order in (None, order):
        expected = unit_sector_counts(unique[selected], unit_order)
        got = selected_unit_sector_counts(index, selected, unit_order)
        assert got.astype(object).values.tolist() == expected.astype(object).values.tolist()


def test_status_by_period_counts_each_hazard_in_every_period_it_was_reported(shared, campaign):
    index = hazard_index(shared.snapshot)
    everything = status_by_period(index, np.ones(len(campaign.unique_hazards), dtype=bool))
    expected = campaign.hazards.drop_duplicates(["hazard_id", "period"]).groupby(["period", "status"]).size()
    assert everything.set_index(["period", "status"])["count"].loc[expected.index].tolist() == expected.tolist()
    assert set(everything["status"]) == set(STATUSES)

    one_unit = (campaign.unique_hazards["unit"] == "章贡区").to_numpy()
    counts = status_by_period(index, one_unit)
    ids = campaign.unique_hazards.loc[one_unit, "hazard_id"]
    rows = campaign.hazards[campaign.hazards["hazard_id"].isin(ids)].drop_duplicates(["hazard_id", "period"])
    assert counts["count"].sum() == len(rows)
    assert status_by_period(index, np.zeros(len(one_unit), dtype=bool))["count"].sum() == 0


def test_hazard_history_lists_its_periods_in_order(shared, campaign):
    hazard = _registered_hazard(campaign)
    history = hazard_history(hazard_index(shared.snapshot), hazard["hazard_id"])
    assert len(history) == hazard["periods_reported"]
    assert history["period"].is_monotonic_increasing
    assert history["period"].iloc[-1] == hazard["period"]
    assert hazard_history(hazard_index(shared.snapshot), "no-such-hazard").empty


def test_registry_entry_matches_the_normalised_enterprise_name(shared, campaign):
    index = hazard_index(shared.snapshot)
    listed = campaign.registry.iloc[0]
    loosely_written = f" {listed['enterprise'][:3]} {listed['enterprise'][3:]}。"
    entry = registry_entry(index, loosely_written)
    assert entry["leader"] == listed["leader"] and entry["leader_phone"] == listed["leader_phone"]
    assert registry_entry(index, "没有这家企业") is None
    assert registry_entry(index, "") is None


def test_hazard_index_is_built_once_per_snapshot(shared):
    assert hazard_index(shared.snapshot) is hazard_index(shared.snapshot)


# --- charts --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def charts(shared, campaign):
    counts = unit_sector_counts(campaign.unique_hazards)
    statuses = status_by_period(hazard_index(shared.snapshot), np.ones(len(campaign.unique_hazards), dtype=bool))
    return {
        "bars": lambda lang: hazards_by_unit_bars(counts, lang),
        "heatmap": lambda lang: unit_sector_heatmap(counts, lang),
        "status": lambda lang: status_over_time_bars(statuses, lang),
    }


@pytest.mark.parametrize("name", ["bars", "heatmap", "status"])
@pytest.mark.parametrize("backend", ["bokeh", "matplotlib"])
def test_each_chart_renders_in_both_backends(charts, name, backend):
    assert hv.render(charts[name]("zh"), backend=backend) is not None


def test_charts_speak_chinese_by_default_and_english_on_request(charts):
    bars = charts["bars"]("zh")
    assert bars.kdims[0].label == "单位" and bars.vdims[0].label == "隐患数"
    assert "消防" in set(bars.dimension_values("sector"))
    english = charts["bars"]("en")
    assert english.kdims[0].label == "Units" and "Fire" in set(english.dimension_values("sector"))
    assert set(charts["status"]("zh").dimension_values("status")) == {"已整改", "整改中", "未整改"}


@pytest.mark.parametrize("draw", [hazards_by_unit_bars, unit_sector_heatmap])
def test_charts_of_an_empty_selection_still_render(campaign, draw):
    assert hv.render(draw(unit_sector_counts(campaign.unique_hazards.iloc[:0])), backend="bokeh") is not None


# --- filter panel and selection -----------------------------------------------------------------

def test_filter_widgets_and_state_follow_each_other(shared, state):
    panel = FilterPanel(state=state, shared=shared)
    widgets = panel._widgets
    assert list(widgets["units"].options.values()) == shared.snapshot.units  # labels escaped, values the names
    assert widgets["sectors"].options["消防"] == "fire"

    widgets["units"].value = ["章贡区"]
    widgets["search"].value = "燃气"
    widgets["deadline_start"].value = dt.date(2023, 8, 1)
    assert state.units == ["章贡区"] and state.search == "燃气" and state.deadline_start == dt.date(2023, 8, 1)

    state.toggle_unit("于都县")
    state.param.update(statuses=["not_started"], period_start="2023-07", overdue_only=True)
    assert widgets["units"].value == ["于都县"] and widgets["statuses"].value == ["not_started"]
    assert widgets["period_start"].value == "2023-07" and widgets["overdue_only"].value is True

    panel._reset.clicks += 1
    assert state.hazard_filter.is_empty
    assert widgets["units"].value == [] and widgets["search"].value == "" and widgets["deadline_start"].value is None


def test_filter_panel_relabels_on_language_switch(shared, state):
    panel = FilterPanel(state=state, shared=shared)
    state.lang = "en"
    assert panel._widgets["units"].label == "Units"
    assert "Fire" in panel._widgets["sectors"].options
    assert panel._reset.label == "Reset filters"


def test_selection_applies_the_filter_once_for_the_session(shared, state, campaign):
    selection = HazardSelection.for_session(state, shared)
    assert HazardSelection.for_session(state, shared) is selection
    assert len(selection.hazards) == len(campaign.unique_hazards)
    state.units = ["章贡区"]
    assert set(selection.hazards["unit"]) == {"章贡区"}
    assert selection.mask.sum() == (campaign.unique_hazards["unit"] == "章贡区").sum()


# --- table and detail ------------------------------------------------------------------------------

def test_table_rows_follow_the_filter_and_show_an_empty_state(shared, state, campaign):
    table = HazardTable(state=state, selection=HazardSelection.for_session(state, shared))
    assert len(table._table.value) == len(campaign.unique_hazards)
    assert table._table.pagination == "remote" and table._table.page_size == 20
    assert table._table.titles["enterprise"] == "企业（项目）"

    state.param.update(sectors=["fire"], overdue_only=True)
    rows = table._table.value
    assert len(rows) and set(rows["sector"]) == {"消防"} and (rows["days_to_deadline"] < 0).all()

    state.search = "不可能出现的关键词"
    assert table._table.value.empty and table._empty.visible and not table._table.visible


def test_rows_the_browser_sends_back_after_a_filter_change_neither_fail_nor_change_the_table(shared, state):
    # In a notebook the browser echoes the table's rows; arriving after a filter change they are stale,
    # and Panel's Tabulator raised on them, which kept the county map from receiving its new figures.
    table = HazardTable(state=state, selection=HazardSelection.for_session(state, shared))
    _, stale_page = table._table._get_data()
    state.param.update(units=["章贡区"], sectors=["fire"])
    shown = table._table.value.copy()
    assert 0 < len(shown) < len(stale_page["index"])  # fewer rows than the page the browser still has
    table._table._process_events({"data": stale_page})
    pd.testing.assert_frame_equal(table._table.value, shown)
    # Paging still comes through from the browser.
    state.param.update(units=[], sectors=[])
    table._table._process_events({"page": 2})
    assert table._table.page == 2


def test_display_rows_label_every_hazard(campaign):
    rows = display_rows(campaign.unique_hazards, "zh")
    assert len(rows) == len(campaign.unique_hazards)
    assert set(rows["status"]) <= {"已整改", "整改中", "未整改"}
    assert rows.loc[campaign.unique_hazards["status"] == "rectified", "days_to_deadline"].isna().all()
    assert days_text(-30, "zh") == "逾期 30 天" and days_text(12, "zh") == "剩余 12 天" and days_text(None, "zh") == ""


def test_clicking_a_table_row_opens_its_detail(shared, state):
    table = HazardTable(state=state, selection=HazardSelection.for_session(state, shared))
    table._table.page = 2
    table._table._process_event(CellClickEvent(model=None, column="enterprise", row=3))
    assert state.hazard == table._table.value["hazard_id"].iloc[20 + 3]


def _markdown_text(view) -> str:
    return "\n".join(str(pane.object) for pane in view.select(pn.pane.Markdown))


def test_detail_shows_history_deadline_leader_and_source(shared, state, campaign):
    hazard = _registered_hazard(campaign)
    detail = HazardDetail(state=state, snapshot=shared.snapshot)
    assert "点击表格中的一条隐患" in str(detail._render("").objects[1].object)

    view = detail._render(hazard["hazard_id"])
    text = _markdown_text(view)
    leader = campaign.registry.set_index("enterprise").loc[hazard["enterprise"], "leader"]
    assert hazard["enterprise"] in text and leader in text
    assert hazard["source_file"] in text and f"第 {hazard['source_row']} 行" in text
    history = view.select(pn.pane.DataFrame)[0].object
    assert list(history.columns) == ["报送月份", "整改进展", "整改状态"]
    assert len(history) == hazard["periods_reported"]
    assert "没有这条隐患" in str(detail._render("no-such-hazard").objects[1].object)


def test_detail_counts_days_overdue_from_the_snapshot_date(shared, state, campaign):
    overdue = campaign.unique_hazards[campaign.unique_hazards["overdue"]].iloc[0]
    text = _markdown_text(HazardDetail(state=state, snapshot=shared.snapshot)._render(overdue["hazard_id"]))
    days = (pd.Timestamp(SAMPLE_AS_OF) - overdue["deadline"]).days
    assert f"逾期 {days} 天" in text


# --- the page ---------------------------------------------------------------------------------------

def _page_charts(page) -> dict[str, Figure]:
    """The page's live Bokeh figures by their CSS class."""
    return {pane.object.css_classes[0]: pane.object for pane in page.select(pn.pane.Bokeh)}


def _data(figure: Figure) -> dict:
    return figure.renderers[0].data_source.data


def _units(figure: Figure) -> list[str]:
    """The units a unit chart lists down its side, top first (Bokeh's first factor is at the bottom)."""
    return list(figure.y_range.factors)[::-1]


def _tap(figure: Figure, row: int) -> None:
    """What a click on a glyph does: the browser selects its row of the data source."""
    figure.renderers[0].data_source.selected.indices = [row]


def test_page_charts_follow_the_filter(shared, state):
    page = hazards_page.build(state, shared.snapshot, shared)
    charts = _page_charts(page)
    assert set(charts) == {"hb-chart-by-unit", "hb-chart-heatmap", "hb-chart-status"}
    state.unit_type = "department"
    selection = HazardSelection.for_session(state, shared)
    assert set(_units(charts["hb-chart-by-unit"])) == set(selection.hazards["unit"])
    assert all(unit.startswith("市") for unit in _units(charts["hb-chart-by-unit"]))
    assert set(_units(charts["hb-chart-heatmap"])) == set(selection.hazards["unit"])
    bars = _data(charts["hb-chart-by-unit"])
    assert sum(sum(bars[column]) for column in bars if column != "x") == len(selection.hazards)
    statuses = _data(charts["hb-chart-status"])
    expected = status_by_period(hazard_index(shared.snapshot), selection.mask)
    assert sum(sum(statuses[column]) for column in statuses if column != "x") == expected["count"].sum()


def test_units_keep_the_dataset_order_whatever_the_filter(shared, state, campaign):
    page = hazards_page.build(state, shared.snapshot, shared)
    bars = _page_charts(page)["hb-chart-by-unit"]
    everything = _units(bars)
    assert everything == list(unit_sector_counts(campaign.unique_hazards)["unit"].unique())
    # A hazard filter keeps every unit's column: the units left without hazards show empty.
    state.overdue_only = True
    overdue = campaign.unique_hazards[campaign.unique_hazards["overdue"]]
    assert _units(bars) == everything
    data = _data(bars)
    totals = dict(zip(data["x"], np.sum([data[column] for column in data if column != "x"], axis=0), strict=True))
    assert totals == {unit: int((overdue["unit"] == unit).sum()) for unit in everything}
    one = campaign.unique_hazards.iloc[0]
    state.param.update(overdue_only=False, search=one["enterprise"])
    assert _units(bars) == everything
    data = _data(bars)
    totals = dict(zip(data["x"], np.sum([data[column] for column in data if column != "x"], axis=0), strict=True))
    assert totals[one["unit"]] > 0 and sum(value == 0 for value in totals.values()) == len(everything) - 1
    state.search = ""
    # The unit filters narrow the columns, in the same order.
    state.unit_type = "county"
    counties = set(campaign.unique_hazards.loc[campaign.unique_hazards["unit_type"] == "county", "unit"])
    assert _units(bars) == [unit for unit in everything if unit in counties]
    assert _units(_page_charts(page)["hb-chart-heatmap"]) == _units(bars)


def test_bars_and_heatmap_share_one_count_per_filter_change(shared, state, monkeypatch):
    counted = []

    def counting(index, selected, unit_order=None):
        counted.append(int(selected.sum()))
        return selected_unit_sector_counts(index, selected, unit_order)

    monkeypatch.setattr(hazards_page, "selected_unit_sector_counts", counting)
    charts = _page_charts(hazards_page.build(state, shared.snapshot, shared))
    counted.clear()
    state.units = ["章贡区"]
    assert counted == [len(HazardSelection.for_session(state, shared).hazards)]
    assert set(_data(charts["hb-chart-by-unit"])["x"]) == set(_data(charts["hb-chart-heatmap"])["x"]) == {"章贡区"}


def test_charts_update_their_figures_in_place(shared, state):
    page = hazards_page.build(state, shared.snapshot, shared)
    page.get_root(Document())
    before = _page_charts(page)
    assert len(_units(before["hb-chart-by-unit"])) > 1
    sectors = list(before["hb-chart-heatmap"].x_range.factors)
    heights = {name: before[name].height for name in before}
    # One unit a row: 29 units make the unit charts taller than their minimum.
    assert heights["hb-chart-by-unit"] == heights["hb-chart-heatmap"] > CHART_HEIGHT
    state.search = "消防"  # a filter that keeps the units keeps the charts' rows and heights
    assert {name: _page_charts(page)[name].height for name in before} == heights
    state.param.update(search="", units=["章贡区"])
    after = _page_charts(page)
    assert all(after[name] is before[name] for name in before)
    assert _units(after["hb-chart-by-unit"]) == ["章贡区"]
    assert _units(after["hb-chart-heatmap"]) == ["章贡区"]
    # Every sector stays a column; the unit charts shrink to their minimum with the units.
    assert list(after["hb-chart-heatmap"].x_range.factors) == sectors and len(sectors) == 11
    assert after["hb-chart-heatmap"].height == after["hb-chart-by-unit"].height == CHART_HEIGHT
    assert after["hb-chart-status"].height == heights["hb-chart-status"]


def test_clicking_a_bar_or_a_heatmap_cell_filters_to_it(shared, state):
    page = hazards_page.build(state, shared.snapshot, shared)
    charts = _page_charts(page)
    bars, heatmap = charts["hb-chart-by-unit"], charts["hb-chart-heatmap"]

    _tap(bars, _data(bars)["x"].index("章贡区"))
    assert state.units == ["章贡区"]
    assert bars.renderers[0].data_source.selected.indices == []  # no glyph stays dimmed
    _tap(bars, _data(bars)["x"].index("章贡区"))
    assert state.units == []

    cells = _data(heatmap)
    row = next(i for i, (x, y) in enumerate(zip(cells["x"], cells["y"], strict=True)) if (x, y) == ("于都县", "消防"))
    _tap(heatmap, row)
    assert state.units == ["于都县"] and state.sectors == ["fire"]


def test_live_charts_draw_what_the_chart_definitions_draw(shared, campaign):
    """The page's figures and the HoloViews definitions (exports, notebooks) show the same counts."""
    state = DashboardState(page="hazards", unit_type="county")
    charts = _page_charts(hazards_page.build(state, shared.snapshot, shared))
    selection = HazardSelection.for_session(state, shared)
    definition = hazards_by_unit_bars(unit_sector_counts(selection.hazards))
    drawn = definition.dframe().groupby(["unit", "sector"])["count"].sum()
    bars = _data(charts["hb-chart-by-unit"])
    live = pd.DataFrame({column: bars[column] for column in bars if column != "x"}, index=bars["x"]).stack()
    assert live[live > 0].sort_index().to_dict() == drawn[drawn > 0].sort_index().to_dict()
    heatmap = _data(charts["hb-chart-heatmap"])
    cells = dict(zip(zip(heatmap["x"], heatmap["y"], strict=True), heatmap["count"], strict=True))
    assert cells == drawn[drawn > 0].to_dict()


def test_page_shows_the_empty_state_when_nothing_matches(shared, state):
    page = hazards_page.build(state, shared.snapshot, shared)
    state.search = "不可能出现的关键词"
    charts = page.select(pn.pane.Bokeh)
    alerts = [alert for alert in page.select(pn.pane.Alert) if alert.object == "当前筛选条件下没有数据。"]
    assert len(charts) == 3 and not any(_shown(page, chart) for chart in charts)
    assert len(alerts) == 4 and all(alert.visible for alert in alerts)
    state.search = ""
    assert all(_shown(page, chart) for chart in charts)


def _shown(page, chart) -> bool:
    """A chart is shown when it and every box around it are."""
    return chart.visible and all(box.visible for box in page.select(pn.layout.ListPanel) if chart in box.select(pn.pane.Bokeh))


def test_page_speaks_english_on_request(shared, state):
    state.lang = "en"
    page = hazards_page.build(state, shared.snapshot, shared)
    table = next(view for view in page.select(pn.widgets.Tabulator))
    assert table.titles["enterprise"] == "Enterprise (project)"
    bars = _page_charts(page)["hb-chart-by-unit"]
    assert bars.yaxis[0].axis_label == "Units" and "Fire" in _data(bars)
