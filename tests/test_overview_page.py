"""The overview page without a browser: its figures, its charts and its views following the filters."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.mpl  # noqa: F401  (loaded as the exports load it, before any chart is defined)
from bokeh.models import PanTool, WheelZoomTool
import pandas as pd
import panel as pn
import param
import pytest

from components.charts_overview import campaign_timeline, quota_bars, timeline_layers
from components.i18n import tr
from components.data import SharedCampaign
from components.filters import HazardSelection
from components.kpi import KpiCards
from components.ranking import QuotaProgress, RankingTables, provisional_table_html, ranking_table
from components.state import DashboardState
from components.timeline import CampaignTimeline
from dashboards.pages import overview as overview_page
from metrics import overview
from metrics.filters import HazardFilter, filter_hazards
from tests.campaign_builders import forms_campaign
from tests.conftest import SAMPLE_AS_OF


@pytest.fixture
def state() -> DashboardState:
    return DashboardState()


@pytest.fixture(scope="module")
def small_campaign():
    """Three units' real dispatch forms (附件3/附件4 .xlsx) read and merged by the loader.

    章贡区 sent May and July (no June form); 南康区 May and June; 市住建局 (a department) June."""
    return forms_campaign({
        "章贡区": {"2023-05": {"self_found": 10, "dept_found": 5},
                   "2023-07": {"self_found": 30, "dept_found": 20, "typical_cases": 1}},
        "南康区": {"2023-05": {"self_found": 20, "dept_found": 20},
                   "2023-06": {"self_found": 25, "dept_found": 20, "typical_cases": 2}},
        "市住建局": {"2023-06": {"dept_found": 12, "typical_cases": 1}},
    })


@pytest.fixture(scope="module")
def small_indicators(small_campaign) -> pd.DataFrame:
    return small_campaign.indicators


@pytest.fixture(scope="module")
def gap_campaign():
    """The contract's gap: 章贡区 self_found May 10, June "—" (form sent, that figure not reported), July 45."""
    return forms_campaign({"章贡区": {
        "2023-05": {"self_found": 10, "dept_found": 5},
        "2023-06": {"self_found": "—", "dept_found": 8},
        "2023-07": {"self_found": 45, "dept_found": 20},
    }})


# --- metrics ------------------------------------------------------------------------

def test_latest_cumulative_keeps_the_latest_value_up_to_a_period(small_indicators):
    latest = overview.latest_cumulative(small_indicators).set_index(["unit", "key"])
    assert latest.loc[("章贡区", "self_found"), "cumulative"] == 30
    assert latest.loc[("章贡区", "self_found"), "period"] == "2023-07"
    # 南康区 skipped July: its June value stands.
    assert latest.loc[("南康区", "dept_found"), "period"] == "2023-06"
    up_to_june = overview.latest_cumulative(small_indicators, "2023-06").set_index(["unit", "key"])
    assert up_to_june.loc[("章贡区", "self_found"), "cumulative"] == 10


def test_kpis_follow_the_unit_filter_and_count_ledger_hazards(shared):
    campaign = shared.snapshot.campaign
    spec = HazardFilter(units=("章贡区",), sectors=("fire",))
    figures = overview.kpis(campaign.indicators, filter_hazards(campaign.unique_hazards, spec), spec)
    latest = overview.latest_cumulative(campaign.indicators)
    own = latest[latest["unit"] == "章贡区"].set_index("key")["cumulative"]
    assert figures.units_reporting == 1
    assert figures.hazards_found == own["self_found"] + own["dept_found"]
    assert figures.fines_wan == pytest.approx(own["fines_wan"])
    fire = campaign.unique_hazards[(campaign.unique_hazards["unit"] == "章贡区") & (campaign.unique_hazards["sector"] == "fire")]
    assert figures.ledger_hazards == len(fire)
    assert figures.overdue == int(fire["overdue"].sum())
    assert not figures.forms_follow_filter
    assert overview.forms_follow_filter(HazardFilter(units=("章贡区",), period_end="2023-10"))


def test_kpis_rate_is_none_without_hazards(small_indicators):
    empty = pd.DataFrame({"supervision_level": pd.Series(dtype=str), "overdue": pd.Series(dtype=bool)})
    figures = overview.kpis(small_indicators, empty, HazardFilter(units=("瑞金市",)))
    assert figures.units_reporting == 0 and figures.rectification_rate is None


