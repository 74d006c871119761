"""数据 Data: upload workbooks with a report per file, and the history of every submission received."""

from __future__ import annotations

import panel as pn

from components.audit_view import AuditLog
from components.data import CampaignSnapshot, SharedCampaign
from components.export_dialog import BoardsDownload
from components.i18n import tr
from components.page_view import begin_page
from components.state import DashboardState
from components.submissions_view import SubmissionHistory
from components.upload import UploadPanel


def build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> pn.viewable.Viewable:
    begin_page(state)  # the views of the page shown before stop following the state
    views = [pn.pane.Markdown(f"## {tr('data', state.lang)}", margin=(0, 10)), UploadPanel(state=state, shared=shared)]
    if not snapshot.is_empty:
        views.append(BoardsDownload(state=state, shared=shared))  # 下载责任公示牌（PDF）
    if shared.store is not None:
        views.append(SubmissionHistory(state=state, shared=shared, snapshot=snapshot))
    if shared.access.role == "committee":
        views.append(AuditLog(state=state, shared=shared))  # 操作日志: the committee's only
    return pn.Column(*views, sizing_mode="stretch_width", css_classes=["hb-page-data"])
