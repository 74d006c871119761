"""挂图作战 — the map page: the counties of 赣州市 coloured by the chosen measure, the functional zones beside.

The page is built when the page, language or data change; the map follows the
session's filters itself (except the unit filter: it always shows every county and
outlines the chosen one). A click on a county or zone filters every page to it.
"""

from __future__ import annotations

import panel as pn

from components.county_map import CountyMap
from components.data import CampaignSnapshot, SharedCampaign
from components.i18n import register_labels, tr
from components.page_view import begin_page
from components.state import DashboardState

register_labels({
    "map_heading": ("挂图作战 · 统计日期 {as_of}", "Map · as of {as_of}"),
    "map_scope": ("地图显示全部县市区，按当前筛选条件（单位筛选除外）统计隐患；已选单位以粗线标出。",
                  "The map shows every county, counting hazards by the current filter except the unit filter; "
                  "the selected units are outlined."),
})


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    lang = state.lang
    return pn.Column(
        pn.pane.Markdown(f"## {tr('map_heading', lang).format(as_of=f'{snapshot.as_of:%Y-%m-%d}')}", margin=(0, 10)),
        pn.pane.Markdown(tr("map_scope", lang), styles={"color": "#666"}, margin=(0, 10)),
        CountyMap(state=state, shared=shared),
        sizing_mode="stretch_width", css_classes=["hb-page-map"],
    )