def test_quarter_progress_sums_increments_against_quotas(small_indicators):
    q2 = overview.quarter_progress(small_indicators, "2023Q2").set_index("unit")
    assert q2.loc["南康区", "hazards_found"] == 45  # 40 in May + 5 in June
    assert not q2.loc["南康区", "behind"]
    assert q2.loc["章贡区", "hazards_found"] == 15 and q2.loc["章贡区", "behind_hazards"]
    assert q2.loc["市住建局", "hazards_found"] == 12 and q2.loc["市住建局", "hazards_quota"] == 10
    assert not q2.loc["市住建局", "behind"]
    # 章贡区 sent no June form: its Q2 figure (May only) is provisional and names June.
    assert q2.loc["章贡区", "provisional"] and q2.loc["章贡区", "missing_periods"] == "2023-06"
    assert not q2.loc["南康区", "provisional"] and q2.loc["南康区", "missing_periods"] == ""
    assert q2.loc["南康区", "periods_reported"] == 2 and q2.loc["章贡区", "periods_reported"] == 1
    q3 = overview.quarter_progress(small_indicators, "2023Q3").set_index("unit")
    assert q3.loc["章贡区", "hazards_found"] == 35 and q3.loc["章贡区", "typical_cases"] == 1
    # July's increment spans the June 章贡区 did not report.
    assert q3.loc["章贡区", "provisional"] and q3.loc["章贡区", "missing_periods"] == "2023-06"
    # 南康区 filed no form in Q3: no figure (not a provisional one), and behind.
    assert pd.isna(q3.loc["南康区", "hazards_found"]) and q3.loc["南康区", "behind"]
    assert q3.loc["南康区", "periods_reported"] == 0 and not q3.loc["南康区", "provisional"]


def test_quarter_figures_that_depend_on_a_missing_month_are_provisional(gap_campaign):
    """self_found May 10, June "—", July 45: June is missing for self_found, not zero."""
    q2 = overview.quarter_progress(gap_campaign.indicators, "2023Q2").set_index("unit")
    # May 10 + 5, June's dept_found +3; self_found has no June figure.
    assert q2.loc["章贡区", "hazards_found"] == 18
    assert q2.loc["章贡区", "provisional"] and q2.loc["章贡区", "missing_periods"] == "2023-06"
    # The June form was sent, but without self_found: June is not a reported month of this figure.
    assert q2.loc["章贡区", "periods_reported"] == 1
    q3 = overview.quarter_progress(gap_campaign.indicators, "2023Q3").set_index("unit")
    assert q3.loc["章贡区", "hazards_found"] == 35 + 12
    assert q3.loc["章贡区", "provisional"] and q3.loc["章贡区", "missing_periods"] == "2023-06"
    assert q3.loc["章贡区", "periods_reported"] == 1  # July; August and September are not due yet


def test_quarter_of_and_periods():
    assert overview.quarter_of("2023-05") == "2023Q2"
    assert overview.quarter_of("2023-12") == "2023Q4"
    assert overview.quarter_of("2024-01") is None
    assert overview.quarter_periods("2023Q3") == ["2023-07", "2023-08", "2023-09"]


def test_ranking_with_ties_and_rank_change(small_indicators):
    june = overview.ranking(small_indicators, "county", overview.HAZARDS_FOUND, "2023-06")
    assert list(june["unit"]) == ["南康区", "章贡区"] and list(june["rank"]) == [1, 2]
    july = overview.ranking(small_indicators, "county", overview.HAZARDS_FOUND, "2023-07").set_index("unit")
    assert july.loc["章贡区", "rank"] == 1 and july.loc["章贡区", "rank_change"] == 1
    assert july.loc["南康区", "rank_change"] == -1
    assert [overview.rank_change_text(c) for c in (2, -1, 0, pd.NA)] == ["↑2", "↓1", "—", ""]
    departments = overview.ranking(small_indicators, "department", overview.HAZARDS_FOUND)
    assert departments["value"].tolist() == [12]
    first = overview.ranking(small_indicators, ("county", "department"), overview.HAZARDS_FOUND, "2023-05")
    assert first["previous_rank"].isna().all()


