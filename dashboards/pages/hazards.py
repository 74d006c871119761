"""隐患 — the hazards page: charts by unit and sector, status over time, the hazard table and a hazard's detail.

Every view follows the session's ``HazardSelection`` (the filter applied once per
change); the page itself is built only when the page, language or data change.
Clicking a bar or a heatmap cell filters to that unit (and sector); clicking a
table row opens the hazard's detail.
"""

from __future__ import annotations

import operator
import weakref

import holoviews as hv
from holoviews.core.spaces import Callable
import panel as pn
import param
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


class HazardFigures(param.Parameterized):
    """What the hazards page's charts draw, aggregated once per filter change of a session.

    The bars and the heatmap share one ``unit_sector`` frame; each chart is a DynamicMap
    fed from these parameters, so a filter change updates the charts' Bokeh data in place
    instead of building new figures.
    """

    unit_sector = param.DataFrame(doc="metrics.hazards.unit_sector_counts of the selected hazards")
    statuses = param.DataFrame(doc="metrics.hazards.status_by_period of the selected hazards")
    has_rows = param.Boolean(doc="Whether the filter leaves any hazard")

    _by_selection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, selection: HazardSelection, **params):
        super().__init__(**params)
        self._selection = selection
        self._aggregate()
        selection.param.watch(self._aggregate, "mask")

    @classmethod
    def for_selection(cls, selection: HazardSelection) -> HazardFigures:
        """One per session, so the pages rebuilt on a language switch do not aggregate again."""
        if selection not in cls._by_selection:
            cls._by_selection[selection] = cls(selection)
        return cls._by_selection[selection]

    def _aggregate(self, *_events) -> None:
        # From the selection's own snapshot: after an upload the selection may move on
        # to the new data a moment before this page is rebuilt.
        selection = self._selection
        self.param.update(
            unit_sector=unit_sector_counts(selection.hazards),
            statuses=status_by_period(hazard_index(selection.snapshot), selection.mask),
            has_rows=bool(len(selection.hazards)),
        )


def _chart(figures: HazardFigures, frame: str, draw, css_class: str, lang: str) -> tuple[hv.DynamicMap, pn.viewable.Viewable]:
    """The chart ``draw(figures.<frame>, lang)``, redrawn in place when that frame changes, with the
    empty state when nothing is selected."""
    # Not memoized: hashing the frame on every change would cost more than drawing.
    # Framewise: the factors (units, sectors) and the counts' range follow each frame.
    dmap = hv.DynamicMap(
        Callable(lambda **frames: draw(frames[frame], lang).opts(framewise=True, backend="bokeh"), memoize=False),
        streams=[hv.streams.Params(figures, [frame])])
    view = pn.Column(
        pn.pane.HoloViews(dmap, sizing_mode="stretch_width", visible=figures.param.has_rows, css_classes=[css_class]),
        pn.pane.Alert(tr("no_data", lang), alert_type="light", visible=pn.bind(operator.not_, figures.param.has_rows)),
        sizing_mode="stretch_width",
    )
    return dmap, view


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    lang = state.lang
    selection = HazardSelection.for_session(state, shared)
    figures = HazardFigures.for_selection(selection)
    sector_keys = {sector_label(key, lang): key for key in SECTOR_KEYS}

    bars, bars_view = _chart(figures, "unit_sector", hazards_by_unit_bars, "hb-chart-by-unit", lang)
    heatmap, heatmap_view = _chart(figures, "unit_sector", unit_sector_heatmap, "hb-chart-heatmap", lang)
    _status, status_view = _chart(figures, "statuses", status_over_time_bars, "hb-chart-status", lang)

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
