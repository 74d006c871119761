"""The meeting screen (会议大屏): one view per screen, large type, no editing controls.

Opened from the dashboard's navigation with the same query string, so it shows the
filters of the session that opened it. Arrow keys, Page Up/Down (what presentation
clickers send), space, Home and End move between screens; the screen number is in
the URL too. Figures come from the same ``metrics`` functions and chart definitions
as the dashboard, drawn larger.
"""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent

from components.charts_indicators import unit_ranking_chart
from components.charts_overview import campaign_timeline
from components.county_map import county_choropleth, enterprises_for
from components.data import CampaignSnapshot, SharedCampaign
from components.dispatch_views import review_for
from components.filters import HazardSelection
from components.html_text import text
from components.i18n import register_labels, supervision_label, tr
from components.kpi import latest_for, report_period
from components.page_view import release_on_session_end, session_scope
from components.ranking import ranking_for
from components.state import FILTER_PARAMS, DashboardState
from loaders.reference import COUNTIES
from metrics import indicators, overview
from metrics.map import unit_figures

SLIDES = ("overview", "ranking", "map", "hazards", "enforcement")
TOP_ROWS = 10
MAP_HEIGHT_PX = 760
# The enforcement screen ranks the units with most penalties, this many (and every unit of the
# filter): a room reads ~20 bars in large type on one screen; the full ranking is on the dashboard.
TOP_UNITS = 20
MEETING_ROW_PX = 34

register_labels({
    "mt_overview": ("工作总览", "Overview"),
    "mt_ranking": ("通报排名", "Ranking"),
    "mt_map": ("挂图作战", "Map"),
    "mt_hazards": ("逾期与挂牌督办隐患", "Overdue and supervised hazards"),
    "mt_enforcement": ("执法情况", "Enforcement"),
    "mt_hint": ("← → 翻页", "← → to navigate"),
    "mt_found": ("排查重大隐患", "Hazards found"),
    "mt_rectified": ("已整改", "Rectified"),
    "mt_rate": ("整改率", "Rectification rate"),
    "mt_overdue": ("逾期未整改", "Overdue"),
    "mt_supervised": ("挂牌督办", "Supervised"),
    "mt_penalties": ("行政处罚（次）", "Penalties"),
    "mt_fines": ("罚款（万元）", "Fines (10k yuan)"),
    "mt_suspensions": ("责令停产整顿（家）", "Suspensions"),
    "mt_counties": ("县（市、区）按排查隐患数", "Counties by hazards found"),
    "mt_departments": ("市直部门按排查隐患数", "Departments by hazards found"),
    "mt_overdue_list": ("逾期未整改隐患（逾期天数最多的前10条）", "Overdue hazards (top 10 by days overdue)"),
    "mt_stalled_list": ("挂牌督办超期无实质进展", "Supervised hazards without progress"),
    "mt_days_overdue": ("逾期天数", "Days overdue"),
    "mt_days_supervised": ("督办天数", "Days supervised"),
    "mt_none": ("无", "None"),
    "mt_unit": ("单位", "Unit"),
    "mt_enterprise": ("企业", "Enterprise"),
    "mt_rank": ("名次", "Rank"),
    "mt_value": ("数量", "Count"),
    "mt_change": ("变化", "Change"),
    "mt_level": ("督办层级", "Level"),
    "mt_top_units": ("前 {shown} 名（共 {total} 个单位）", "Top {shown} of {total} units"),
    "mt_full_ranking": ("全部单位见看板「执法」页 ↗", "All units: the dashboard's Enforcement page ↗"),
})

MEETING_CSS = """
:host { --hb-red: #b71c1c; }
.hb-meeting-bar { display: flex; align-items: baseline; gap: 32px; background: var(--hb-red); color: #fff;
  padding: 14px 32px; font-size: 34px; font-weight: 700; }
.hb-meeting-bar .hb-sub { font-size: 24px; font-weight: 400; margin-left: auto; }
.hb-kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 24px; padding: 24px 32px; }
.hb-kpi { border: 3px solid #212121; border-radius: 10px; padding: 18px 24px; background: #fff; }
.hb-kpi .hb-label { font-size: 28px; color: #212121; }
.hb-kpi .hb-number { font-size: 72px; font-weight: 800; color: #000; line-height: 1.1; }
.hb-kpi.hb-alert .hb-number { color: var(--hb-red); }
.hb-big-table { border-collapse: collapse; width: 100%; font-size: 28px; }
.hb-big-table th { background: #212121; color: #fff; text-align: left; padding: 8px 14px; }
.hb-big-table td { border-bottom: 2px solid #9e9e9e; padding: 8px 14px; color: #000; }
.hb-big-table td.hb-up { color: #1b5e20; font-weight: 700; }
.hb-big-table td.hb-down { color: var(--hb-red); font-weight: 700; }
.hb-panel-title { font-size: 32px; font-weight: 700; color: #000; margin: 8px 0 12px; }
.hb-empty { font-size: 30px; color: #424242; padding: 24px; }
.hb-top-note { font-size: 24px; color: #424242; }
.hb-top-note a { color: var(--hb-red); margin-left: 24px; }
"""


