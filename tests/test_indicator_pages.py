"""The 执法 and 培训与推动 pages without a browser: the indicator figures, the charts and the views' data."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.mpl  # noqa: F401  (loaded as the exports load it, before any chart is defined)
import numpy as np
import pandas as pd
import panel as pn
import pytest

from components import charts_indicators as charts
from components.indicator_views import (
    IndicatorExplorer,
    SpotCheckView,
    UnitComparison,
    sector_note,
)
from components.state import DashboardState
from dashboards.pages import enforcement, training
from metrics import indicators as metrics


def indicator_rows(rows: list[tuple]) -> pd.DataFrame:
    """A small indicators frame from (unit, unit_type, period, key, cumulative) rows, increments derived."""
    frame = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "key", "cumulative"])
    frame = frame.sort_values(["unit", "key", "period"]).reset_index(drop=True)
    previous = frame.groupby(["unit", "key"])["cumulative"].shift(1)
    frame["increment"] = np.where(previous.isna(), frame["cumulative"], frame["cumulative"] - previous)
    frame["source_file"], frame["source_sheet"], frame["cell"] = "form.xlsx", "Sheet1", "C7"
    return frame


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return indicator_rows([
        ("章贡区", "county", "2023-08", "penalties", 4.0),
        ("章贡区", "county", "2023-09", "penalties", 3.0),  # fell: a data-quality finding
        ("章贡区", "county", "2023-09", "checked_enterprises", 50.0),
        ("章贡区", "county", "2023-09", "chk_no_drill", 5.0),
        ("章贡区", "county", "2023-09", "media_column", 1.0),
        ("南康区", "county", "2023-09", "fines_wan", 2.5),  # sent a form, left penalties blank
        ("南康区", "county", "2023-09", "media_column", 0.0),
        ("市住建局", "department", "2023-08", "penalties", 7.0),
        ("市住建局", "department", "2023-09", "penalties", 9.0),
        ("市住建局", "department", "2023-09", "enforcer_training", 30.0),
    ])


# --- metrics ----------------------------------------------------------------------

def test_unit_values_keeps_not_reported_as_gap(small):
    values = metrics.unit_values(small, "penalties").set_index("unit")["value"]
    assert values["市住建局"] == 9.0 and values["章贡区"] == 3.0
    assert np.isnan(values["南康区"])  # not reported is not 0
    assert list(values.index) == ["市住建局", "章贡区", "南康区"]  # largest first, not reported last


def test_unit_values_only_lists_units_whose_form_carries_the_key(small):
    assert metrics.unit_values(small, "enforcer_training")["unit"].tolist() == ["市住建局"]
    assert set(metrics.unit_values(small, "media_column")["unit"]) == {"章贡区", "南康区"}


def test_increments_keep_negative_values_and_flag_them(small):
    rows = metrics.monthly_increments(small, ["penalties"])
    fell = rows[(rows["unit"] == "章贡区") & (rows["period"] == "2023-09")].iloc[0]
    assert fell["increment"] == -1.0 and fell["decrease"]
    by_period = metrics.increments_by_period(small, "penalties").set_index(["period", "unit_type"])
    assert by_period.loc[("2023-09", "county"), "increment"] == -1.0
    assert by_period.loc[("2023-09", "county"), "decreases"] == 1
    assert metrics.decreases(small, ["penalties"])["unit"].tolist() == ["章贡区"]


def test_restrict_by_unit_type_and_period(small):
    rows = metrics.restrict(small, unit_type="department", period_end="2023-08")
    assert set(rows["unit"]) == {"市住建局"} and set(rows["period"]) == {"2023-08"}
    assert metrics.unit_values(rows, "penalties")["value"].tolist() == [7.0]


def test_totals_sum_latest_values_and_mark_unreported_keys(small):
    totals = metrics.indicator_totals(small, ["penalties", "dual_penalties"]).set_index("key")
    assert totals.loc["penalties", "total"] == 12.0 and totals.loc["penalties", "units"] == 2
    assert np.isnan(totals.loc["dual_penalties", "total"]) and totals.loc["dual_penalties", "units"] == 0


def test_comparison_leaves_unreported_periods_empty(small):
    frame = metrics.comparison(small, "penalties", ["章贡区", "南康区"]).set_index(["period", "unit"])["value"]
    assert frame[("2023-09", "章贡区")] == -1.0
    assert frame[["2023-08", "2023-09"]].xs("南康区", level="unit").isna().all()
    cumulative = metrics.comparison(small, "penalties", ["章贡区"], "cumulative").set_index("period")["value"]
    assert cumulative["2023-08"] == 4.0


def test_spot_check_matrix_relates_findings_to_checked_enterprises(small):
    matrix = metrics.spot_check_matrix(small).set_index(["unit", "category"])
    assert matrix.loc[("章贡区", "chk_no_drill"), "count"] == 5.0
    assert matrix.loc[("章贡区", "chk_no_drill"), "per_100"] == 10.0
    assert np.isnan(matrix.loc[("章贡区", "chk_no_duty_list"), "count"])
    trend = metrics.spot_checks_by_period(small).set_index(["period", "category"])
    assert trend.loc[("2023-09", "chk_no_drill"), "checked"] == 50.0


def test_media_columns(small):
    media = metrics.media_columns(small).set_index("unit")
    assert media.loc["章贡区", "opened"] is True and media.loc["章贡区", "since"] == "2023-09"
    assert media.loc["南康区", "opened"] is False


# --- charts -----------------------------------------------------------------------

def chart_cases(indicators: pd.DataFrame) -> dict[str, hv.core.Dimensioned]:
    return {
        "ranking": charts.unit_ranking_chart(metrics.unit_values(indicators, "penalties"), "penalties", selected=("章贡区",)),
        "increments": charts.increments_chart(metrics.increments_by_period(indicators, "penalties"), "penalties"),
        "heatmap": charts.increments_heatmap(metrics.monthly_increments(indicators, ["penalties"]), "penalties"),
        "comparison": charts.comparison_chart(metrics.comparison(indicators, "fines_wan", ["章贡区", "南康区"]), "fines_wan"),
        "spot_heatmap": charts.spot_check_heatmap(metrics.spot_check_matrix(indicators), measure="per_100"),
        "spot_trend": charts.spot_check_trend_chart(metrics.spot_checks_by_period(indicators), lang="en"),
    }


@pytest.mark.parametrize("name", list(chart_cases(indicator_rows([("章贡区", "county", "2023-09", "penalties", 1.0)]))))
@pytest.mark.parametrize("backend", ["bokeh", "matplotlib"])
def test_every_chart_renders_in_both_backends(shared, name, backend):
    chart = chart_cases(shared.snapshot.campaign.indicators)[name]
    assert hv.render(chart, backend=backend) is not None


def test_ranking_marks_unreported_units_and_keeps_negative_increments(small):
    chart = charts.unit_ranking_chart(metrics.unit_values(small, "penalties"), "penalties")
    bars, labels = chart.get(0), chart.get(1)
    assert bars.data["unit"].tolist()[-1] == "市住建局"  # drawn last = on top
    assert np.isnan(bars.data.set_index("unit").loc["南康区", "value"])
    assert labels.data.set_index("unit").loc["南康区", "text"].strip() == "未报送"
    heatmap = charts.increments_heatmap(metrics.monthly_increments(small, ["penalties"]), "penalties")
    assert heatmap.get(0).data["increment"].min() == -1.0
    assert "-1!" in heatmap.get(1).data["text"].tolist()


def test_money_is_formatted_in_wan_with_two_decimals():
    assert charts.format_value(517.3, "fines_wan") == "517.30"
    assert charts.format_value(12.0, "penalties") == "12"
    assert charts.format_value(np.nan, "penalties") == ""


def test_english_labels():
    chart = charts.increments_chart(pd.DataFrame({"period": ["2023-09"], "unit_type": ["county"], "increment": [1.0],
                                                  "units": [1], "decreases": [0]}), "penalties", lang="en")
    assert chart.get(0).kdims[0].label == "Period"


# --- views ------------------------------------------------------------------------

def pane_object(view) -> hv.core.Dimensioned:
    """The HoloViews object of the first chart pane in a view's output."""
    return next(p.object for p in view.select(pn.pane.HoloViews))


