"""总览 — the overview page: KPI cards, the campaign timeline, quarterly quotas and the bulletin ranking.

The page is built when the page, language or data change; every view inside follows
the session's filters itself (cards, quotas and ranking through ``param.depends``).
"""

from __future__ import annotations

import panel as pn

from components.data import CampaignSnapshot, SharedCampaign
from components.filters import HazardSelection
from components.i18n import register_labels, tr
from components.kpi import KpiCards
from components.ranking import QuotaProgress, RankingTables
from components.page_view import begin_page
from components.state import DashboardState
from components.timeline import CampaignTimeline

register_labels({
    "ov_heading": ("总览 · 统计日期 {as_of} · 最新报送期 {period}", "Overview · as of {as_of} · latest period {period}"),
})


def _section(key: str, lang: str, *views: pn.viewable.Viewable) -> pn.Column:
    return pn.Column(f"### {tr(key, lang)}", *views, sizing_mode="stretch_width", css_classes=[f"hb-section-{key}"])


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    lang = state.lang
    selection = HazardSelection.for_session(state, shared)
    heading = tr("ov_heading", lang).format(as_of=f"{snapshot.as_of:%Y-%m-%d}", period=snapshot.latest_period or "—")
    return pn.Column(
        pn.pane.Markdown(f"## {heading}", css_classes=["hb-overview-heading"], margin=(0, 10)),
        KpiCards(state=state, snapshot=snapshot, selection=selection),
        _section("ov_timeline", lang, CampaignTimeline(state=state, snapshot=snapshot)),
        _section("ov_quotas", lang, QuotaProgress(state=state, snapshot=snapshot)),
        _section("ov_ranking", lang, RankingTables(state=state, snapshot=snapshot, shared=shared)),
        sizing_mode="stretch_width", css_classes=["hb-page-overview"],
    )
