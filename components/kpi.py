"""KPI cards: a big number, a label and a sub-line, following the session's filters.

``KpiCard`` is one reusable card; ``KpiCards`` is the overview row of cards over the
campaign figures of ``metrics.overview.kpis``.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param

from components.data import CampaignSnapshot
from components.filters import HazardSelection
from components.i18n import register_labels, tr
from components.page_view import PageView
from components.state import FILTER_PARAMS, DashboardState
from metrics import overview

register_labels({
    "ov_found": ("发现重大隐患", "Hazards found"),
    "ov_found_detail": ("企业自查 {self} · 部门检查 {dept}", "self-found {self} · by departments {dept}"),
    "ov_rectified": ("已完成整改", "Rectified"),
    "ov_rectified_detail": ("整改率 {rate}", "rate {rate}"),
    "ov_supervised": ("挂牌督办", "Supervised"),
    "ov_supervised_detail": ("已整改 {rectified} · 台账 市级 {city} / 县级 {county}",
                             "rectified {rectified} · ledger city {city} / county {county}"),
    "ov_overdue": ("逾期未整改", "Overdue"),
    "ov_overdue_detail": ("台账 {hazards} 条隐患，截至 {as_of}", "of {hazards} ledger hazards, as of {as_of}"),
    "ov_penalties": ("行政处罚", "Penalties"),
    "ov_penalties_detail": ("“一案双罚” {dual} 次", "dual penalties {dual}"),
    "ov_fines": ("罚款金额", "Fines"),
    "ov_fines_detail": ("平均每次 {average} 万元", "{average} 万元 per penalty"),
    "ov_suspensions": ("责令停产整顿", "Suspensions"),
    "ov_suspensions_detail": ("曝光、约谈、联合惩戒 {exposures} 家", "exposed or interviewed {exposures}"),
    "ov_judicial": ("移送司法机关", "Judicial transfers"),
    "ov_judicial_detail": ("责任倒查追责问责 {accountability} 人", "held accountable {accountability}"),
    "ov_unit_count": ("个", ""),
    "ov_unit_times": ("次", ""),
    "ov_unit_wan": ("万元", "万元"),
    "ov_unit_firms": ("家", ""),
    "ov_unit_people": ("人", ""),
    "ov_by_unit_only": ("按单位筛选", "filtered by unit only"),
    "ov_kpi_scope": ("调度表：{units} 个单位，截至 {period} 的累计数", "Dispatch forms: {units} units, cumulative to {period}"),
    "ov_kpi_scope_partial": ("行业、状态等筛选不适用于调度表，标注“按单位筛选”的卡片只按单位筛选；逾期和台账督办数按全部筛选条件统计。",
                             "Forms carry no sector or status: cards marked “filtered by unit only” follow the unit filter; "
                             "overdue and ledger figures follow every filter."),
})

MISSING = "—"


def format_count(value: float | None) -> str:
    """A count for officers: thousands separated, "—" when missing."""
    return MISSING if value is None or pd.isna(value) else f"{value:,.0f}"


def format_wan(value: float | None) -> str:
    """An amount in 万元 with two decimals."""
    return MISSING if value is None or pd.isna(value) else f"{value:,.2f}"


def format_rate(rate: float | None) -> str:
    """A share (0..1) as a percentage with one decimal."""
    return MISSING if rate is None or pd.isna(rate) else f"{rate:.1%}"


def latest_for(snapshot: CampaignSnapshot, period: str | None) -> pd.DataFrame:
    """``latest_cumulative`` of the snapshot's forms up to ``period``, computed once for all sessions."""
    return snapshot.derived(("overview_latest", period),
                        lambda: overview.latest_cumulative(snapshot.campaign.indicators, period))


def report_period(state: DashboardState, snapshot: CampaignSnapshot) -> str | None:
    """The form period the overview reports on: the filter's period end, else the latest received."""
    return state.period_end or snapshot.latest_period