def test_ranking_ties_share_a_rank():
    frame = forms_campaign({unit: {"2023-05": {"supervised": value}}
                            for unit, value in (("章贡区", 3), ("南康区", 3), ("赣县区", 1))}).indicators
    assert overview.ranking(frame, "county", "supervised")["rank"].tolist() == [1, 1, 3]


def test_calendar_matches_the_plan():
    stages = overview.campaign_stages()
    assert len(stages) == 4 and stages["start"].iloc[0] == pd.Timestamp("2023-05-01")
    assert stages["end"].iloc[-1] == pd.Timestamp("2024-01-01")
    deadlines = overview.reporting_deadlines()
    assert deadlines["due"].iloc[0] == pd.Timestamp("2023-06-23") and deadlines["due"].iloc[-1] == pd.Timestamp("2024-01-23")
    assert overview.campaign_milestones().set_index("milestone")["due"]["final_summary"] == pd.Timestamp("2023-12-15")


# --- charts -------------------------------------------------------------------------

def _timeline(lang: str = "zh") -> hv.Overlay:
    return campaign_timeline(overview.campaign_stages(), overview.reporting_deadlines(), overview.campaign_milestones(),
                             SAMPLE_AS_OF, lang)


def test_timeline_marks_stages_deadlines_and_today():
    chart = _timeline()
    stages, labels = chart.get(0), chart.get(1)
    assert len(stages) == 4 and "部门精准执法" in list(labels.dimension_values("text"))
    today = [element for element in chart if isinstance(element, hv.VLine)]
    assert today[0].data == (pd.Timestamp(SAMPLE_AS_OF) - pd.Timestamp("2023-05-01")).days
    assert len(chart.get(2)) == 8  # the monthly deadlines Jun 23 .. Jan 23
    assert "Targeted enforcement" in list(_timeline("en").get(1).dimension_values("text"))


def test_quota_bars_colour_units_behind(small_indicators):
    progress = overview.quarter_progress(small_indicators, "2023Q3")
    locals_ = progress[progress["unit_type"] == "county"]
    chart = quota_bars(locals_, 30)
    bars = chart.get(0)
    assert dict(zip(bars.dimension_values("unit"), bars.dimension_values("status"))) == {"章贡区": "已达标", "南康区": "未报送"}
    assert chart.get(1).data == 30


def test_quota_bars_and_table_name_the_missing_month(gap_campaign):
    progress = overview.quarter_progress(gap_campaign.indicators, "2023Q2")
    bars = quota_bars(progress, 30).get(0)
    assert dict(zip(bars.dimension_values("unit"), bars.dimension_values("missing"))) == {"章贡区": "2023-06"}
    assert "缺报月份" in [d.label for d in bars.vdims][-1]
    table = provisional_table_html(progress, "zh")
    assert "章贡区" in table and "18 " in table and "暂定" in table and "2023-06" in table
    assert "provisional" in provisional_table_html(progress, "en")
    complete = progress.assign(provisional=False, cases_provisional=False)
    assert provisional_table_html(complete, "zh") == ""


def test_quota_view_shows_the_provisional_figures(gap_campaign, state):
    quotas = QuotaProgress(state=state, snapshot=SharedCampaign.from_campaign(gap_campaign).snapshot)
    quotas.quarter = "2023Q2"
    assert quotas._provisional.visible and "2023-06" in quotas._provisional.object
    quotas.quarter = "2023Q3"
    assert "2023-06" in quotas._provisional.object  # July's increment spans June
    state.lang = "en"
    quotas._refresh()
    assert "Months not reported" in quotas._provisional.object


@pytest.mark.parametrize("draw", ["timeline", "quota"])
def test_charts_render_in_both_backends(draw, small_indicators):
    if draw == "timeline":
        chart = _timeline()
    else:
        chart = quota_bars(overview.quarter_progress(small_indicators, "2023Q2"), 30)
    figure = hv.render(chart, backend="bokeh")
    # Officers scroll the page over these charts: the wheel must scroll, not zoom the plot.
    assert not any(isinstance(tool, (WheelZoomTool, PanTool)) for tool in figure.tools)
    assert hv.render(chart, backend="matplotlib") is not None


# --- views following the state ------------------------------------------------------

