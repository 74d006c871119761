"""The campaign timeline: the plan's stages, the monthly deadlines, the milestones and today."""

from __future__ import annotations

import pandas as pd
import panel as pn

from components.charts_overview import timeline_layers
from components.i18n import register_labels, tr
from components.overview_figures import timeline_figure
from components.page_view import PageView
from metrics import overview

register_labels({
    "ov_timeline": ("行动进度", "Campaign timeline"),
    "ov_timeline_stage_now": ("当前阶段：{stage}", "Current stage: {stage}"),
    "ov_timeline_finished": ("专项行动各阶段已结束，统计日期 {as_of}。", "All stages are over; figures as of {as_of}."),
    "ov_timeline_not_started": ("专项行动尚未开始。", "The campaign has not started yet."),
})


def current_stage(as_of: pd.Timestamp, stages: pd.DataFrame) -> str | None:
    """The stage (Chinese name) running on ``as_of``, None before the first or after the last."""
    running = stages[(stages["start"] <= as_of) & (stages["end"] > as_of)]
    return running["stage"].iloc[0] if not running.empty else None


class CampaignTimeline(PageView):
    """The plan's calendar with "today" (the snapshot's as-of date) marked, in the session's language.

    Nothing in it depends on the filters; the page is rebuilt when the language changes.
    """

    def __init__(self, **params):
        super().__init__(**params)
        self.chart = pn.pane.Bokeh(sizing_mode="stretch_width", css_classes=["hb-timeline"])
        self._caption = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10), css_classes=["hb-timeline-caption"])
        self._refresh()

    def _refresh(self) -> None:
        lang, as_of = self.state.lang, self.snapshot.as_of
        today = pd.Timestamp(as_of)
        stages = overview.campaign_stages()
        figure = timeline_figure(timeline_layers(stages, overview.reporting_deadlines(), overview.campaign_milestones(), as_of, lang),
                                 lang)
        figure.css_classes = ["hb-timeline"]  # the pane hands the figure itself to the page
        self.chart.object = figure
        stage = current_stage(today, stages)
        if stage is not None:
            caption = tr("ov_timeline_stage_now", lang).format(stage=tr(f"ov_stage_{stage}", lang))
        elif today < stages["start"].min():
            caption = tr("ov_timeline_not_started", lang)
        else:
            caption = tr("ov_timeline_finished", lang).format(as_of=f"{as_of:%Y-%m-%d}")
        self._caption.object = f'<div style="font-size:13px;color:#424242">{caption}</div>'

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.chart, self._caption, sizing_mode="stretch_width")
