"""隐患 — the hazards page: charts by unit and sector, status over time, the hazard table and a hazard's detail.

Every view follows the session's ``HazardSelection`` (the filter applied once per
change); the page itself is built only when the page, language or data change.
Clicking a bar or a heatmap cell filters to that unit (and sector); clicking a
table row opens the hazard's detail.
"""

from __future__ import annotations

import holoviews as hv
from holoviews.core.spaces import Callable
import panel as pn
from param.parameterized import batch_call_watchers

from components.charts_hazards import hazards_by_unit_bars, status_over_time_bars, unit_sector_heatmap
from components.data import CampaignSnapshot, SharedCampaign
from components.filters import HazardSelection, hazard_index
from components.hazard_detail import HazardDetail
from components.hazard_table import HazardTable
from components.i18n import register_labels, sector_label, tr
from components.state import DashboardState
from loaders.reference import SECTOR_KEYS
from metrics.hazards import status_by_period, unit_sector_counts

register_labels({
    "hazards_summary": ("共 {total} 条隐患，其中未整改完成 {open} 条、逾期 {overdue} 条（统计日期 {as_of}）",
                        "{total} hazards: {open} not yet rectified, {overdue} overdue (as of {as_of})"),
    "chart_click_hint": ("点击柱形或方格可按该单位筛选，再次点击取消。", "Click a bar or a cell to filter to that unit; click again to clear."),
})


def _summary(selection: HazardSelection, snapshot: CampaignSnapshot, lang: str) -> pn.viewable.Viewable:
    def text(mask) -> str:
        hazards = selection.hazards
        return tr("hazards_summary", lang).format(
            total=len(hazards), open=int((hazards["status"] != "rectified").sum()),
            overdue=int(hazards["overdue"].sum()), as_of=snapshot.as_of.isoformat(),
        )

    return pn.pane.Markdown(pn.bind(text, selection.param.mask), css_classes=["hb-hazards-summary"],
                            sizing_mode="stretch_width")


def _chart(selection: HazardSelection, draw, css_class: str, lang: str) -> tuple[hv.DynamicMap, pn.viewable.Viewable]:
    """A chart ``draw(mask)`` redrawn when the selection changes, with the empty state when nothing is selected."""
    # Not memoized: hashing the mask on every change would cost more than drawing.
    dmap = hv.DynamicMap(Callable(draw, memoize=False), streams=[hv.streams.Params(selection, ["mask"])])
    has_rows = pn.bind(lambda mask: bool(mask.any()), selection.param.mask)
    view = pn.Column(
        pn.pane.HoloViews(dmap, sizing_mode="stretch_width", visible=has_rows, css_classes=[css_class]),
        pn.pane.Alert(tr("no_data", lang), alert_type="light", visible=pn.bind(lambda rows: not rows, has_rows)),
        sizing_mode="stretch_width",
    )
    return dmap, view


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    lang = state.lang
    selection = HazardSelection.for_session(state, shared)
    sector_keys = {sector_label(key, lang): key for key in SECTOR_KEYS}

    # Drawn from the selection's own snapshot: after an upload the selection may move on
    # to the new data a moment before this page is rebuilt.
    def unit_sector_selected(mask):
        return unit_sector_counts(selection.snapshot.campaign.unique_hazards[mask])

    bars, bars_view = _chart(
        selection, lambda mask: hazards_by_unit_bars(unit_sector_selected(mask), lang), "hb-chart-by-unit", lang)
    heatmap, heatmap_view = _chart(
        selection, lambda mask: unit_sector_heatmap(unit_sector_selected(mask), lang), "hb-chart-heatmap", lang)
    _status, status_view = _chart(
        selection, lambda mask: status_over_time_bars(status_by_period(hazard_index(selection.snapshot), mask), lang),
        "hb-chart-status", lang)

    def filter_unit(x=None, y=None) -> None:
        if x is not None:
            state.toggle_unit(str(x))

    def filter_unit_and_sector(x=None, y=None) -> None:
        if y is None or x not in sector_keys:
            return
        sector = sector_keys[x]
        with batch_call_watchers(state):
            state.toggle_unit(str(y))
            state.sectors = [] if state.sectors == [sector] else [sector]

    hv.streams.Tap(source=bars).add_subscriber(filter_unit)
    hv.streams.Tap(source=heatmap).add_subscriber(filter_unit_and_sector)

    return pn.Column(
        _summary(selection, snapshot, lang),
        pn.pane.Markdown(tr("chart_click_hint", lang), styles={"color": "#666"}, margin=(0, 10)),
        bars_view,
        pn.Row(heatmap_view, status_view, sizing_mode="stretch_width"),
        pn.Row(HazardTable(state=state, selection=selection), HazardDetail(state=state, snapshot=snapshot),
               sizing_mode="stretch_width"),
        sizing_mode="stretch_width", css_classes=["hb-page-hazards"],
    )