def test_ranking_follows_unit_type_and_highlights_units(shared):
    state = DashboardState()
    explorer = IndicatorExplorer(state=state, snapshot=shared.snapshot, keys=list(metrics.ENFORCEMENT_KEYS))
    assert len(explorer.rankings().select(pn.pane.HoloViews)) == 2  # counties beside departments
    state.unit_type = "department"
    panes = explorer.rankings().select(pn.pane.HoloViews)
    assert len(panes) == 1 and set(panes[0].object.get(0).data["unit"]).issubset(set(metrics.restrict(
        shared.snapshot.campaign.indicators, unit_type="department")["unit"]))
    state.units = ["市住建局"]
    colours = pane_object(explorer.rankings()).get(0).data.set_index("unit")["colour"]
    assert colours["市住建局"] != charts.MUTED_COLOUR
    assert (colours.drop("市住建局") == charts.MUTED_COLOUR).all()


def test_over_time_follows_unit_filter_and_indicator(shared):
    state = DashboardState()
    explorer = IndicatorExplorer(state=state, snapshot=shared.snapshot, keys=list(metrics.ENFORCEMENT_KEYS))
    heatmap = explorer.over_time().select(pn.pane.HoloViews)[1].object.get(0)
    assert heatmap.data["unit"].nunique() > 2
    state.units = ["章贡区"]
    heatmap = explorer.over_time().select(pn.pane.HoloViews)[1].object.get(0)
    assert set(heatmap.data["unit"]) == {"章贡区"} and set(heatmap.data["key"]) == {"penalties"}
    explorer.key = "fines_wan"
    heatmap = explorer.over_time().select(pn.pane.HoloViews)[1].object.get(0)
    assert set(heatmap.data["key"]) == {"fines_wan"}