def test_kpi_cards_follow_the_filters(shared, state):
    cards = KpiCards(state=state, snapshot=shared.snapshot, selection=HazardSelection(state, shared))
    everything = cards.cards["found"].value
    state.units = ["章贡区"]
    figures = cards.figures()
    assert cards.cards["found"].value == f"{figures.hazards_found:,.0f}" != everything
    assert cards.cards["fines"].value == f"{figures.fines_wan:,.2f}"
    assert "整改率" in cards.cards["rectified"].detail and "%" in cards.cards["rectified"].detail
    assert cards.cards["found"].note == ""
    state.sectors = ["fire"]
    assert cards.cards["found"].note == "按单位筛选"
    assert cards.cards["overdue"].value == str(figures_overdue(shared, state))
    state.unit_type = "department"  # 章贡区 is a county: nothing left
    assert cards.cards["found"].value == "—"


def figures_overdue(shared: SharedCampaign, state: DashboardState) -> int:
    hazards = filter_hazards(shared.snapshot.campaign.unique_hazards, state.hazard_filter)
    return int(hazards["overdue"].sum())


def test_quota_progress_follows_quarter_and_unit_filter(shared, state):
    quotas = QuotaProgress(state=state, snapshot=shared.snapshot)
    assert quotas.quarter == "2023Q4"  # the quarter of the latest period
    local = quotas.charts["local"]
    figure, source = local.figure, local.source
    assert "章贡区" in set(source.data["unit"])
    quotas.quarter = "2023Q2"
    expected = overview.quarter_progress(shared.snapshot.campaign.indicators, "2023Q2")
    expected = expected[expected["unit_type"].isin(["county", "zone"])]
    # The same figure, its rows replaced in place: the first unit on top.
    assert local.figure is figure and local.source is source
    assert list(source.data["found"]) == list(expected["hazards_found"].fillna(0))
    assert list(figure.y_range.factors) == list(expected["unit"])[::-1]
    state.unit_type = "department"
    assert len(source.data["unit"]) == 0 and not quotas.chart_boxes["local"].visible
    # No row still sends texts: BokehJS refuses an empty float array as colours ("invalid color array").
    assert all(source.data[column].dtype == object for column in ("unit", "status", "missing", "color"))
    assert set(quotas.charts["department"].source.data["unit"]) <= set(
        expected["unit"]) | {u for u in shared.snapshot.units if u.startswith("市")}