class KeyNavigator(JSComponent):
    """Moves ``slide`` on arrow keys, Page Up/Down, space, Home and End anywhere on the page."""

    slide = param.Integer(default=0, bounds=(0, None))
    count = param.Integer(default=1, bounds=(1, None))

    _esm = """
    export function render({ model }) {
      const forward = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"];
      const back = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
      const onKey = (event) => {
        let slide = model.slide;
        if (forward.includes(event.key)) slide = Math.min(slide + 1, model.count - 1);
        else if (back.includes(event.key)) slide = Math.max(slide - 1, 0);
        else if (event.key === "Home") slide = 0;
        else if (event.key === "End") slide = model.count - 1;
        else return;
        event.preventDefault();
        model.slide = slide;
      };
      document.addEventListener("keydown", onKey);
      model.on("remove", () => document.removeEventListener("keydown", onKey));
      return document.createElement("span");
    }
    """


class MeetingState(DashboardState):
    slide = param.Integer(default=0, bounds=(0, len(SLIDES) - 1))


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:,.{digits}f}"


def _kpi_html(label: str, number: str, alert: bool = False) -> str:
    return (f'<div class="hb-kpi{" hb-alert" if alert else ""}"><div class="hb-label">{text(label)}</div>'
            f'<div class="hb-number">{text(number)}</div></div>')