# A change of these rebuilds the page (see dashboards.app), so the old page's views stop following.
class KpiCard(pn.viewable.Viewer):
    """One headline figure: big number (with its unit), label, sub-line and an optional note."""

    label = param.String(default="")
    value = param.String(default=MISSING)
    unit = param.String(default="", doc="Unit after the number, e.g. 万元")
    detail = param.String(default="", doc="The small line under the number")
    note = param.String(default="", doc="A caveat shown under the detail, e.g. 按单位筛选")
    alert = param.Boolean(default=False, doc="Show the number in red")
    css_name = param.String(default="", doc="Extra CSS class to find the card by")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HTML(self._html, css_classes=["hb-kpi", f"hb-kpi-{self.css_name}"],
                                  width=190, height=128, margin=(5, 5))

    @param.depends("label", "value", "unit", "detail", "note", "alert")
    def _html(self) -> str:
        color = "#c62828" if self.alert else "#212121"
        note = f'<div class="hb-kpi-note" style="color:#ef6c00;font-size:11px">{html.escape(self.note)}</div>' if self.note else ""
        return (
            '<div style="border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;height:112px;background:#fff">'
            f'<div class="hb-kpi-label" style="font-size:13px;color:#616161">{html.escape(self.label)}</div>'
            f'<div><span class="hb-kpi-value" style="font-size:28px;font-weight:600;color:{color}">{html.escape(self.value)}</span>'
            f'<span style="font-size:13px;color:#616161"> {html.escape(self.unit)}</span></div>'
            f'<div class="hb-kpi-detail" style="font-size:12px;color:#424242">{html.escape(self.detail)}</div>{note}</div>'
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self._pane


class KpiCards(PageView):
    """The overview's row of KPI cards, updated in place whenever a filter changes.

    Ledger figures count the session's ``HazardSelection`` (the filter applied once
    for every view); form figures follow the unit filter.
    """

    selection = param.ClassSelector(class_=HazardSelection)

    def __init__(self, **params):
        super().__init__(**params)
        names = ("found", "rectified", "supervised", "overdue", "penalties", "fines", "suspensions", "judicial")
        self.cards = {name: KpiCard(css_name=name) for name in names}
        self._scope = pn.pane.HTML(css_classes=["hb-kpi-scope"], sizing_mode="stretch_width", margin=(0, 10))
        self._refresh()
        # The selection's mask follows every filter; the unit filter and period also move the form figures.
        self.follow(self.selection, ("mask",), self._refresh)
        self.follow(self.state, (*FILTER_PARAMS, "lang"), self._refresh)

    def figures(self) -> overview.OverviewKpis:
        """The KPIs for the session's current filter."""
        period = report_period(self.state, self.snapshot)
        return overview.kpis(self.snapshot.campaign.indicators, self.selection.hazards, self.state.hazard_filter, period,
                             latest_for(self.snapshot, period))

    def _refresh(self) -> None:
        figures, lang = self.figures(), self.state.lang
        has_forms = figures.units_reporting > 0

        def count(value: float) -> str:
            return format_count(value if has_forms else None)

        form_note = "" if figures.forms_follow_filter else tr("ov_by_unit_only", lang)
        average_fine = figures.fines_wan / figures.penalties if figures.penalties else None
        values = {
            "found": dict(value=count(figures.hazards_found), unit=tr("ov_unit_count", lang), note=form_note,
                          detail=tr("ov_found_detail", lang).format(self=count(figures.self_found), dept=count(figures.dept_found))),
            "rectified": dict(value=count(figures.rectified), unit=tr("ov_unit_count", lang), note=form_note,
                              detail=tr("ov_rectified_detail", lang).format(rate=format_rate(figures.rectification_rate))),
            "supervised": dict(value=count(figures.supervised), unit=tr("ov_unit_count", lang), note=form_note,
                               detail=tr("ov_supervised_detail", lang).format(
                                   rectified=count(figures.supervised_rectified),
                                   city=format_count(figures.ledger_supervised_city),
                                   county=format_count(figures.ledger_supervised_county))),
            "overdue": dict(value=format_count(figures.overdue), unit=tr("ov_unit_count", lang), alert=figures.overdue > 0,
                            detail=tr("ov_overdue_detail", lang).format(hazards=format_count(figures.ledger_hazards),
                                                                       as_of=f"{self.snapshot.as_of:%Y-%m-%d}")),
            "penalties": dict(value=count(figures.penalties), unit=tr("ov_unit_times", lang), note=form_note,
                              detail=tr("ov_penalties_detail", lang).format(dual=count(figures.dual_penalties))),
            "fines": dict(value=format_wan(figures.fines_wan if has_forms else None), unit=tr("ov_unit_wan", lang), note=form_note,
                          detail=tr("ov_fines_detail", lang).format(average=format_wan(average_fine))),
            "suspensions": dict(value=count(figures.suspensions), unit=tr("ov_unit_firms", lang), note=form_note,
                                detail=tr("ov_suspensions_detail", lang).format(exposures=count(figures.exposures))),
            "judicial": dict(value=count(figures.judicial_transfers), unit=tr("ov_unit_people", lang), note=form_note,
                             detail=tr("ov_judicial_detail", lang).format(accountability=count(figures.accountability))),
        }
        for name, card in self.cards.items():
            card.param.update({"label": tr(f"ov_{name}", lang), "alert": False, "note": "", **values[name]})
        if not has_forms:
            scope = tr("no_data", lang)
        else:
            scope = tr("ov_kpi_scope", lang).format(units=figures.units_reporting, period=figures.period)
            if not figures.forms_follow_filter:
                scope += " " + tr("ov_kpi_scope_partial", lang)
        self._scope.object = f'<div style="font-size:12px;color:#616161">{html.escape(scope)}</div>'

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.FlexBox(*self.cards.values(), sizing_mode="stretch_width"), self._scope,
                         sizing_mode="stretch_width", css_classes=["hb-kpi-cards"])
