"""培训与推动 Training and leadership: training, lectures, leaders' engagement, media columns, rewards and spot checks."""

from __future__ import annotations

import panel as pn

from components.data import CampaignSnapshot, SharedCampaign
from components.i18n import register_labels
from components.indicator_views import MediaColumnView, SpotCheckView, indicator_page
from components.page_view import begin_page
from components.state import DashboardState
from metrics.indicators import TRAINING_KEYS

register_labels({
    "trn_totals": ("培训与推动合计（各单位最新一期累计数之和）", "Training and leadership totals (sum of each unit's latest cumulative figure)"),
})


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    return indicator_page(state, snapshot, "training", "trn_totals", TRAINING_KEYS, MediaColumnView, SpotCheckView, shared=shared)