def _table_html(headers: list[str], rows: list[list[str]], css_classes: list[list[str]] | None = None) -> str:
    """A table of plain texts (unit and enterprise names come from workbooks: escaped here)."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        classes = css_classes[i] if css_classes else [""] * len(row)
        body.append("<tr>" + "".join(f'<td class="{text(c)}">{text(v)}</td>' for v, c in zip(row, classes)) + "</tr>")
    return f'<table class="hb-big-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _html(text: str, **kwargs) -> pn.pane.HTML:
    return pn.pane.HTML(text, stylesheets=[MEETING_CSS], sizing_mode="stretch_width", **kwargs)


def _labels_sized(chart, size: str):
    """``chart`` with the text of its labels at ``size`` on screen. Element by element: ``hv.opts.Labels``
    needs ``hv.extension``, which the server does not run (the chart modules load the backend)."""
    return chart.map(lambda labels: labels.opts(text_font_size=size, backend="bokeh", clone=True), hv.Labels)


class MeetingScreen(pn.viewable.Viewer):
    """The slides over one session's filters; rebuilt only when the slide, language or data change."""

    state = param.ClassSelector(class_=MeetingState)
    shared = param.ClassSelector(class_=SharedCampaign)

    def __init__(self, **params):
        super().__init__(**params)
        self._selection = HazardSelection.for_session(self.state, self.shared)

    @property
    def snapshot(self) -> CampaignSnapshot:
        return self.shared.snapshot

    def _overview(self, lang: str) -> pn.viewable.Viewable:
        spec = self.state.hazard_filter
        period = report_period(self.state, self.snapshot)
        figures = overview.kpis(self.snapshot.campaign.indicators, self._selection.hazards, spec, period,
                                latest_for(self.snapshot, period))
        rate = figures.rectification_rate
        cards = "".join([
            _kpi_html(tr("mt_found", lang), _fmt(figures.hazards_found)),
            _kpi_html(tr("mt_rectified", lang), _fmt(figures.rectified)),
            _kpi_html(tr("mt_rate", lang), "—" if rate is None else f"{rate:.1%}"),
            _kpi_html(tr("mt_overdue", lang), _fmt(figures.overdue), alert=figures.overdue > 0),
            _kpi_html(tr("mt_supervised", lang), _fmt(figures.supervised)),
            _kpi_html(tr("mt_penalties", lang), _fmt(figures.penalties)),
            _kpi_html(tr("mt_fines", lang), _fmt(figures.fines_wan, 2)),
            _kpi_html(tr("mt_suspensions", lang), _fmt(figures.suspensions)),
        ])
        timeline = campaign_timeline(overview.campaign_stages(), overview.reporting_deadlines(),
                                     overview.campaign_milestones(), self.snapshot.as_of, lang)
        timeline = timeline.opts(fontscale=1.6, responsive=True, height=330, backend="bokeh")
        return pn.Column(
            _html(f'<div class="hb-kpis">{cards}</div>'),
            pn.pane.HoloViews(timeline, backend="bokeh", linked_axes=False, sizing_mode="stretch_width", margin=(0, 32)),
            sizing_mode="stretch_width", css_classes=["hb-meeting-overview"],
        )

    def _ranking_table(self, unit_types: tuple[str, ...], title_key: str, lang: str) -> str:
        period = report_period(self.state, self.snapshot)
        ranked = ranking_for(self.snapshot, unit_types, overview.HAZARDS_FOUND, period).head(TOP_ROWS)
        if ranked.empty:
            return f'<div class="hb-panel-title">{text(tr(title_key, lang))}</div><div class="hb-empty">{text(tr("no_data", lang))}</div>'
        changes = [overview.rank_change_text(c) for c in ranked["rank_change"]]
        rows = [[str(r), u, _fmt(v), c] for r, u, v, c in zip(ranked["rank"], ranked["unit"], ranked["value"], changes)]
        classes = [["", "", "", "hb-up" if c.startswith("↑") else "hb-down" if c.startswith("↓") else ""] for c in changes]
        headers = [tr("mt_rank", lang), tr("mt_unit", lang), tr("mt_value", lang), tr("mt_change", lang)]
        return f'<div class="hb-panel-title">{text(tr(title_key, lang))}</div>' + _table_html(headers, rows, classes)

    def _ranking(self, lang: str) -> pn.viewable.Viewable:
        return pn.Row(
            _html(self._ranking_table(("county", "zone"), "mt_counties", lang), margin=(10, 32)),
            _html(self._ranking_table(("department",), "mt_departments", lang), margin=(10, 32)),
            sizing_mode="stretch_width", css_classes=["hb-meeting-ranking"],
        )

    def _map(self, lang: str) -> pn.viewable.Viewable:
        hazards = self._selection.hazards
        enterprises = enterprises_for(self.snapshot, report_period(self.state, self.snapshot))
        figures = unit_figures(hazards, enterprises, list(COUNTIES), scope_unit=self.snapshot.scope_unit)
        chart = county_choropleth(figures["hazards"], tr("mt_found", lang), selected=self.state.units, details=figures, lang=lang)
        # The dashboard's map definition, enlarged for the room: same aspect, larger labels.
        size = chart.opts.get("plot", backend="bokeh").kwargs
        scale = MAP_HEIGHT_PX / size["frame_height"]
        chart = chart.opts(frame_height=MAP_HEIGHT_PX, frame_width=round(size["frame_width"] * scale), fontscale=1.6,
                           backend="bokeh")
        chart = _labels_sized(chart, "17px")
        return pn.Row(pn.HSpacer(), pn.pane.HoloViews(chart, backend="bokeh", linked_axes=False), pn.HSpacer(),
                      sizing_mode="stretch_width", css_classes=["hb-meeting-map"])

    def _hazards(self, lang: str) -> pn.viewable.Viewable:
        hazards = self._selection.hazards
        overdue = hazards[hazards["overdue"].astype(bool)].sort_values("days_to_deadline").head(TOP_ROWS)
        rows = [[u, e, str(-int(d))] for u, e, d in zip(overdue["unit"], overdue["enterprise"], overdue["days_to_deadline"])]
        headers = [tr("mt_unit", lang), tr("mt_enterprise", lang), tr("mt_days_overdue", lang)]
        left = f'<div class="hb-panel-title">{text(tr("mt_overdue_list", lang))}</div>' + (
            _table_html(headers, rows) if rows else f'<div class="hb-empty">{text(tr("mt_none", lang))}</div>')
        # Stalled supervision stands as of the as-of date whatever period is reviewed: the weekly
        # dispatch page's shared review already holds it.
        stalled = review_for(self.snapshot, self.snapshot.latest_period, None).stalled
        stalled = stalled[stalled["hazard_id"].isin(hazards["hazard_id"])].head(TOP_ROWS)
        rows = [[u, e, supervision_label(level, lang), str(d)]
                for u, e, level, d in zip(stalled["unit"], stalled["enterprise"], stalled["supervision_level"], stalled["days_supervised"])]
        headers = [tr("mt_unit", lang), tr("mt_enterprise", lang), tr("mt_level", lang), tr("mt_days_supervised", lang)]
        right = f'<div class="hb-panel-title">{text(tr("mt_stalled_list", lang))}</div>' + (
            _table_html(headers, rows) if rows else f'<div class="hb-empty">{text(tr("mt_none", lang))}</div>')
        return pn.Row(_html(left, margin=(10, 32)), _html(right, margin=(10, 32)),
                      sizing_mode="stretch_width", css_classes=["hb-meeting-hazards"])

    def _enforcement(self, lang: str) -> pn.viewable.Viewable:
        spec = self.state.hazard_filter
        frame = indicators.restrict(self.snapshot.campaign.indicators, unit_type=spec.unit_type,
                                    period_start=spec.period_start, period_end=spec.period_end)
        values = indicators.unit_values(frame, "penalties")
        if values.empty:
            return _html(f'<div class="hb-empty">{text(tr("no_data", lang))}</div>')
        # The units with most penalties (and the filtered ones, in their colour) in type a room can
        # read; at province scale (100 units) the others are one click away on the dashboard.
        shown = values[(values.index < TOP_UNITS) | values["unit"].isin(spec.units)]
        chart = _labels_sized(unit_ranking_chart(shown, "penalties", lang, selected=spec.units).opts(
            fontscale=1.5, responsive=True, height=len(shown) * MEETING_ROW_PX + 110, backend="bokeh"), "16px")
        pane = pn.pane.HoloViews(chart, backend="bokeh", linked_axes=False, sizing_mode="stretch_width",
                                 margin=(10, 32), css_classes=["hb-meeting-enforcement"])
        if len(shown) == len(values):
            return pane
        # The dashboard's enforcement page with this screen's filters (the query string less the slide).
        link = ("<a class=\"hb-full-ranking\" href=\"./?page=enforcement\" target=\"_blank\" onclick=\"const q = new "
                "URLSearchParams(window.location.search); q.delete('slide'); q.set('page', 'enforcement'); "
                f"this.href = './?' + q.toString()\">{text(tr('mt_full_ranking', lang))}</a>")
        note = text(tr("mt_top_units", lang).format(shown=len(shown), total=len(values)))
        return pn.Column(_html(f'<div class="hb-top-note">{note}{link}</div>', margin=(0, 32)), pane,
                         sizing_mode="stretch_width")

    def _slide(self) -> pn.viewable.Viewable:
        lang, name = self.state.lang, SLIDES[self.state.slide]
        if self.snapshot.is_empty:
            return _html(f'<div class="hb-empty">{text(tr("no_submission", lang))}</div>')
        return getattr(self, f"_{name}")(lang)

    def _bar(self) -> pn.viewable.Viewable:
        lang, slide = self.state.lang, self.state.slide
        snapshot = self.snapshot
        sub = f'{tr("as_of", lang)} {snapshot.as_of:%Y-%m-%d} · {slide + 1}/{len(SLIDES)} · {tr("mt_hint", lang)}'
        units = "、".join(self.state.units)
        title = f'{tr(f"mt_{SLIDES[slide]}", lang)}{" · " + units if units else ""}'
        return _html(f'<div class="hb-meeting-bar"><span>{text(tr("app_title", lang))}</span>'
                     f'<span class="hb-slide-title">{text(title)}</span><span class="hb-sub">{text(sub)}</span></div>', margin=0)

    def __panel__(self) -> pn.viewable.Viewable:
        navigator = KeyNavigator(count=len(SLIDES), slide=self.state.slide, width=0, height=0, margin=0)
        navigator.link(self.state, slide="slide", bidirectional=True)
        # The screen lives as long as the session: it follows the state through the session's scope
        # (after the selection, registered first), released when the session ends.
        scope = session_scope(self.state)
        bar = pn.Column(self._bar(), sizing_mode="stretch_width", margin=0)
        slide = pn.Column(self._slide(), sizing_mode="stretch_both")
        scope.follow(self.state, ("slide", "lang", "units"), lambda: setattr(bar, "objects", [self._bar()]))
        scope.follow(self.state, ("slide", "lang", "data_revision", *FILTER_PARAMS),
                     lambda: setattr(slide, "objects", [self._slide()]))
        return pn.Column(bar, slide, navigator, sizing_mode="stretch_both", css_classes=["hb-meeting"])


def create_meeting(shared: SharedCampaign) -> pn.viewable.Viewable:
    from components.data import SessionCampaign
    from dashboards.app import signed_in_session, sync_url, watch_revision

    if not isinstance(shared, SessionCampaign):
        shared, refusal = signed_in_session(shared)
        if refusal is not None:
            return refusal
    state = MeetingState()
    release_on_session_end(state)
    sync_url(state, shared, extra=("slide",))
    watch_revision(state, shared)
    return MeetingScreen(state=state, shared=shared).__panel__()
