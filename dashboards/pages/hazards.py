"""隐患 — the hazards page: charts by unit and sector, status over time, the hazard table and a hazard's detail.

Every view follows the session's ``HazardSelection`` (the filter applied once per
change, and again on the new dataset after a data change); the page itself is built only
when the page or language change: a new dataset redraws the figures in place.
Clicking a bar or a heatmap cell filters to that unit (and sector); clicking a
table row opens the hazard's detail.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from param.parameterized import batch_call_watchers

from components import chart_style
from components.charts_hazards import CHART_HEIGHT, HEATMAP_HEIGHT, SECTOR_COLORS, STATUS_COLORS
from components.data import CampaignSnapshot, SharedCampaign
from components.filters import HazardSelection, hazard_index
from components.hazard_detail import HazardDetail
from components.hazard_table import HazardTable
from components.i18n import register_labels, sector_label, status_label, tr
from components.live_charts import HeatmapChart, LiveChart, StackedBarChart
from components.page_view import Lifecycle, begin_page
from components.state import DashboardState
from metrics.hazards import STATUSES, selected_unit_sector_counts, status_by_period, unit_sector_counts

register_labels({
    "hazards_summary": ("共 {total} 条隐患，其中未整改完成 {open} 条、逾期 {overdue} 条（统计日期 {as_of}）",
                        "{total} hazards: {open} not yet rectified, {overdue} overdue (as of {as_of})"),
    "chart_click_hint": ("点击柱形或方格可按该单位筛选，再次点击取消。", "Click a bar or a cell to filter to that unit; click again to clear."),
})


def _summary(selection: HazardSelection, lang: str, lifecycle: Lifecycle) -> pn.viewable.Viewable:
    def text() -> str:
        hazards = selection.hazards
        return tr("hazards_summary", lang).format(
            total=len(hazards), open=int((hazards["status"] != "rectified").sum()),
            overdue=int(hazards["overdue"].sum()), as_of=selection.snapshot.as_of.isoformat(),
        )

    pane = pn.pane.Markdown(text(), css_classes=["hb-hazards-summary"], sizing_mode="stretch_width")
    lifecycle.follow(selection, ("mask",), lambda: setattr(pane, "object", text()))
    return pane


class HazardFigures(param.Parameterized):
    """What the hazards page's charts draw, aggregated once per filter change while the page is shown.

    The bars and the heatmap share one ``unit_sector`` frame; each chart (``LiveChart``)
    watches one of these parameters and updates its Bokeh data in place. One per page build:
    it follows the session's selection through the page's ``Lifecycle``, so a rebuilt page
    leaves no aggregation running behind.
    """

    unit_sector = param.DataFrame(doc="metrics.hazards.unit_sector_counts of the selected hazards")
    statuses = param.DataFrame(doc="metrics.hazards.status_by_period of the selected hazards")
    has_rows = param.Boolean(doc="Whether the filter leaves any hazard")
    units = param.List(doc="The units the unit charts show across: the unit filters' units, in the dataset's order")

    def __init__(self, selection: HazardSelection, lifecycle: Lifecycle, **params):
        super().__init__(**params)
        self._selection = selection
        self._aggregate()
        lifecycle.watch(selection, self._aggregate, "mask")

    def _aggregate(self, *_events) -> None:
        # From the selection's own snapshot: after a data change it has moved on to the new dataset.
        selection = self._selection
        snapshot = selection.snapshot
        # The units keep one order (the whole dataset's, most hazards first), and every unit the
        # unit filters allow keeps its column even when the other filters leave it no hazard
        # (a county without overdue hazards shows an empty column rather than vanishing). The
        # bars do not reshuffle, and only a change of the unit filters moves the axis: otherwise
        # the browser repaints the charts without laying them out again.
        unit_types = snapshot.derived("unit_types", lambda: _unit_types_in_order(snapshot.campaign.unique_hazards))
        state = selection.state
        shown = [unit for unit, unit_type in unit_types.items()
                 if (not state.units or unit in state.units) and (not state.unit_type or unit_type == state.unit_type)]
        index = hazard_index(snapshot)
        self.param.update(
            units=shown,
            unit_sector=selected_unit_sector_counts(index, selection.mask, tuple(unit_types)),
            statuses=status_by_period(index, selection.mask),
            has_rows=bool(len(selection.hazards)),
        )


def _unit_types_in_order(unique: pd.DataFrame) -> dict[str, str]:
    """Unit → unit type, the units with most hazards first."""
    unit_type = unique.drop_duplicates("unit").set_index("unit")["unit_type"]
    return {unit: unit_type[unit] for unit in unit_sector_counts(unique)["unit"].unique()}


def _with_empty_state(chart: LiveChart, figures: HazardFigures, lang: str, lifecycle: Lifecycle,
                      scrolled: bool = False) -> pn.viewable.Viewable:
    """The chart (in a box that scrolls past ``chart_style.SCROLL_MAX_PX`` when ``scrolled``: the unit
    charts list one unit a row, taller than the screen at province scale), or the empty state when
    the filter leaves no hazard."""
    empty = pn.pane.Alert(tr("no_data", lang), alert_type="light", visible=not figures.has_rows)
    lifecycle.follow(figures, ("has_rows",), lambda: setattr(empty, "visible", not figures.has_rows))
    return pn.Column(chart_style.scrolled(chart) if scrolled else chart, empty, sizing_mode="stretch_width")


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    lang = state.lang
    lifecycle = begin_page(state, follows_data=True)
    selection = HazardSelection.for_session(state, shared)
    figures = HazardFigures(selection, lifecycle)
    # Every sector key, the hazards without one last, as SECTOR_COLORS lists them.
    sectors = {key: sector_label(key, lang) for key in SECTOR_COLORS}
    sector_keys = {label: key for key, label in sectors.items()}

    def filter_unit(bar: dict) -> None:
        state.toggle_unit(str(bar["x"]))

    def filter_unit_and_sector(cell: dict) -> None:
        if cell["y"] not in sector_keys:
            return
        sector = sector_keys[cell["y"]]
        with batch_call_watchers(state):
            state.toggle_unit(str(cell["x"]))
            state.sectors = [] if state.sectors == [sector] else [sector]

    shown = figures.param.has_rows
    bars = StackedBarChart(
        figures.param.unit_sector, x="unit", stack="sector", labels=sectors, colors=SECTOR_COLORS,
        title=tr("chart_by_unit", lang), x_label=tr("units", lang), stack_label=tr("sectors", lang),
        y_label=tr("hazard_count", lang),
        height=CHART_HEIGHT, on_tap=filter_unit, css_class="hb-chart-by-unit", visible=shown,
        x_factors=figures.param.units, lifecycle=lifecycle, horizontal=True)
    # Units down the side, in the order of the bars above, and every sector across. Both charts
    # change height only when the unit filters change the units (the rows stay otherwise), so a
    # filter change repaints them without laying out the page again.
    heatmap = HeatmapChart(
        figures.param.unit_sector, x="unit", y="sector", y_labels=sectors, title=tr("chart_heatmap", lang),
        x_label=tr("units", lang), y_label=tr("sectors", lang), value_label=tr("hazard_count", lang),
        height=HEATMAP_HEIGHT, on_tap=filter_unit_and_sector, css_class="hb-chart-heatmap", visible=shown,
        x_factors=figures.param.units, lifecycle=lifecycle, horizontal=True)
    statuses = StackedBarChart(
        figures.param.statuses, x="period", stack="status", labels={key: status_label(key, lang) for key in STATUSES},
        colors=STATUS_COLORS, title=tr("chart_status_over_time", lang), x_label=tr("period", lang),
        stack_label=tr("statuses", lang),
        y_label=tr("hazard_count", lang), height=CHART_HEIGHT, css_class="hb-chart-status", visible=shown,
        lifecycle=lifecycle)

    return pn.Column(
        _summary(selection, lang, lifecycle),
        pn.pane.Markdown(tr("chart_click_hint", lang), styles={"color": "#666"}, margin=(0, 10)),
        _with_empty_state(bars, figures, lang, lifecycle, scrolled=True),
        _with_empty_state(heatmap, figures, lang, lifecycle, scrolled=True),
        _with_empty_state(statuses, figures, lang, lifecycle),
        pn.Row(HazardTable(state=state, selection=selection, shared=shared),
               HazardDetail(state=state, snapshot=snapshot, shared=shared),
               sizing_mode="stretch_width"),
        sizing_mode="stretch_width", css_classes=["hb-page-hazards"],
    )