def test_clicking_a_bar_toggles_the_unit_filter(shared):
    state = DashboardState()
    explorer = IndicatorExplorer(state=state, snapshot=shared.snapshot, keys=list(metrics.ENFORCEMENT_KEYS))
    bars = pane_object(explorer.rankings()).get(0)
    top_unit = bars.data["unit"].iloc[-1]
    selection = next(s for s in hv.streams.Stream.registry[bars] if isinstance(s, hv.streams.Selection1D))
    selection.event(index=[len(bars.data) - 1])
    assert state.units == [top_unit]
    selection.event(index=[len(bars.data) - 1])
    assert state.units == []


def test_training_indicator_for_departments_only(shared):
    state = DashboardState(unit_type="county")
    explorer = IndicatorExplorer(state=state, snapshot=shared.snapshot, keys=list(metrics.TRAINING_KEYS))
    assert explorer.key == "enforcer_training"
    assert isinstance(explorer.rankings(), pn.pane.Alert)  # not on the county form


def test_comparison_follows_picked_units(shared):
    state = DashboardState()
    comparison = UnitComparison(state=state, snapshot=shared.snapshot, keys=list(metrics.ENFORCEMENT_KEYS))
    assert len(comparison.units) == 3
    comparison.units = ["章贡区", "市住建局"]
    assert set(pane_object(comparison.chart()).data["unit"]) == {"章贡区", "市住建局"}
    comparison.units = ["章贡区"]
    assert isinstance(comparison.chart(), pn.pane.Alert)


def test_spot_checks_switch_to_rate(shared):
    state = DashboardState()
    view = SpotCheckView(state=state, snapshot=shared.snapshot)
    assert pane_object(view.by_unit()).get(0).vdims[0].name == "count"
    view.measure = "per_100"
    assert pane_object(view.by_unit()).get(0).vdims[0].name == "per_100"
    state.unit_type = "zone"
    assert set(pane_object(view.by_unit()).get(0).data["unit_type"]) == {"zone"}


def test_sector_note_shows_only_with_a_sector_filter():
    state = DashboardState()
    note = sector_note(state)
    assert not note.visible
    state.sectors = ["fire"]
    assert note.visible


@pytest.mark.parametrize("page", [enforcement, training])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_build(shared, page, lang):
    state = DashboardState(lang=lang)
    view = page.build(state, shared.snapshot, shared)
    assert view.get_root() is not None