class _Frames(param.Parameterized):
    bars = param.DataFrame()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_overview_figures_show_what_the_exported_charts_show(small_indicators, lang):
    """The overview page draws the timeline and the quota bars as Bokeh figures; exports, notebooks and
    the meeting screen draw the HoloViews definitions. Both show the same bars, labels, lines and hovers."""
    from bokeh.models import HoverTool, Quad, Range1d, Scatter, Segment, Span, Text

    from components.charts_overview import quota_frame
    from components.overview_figures import QuotaBarsChart, timeline_figure

    # The timeline: stages, their labels and colours, the deadlines, milestones and today.
    element = _timeline(lang)
    figure = timeline_figure(timeline_layers(overview.campaign_stages(), overview.reporting_deadlines(),
                                             overview.campaign_milestones(), SAMPLE_AS_OF, lang), lang)
    glyphs = {type(r.glyph): r for r in figure.renderers}
    quads = glyphs[Quad].data_source.data
    stages = element.get(0)
    assert list(quads["x0"]) == list(stages.dimension_values("x0")) and list(quads["x1"]) == list(stages.dimension_values("x1"))
    assert list(quads["color"]) == list(stages.opts.get("style", backend="bokeh").kwargs["color"].apply(stages))
    texts = sorted(t for r in figure.renderers if isinstance(r.glyph, Text) for t in r.data_source.data["text"])
    labels = sorted(t for layer in element if isinstance(layer, hv.Labels) for t in layer.dimension_values("text"))
    assert texts == labels and (tr("ov_today", lang) + f" {SAMPLE_AS_OF:%Y-%m-%d}") in texts
    assert list(glyphs[Scatter].data_source.data["x"]) == list(element.get(2).dimension_values("x"))
    assert list(glyphs[Segment].data_source.data["x0"]) == list(element.get(4).dimension_values("x0"))
    (today,) = figure.select(type=Span)
    assert today.location == [layer for layer in element if isinstance(layer, hv.VLine)][0].data
    plot_options = element.opts.get("plot", backend="bokeh").kwargs
    assert figure.xaxis[0].major_label_overrides == dict(plot_options["xticks"])
    assert figure.yaxis[0].major_label_overrides == dict(plot_options["yticks"])
    assert (figure.x_range.start, figure.x_range.end) == plot_options["xlim"]
    (hover,) = figure.select(type=HoverTool)
    assert [label for label, _ in hover.tooltips] == [d.label for d in stages.vdims]
    # The page scrolls under the wheel: no tool but the hover, on either chart.
    assert [type(tool) for tool in figure.tools] == [HoverTool]

    # The quota bars: the same units in the same order, figures, statuses, colours and quota line.
    progress = overview.quarter_progress(small_indicators, "2023Q3")
    element = quota_bars(progress, 30, lang)
    chart = QuotaBarsChart(_Frames(bars=quota_frame(progress, lang)).param.bars, quota=30, lang=lang)
    bars = element.get(0)
    for column in ("unit", "found", "status", "missing"):
        assert list(chart.source.data[column]) == list(bars.dimension_values(column)), column
    colours = bars.opts.get("style", backend="bokeh").kwargs["color"].apply(bars)
    assert list(chart.source.data["color"]) == list(colours)
    (line,) = chart.figure.select(type=Span)
    assert line.location == element.get(1).data == 30
    assert isinstance(chart.figure.x_range, Range1d) and chart.figure.x_range.end == element.get(0).opts.get(
        "plot", backend="bokeh").kwargs["ylim"][1]
    assert list(chart.figure.y_range.factors) == list(bars.dimension_values("unit"))[::-1]  # the first on top
    (hover,) = chart.figure.select(type=HoverTool)
    assert [label for label, _ in hover.tooltips] == [bars.kdims[0].label, *[d.label for d in bars.vdims]]
    assert [type(tool) for tool in chart.figure.tools] == [HoverTool]


def test_ranking_tables_follow_measure_period_and_selection(shared, state):
    tables = RankingTables(state=state, snapshot=shared.snapshot)
    local = tables.tables["local"]
    assert list(local.value.columns) == ["排名", "单位", "发现重大隐患（个）", "较上期"]
    assert local.value["排名"].iloc[0] == 1
    tables.measure = "supervised"
    assert "挂牌督办隐患（个）" in local.value.columns
    state.period_end = "2023-08"
    expected = overview.ranking(shared.snapshot.campaign.indicators, ("county", "zone"), "supervised", "2023-08")
    assert local.value["单位"].tolist() == expected["unit"].tolist()
    state.units = [expected["unit"].iloc[2]]
    assert local.selection == [2]
    # A click on a row filters to that unit; a second click clears it.
    tables._toggle_unit(local, 0)
    assert state.units == [expected["unit"].iloc[0]]
    tables._toggle_unit(local, 0)
    assert state.units == []


def test_ranking_table_in_english():
    rows = pd.DataFrame({"rank": [1, 2], "unit": ["章贡区", "南康区"], "unit_type": ["county"] * 2, "value": [5.0, 3.0],
                         "previous_rank": pd.array([2, pd.NA], dtype="Int64"), "rank_change": pd.array([1, pd.NA], dtype="Int64")})
    table = ranking_table(rows, overview.HAZARDS_FOUND, "en")
    assert table.columns.tolist() == ["Rank", "Unit", "Hazards found", "Change"]
    assert table["Change"].tolist() == ["↑1", "new"]


def test_views_stop_following_when_the_page_is_rebuilt(shared, state):
    tables = RankingTables(state=state, snapshot=shared.snapshot)
    state.lang = "en"  # the template rebuilds the page: these views are gone
    before = tables.tables["local"].value
    state.period_end = "2023-08"
    assert tables.tables["local"].value is before


def test_timeline_caption_and_page_build(shared, state):
    timeline = CampaignTimeline(state=state, snapshot=shared.snapshot)
    assert "2024-01-23" in timeline._caption.object
    page = overview_page.build(state, shared.snapshot, shared)
    assert isinstance(page, pn.Column)
    assert "2023-12" in page[0].object
