"""执法 Enforcement: penalties, fines, transfers, suspensions, cases and accountability from the dispatch forms."""

from __future__ import annotations

import panel as pn

from components.data import CampaignSnapshot, SharedCampaign
from components.i18n import register_labels
from components.indicator_views import UnitComparison, indicator_page
from components.page_view import begin_page
from components.state import DashboardState
from metrics.indicators import ENFORCEMENT_KEYS

register_labels({
    "enf_totals": ("执法成效合计（各单位最新一期累计数之和）", "Enforcement totals (sum of each unit's latest cumulative figure)"),
})


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    return indicator_page(state, snapshot, "enforcement", "enf_totals", ENFORCEMENT_KEYS, UnitComparison, shared=shared)
