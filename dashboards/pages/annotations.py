"""批注 Annotations: every officer's note on a hazard, a unit, a unit's figure or a page view, with filters,
links to its subject, edits, resolving and history; and a note on the page view the officer came from."""

from __future__ import annotations

import panel as pn

from components.annotation_panel import AnnotationPanel, ViewNotes
from components.data import CampaignSnapshot, SharedCampaign
from components.page_view import begin_page
from components.state import DashboardState


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    return pn.Column(
        AnnotationPanel(state=state, snapshot=snapshot, shared=shared),
        pn.layout.Divider(),
        ViewNotes(state=state, snapshot=snapshot, shared=shared),
        sizing_mode="stretch_width", css_classes=["hb-page-annotations"],
    )
