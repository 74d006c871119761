"""周调度 Weekly dispatch: what changed since the previous period or a chosen date, what is stuck, who has not reported."""

from __future__ import annotations

import panel as pn

from components.annotation_panel import DueFollowUps
from components.data import CampaignSnapshot, SharedCampaign
from components.dispatch_views import WeeklyDispatch
from components.i18n import tr
from components.page_view import begin_page
from components.state import DashboardState


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    return pn.Column(
        pn.pane.Markdown(f"## {tr('dispatch', state.lang)}", margin=(0, 10)),
        WeeklyDispatch(state=state, snapshot=snapshot),
        *([DueFollowUps(state=state, snapshot=snapshot, shared=shared)] if shared is not None and shared.store is not None else []),
        sizing_mode="stretch_width", css_classes=["hb-page-dispatch"],
    )
