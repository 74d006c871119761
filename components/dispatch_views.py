"""The weekly dispatch review (周调度): what changed, what is stuck, who has not reported.

``WeeklyDispatch`` shows, for a chosen period (compared with the previous one) or
since a chosen date, six lists with their counts as headline cards. The lists
themselves (``metrics.dispatch.weekly_review``) and their display rows are built
once per snapshot, review and language for every session; a filter change only
masks them. A click on a hazard opens it on the hazards page; a click on a unit
filters to that unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import panel as pn
import param

from components.data import CampaignSnapshot
from components.hazard_table import COLUMN_TITLES, days_formatter, display_rows
from components.i18n import register_labels, tabulator_locale, tr, unit_type_label
from components.kpi import KpiCard, format_count
from components.page_view import PageView
from components.read_only_table import ReadOnlyTable
from components.state import DashboardState
from loaders.model import SEVERITY_LABELS
from metrics.dispatch import WeeklyReview, filing_deadline, previous_period, weekly_review
from metrics.filters import HazardFilter, filter_mask

register_labels({
    "dsp_period": ("调度期间", "Period"),
    "dsp_since": ("自某日起", "Since"),
    "dsp_clear_since": ("与上一期比较", "Compare with previous period"),
    "dsp_scope_previous": ("{period} 与上一期 {previous} 相比的变化", "Changes in {period} since the previous period {previous}"),
    "dsp_scope_first": ("{period} 为第一期报送，全部视为新增", "{period} is the first period: everything is new"),
    "dsp_scope_since": ("自 {since} 起报送的变化（涉及 {periods}）", "Changes reported since {since} ({periods})"),
    "dsp_scope_since_none": ("自 {since} 起到 {period} 没有新的报送期", "No period was due between {since} and {period}"),
    "dsp_scope_as_of": ("统计日期 {as_of}；挂牌督办、未报送和数据问题按统计日期计", "As of {as_of}; supervision, missing reports and data findings as of that date"),
    "dsp_new": ("新增隐患", "New hazards"),
    "dsp_rectified": ("新完成整改", "Newly rectified"),
    "dsp_overdue": ("新增逾期", "Newly overdue"),
    "dsp_stalled": ("督办超期未见实质进展", "Supervised, no progress"),
    "dsp_missing": ("逾期未报送单位", "Units not reported"),
    "dsp_findings": ("待处理数据问题", "Open data findings"),
    "dsp_new_detail": ("首次列入台账", "first listed in a ledger"),
    "dsp_rectified_detail": ("上次报送时尚未整改", "not rectified when last reported"),
    "dsp_overdue_detail": ("期限 {since} 至 {until}", "deadline {since} to {until}"),
    "dsp_stalled_detail": ("县级 30 天 / 市级 60 天", "county 30 / city 60 days"),
    "dsp_missing_detail": ("截止 {deadline}", "due {deadline}"),
    "dsp_findings_detail": ("错误和警告", "errors and warnings"),
    "dsp_overdue_rule": ("整改期限在 {since} 至 {until}（不含）之间、截至 {until} 仍未整改的隐患（按当时已报送的台账，之后报送的台账不改变往期结果）。",
                         "Hazards whose deadline fell between {since} and {until} (exclusive) and were not rectified on {until} "
                         "(by the ledgers received by then: later ledgers do not change a past review)."),
    "dsp_stalled_rule": ("仍在挂牌督办的隐患（已撤销督办的不计），自按当前督办层级连续督办的第一期报送截止日起，县级督办超过 30 天、"
                         "市级（省级）督办超过 60 天，整改状态仍为未整改且整改进展未更新。",
                         "Hazards still supervised (lifted supervision stops the clock), from the filing deadline of the first "
                         "period of their continuous supervision at the current level: more than 30 days (county) or "
                         "60 days (city, province) with the status still not started and the progress text unchanged."),
    "dsp_missing_rule": ("此前报送过、但 {period} 的台账或调度表在截止日 {deadline} 后仍未收到的单位。",
                         "Units that reported before but sent no ledger or form for {period} by {deadline}."),
    "dsp_missing_not_due": ("{period} 的报送截止日为 {deadline}，截止日过后仍未报送的单位将列在这里。",
                            "Forms for {period} are due on {deadline}; units still missing after that date will be listed here."),
    "dsp_hazard_hint": ("点击一行在“隐患”页查看详情", "Click a row to open the hazard on the Hazards page"),
    "dsp_unit_hint": ("点击一行按该单位筛选", "Click a row to filter to that unit"),
    "dsp_no_findings": ("没有待处理的数据问题。", "No open data findings."),
    "dsp_col_rectified_in": ("完成整改期间", "Rectified in"),
    "dsp_col_since": ("督办起算日", "Supervised since"),
    "dsp_col_days": ("已督办天数", "Days supervised"),
    "dsp_col_limit": ("时限（天）", "Limit (days)"),
    "dsp_col_progress": ("整改进展", "Progress"),
    "dsp_col_unit_type": ("单位类型", "Unit type"),
    "dsp_col_missing": ("未报送", "Missing"),
    "dsp_col_deadline": ("截止日期", "Due"),
    "dsp_col_file": ("文件", "File"),
    "dsp_col_sheet": ("工作表", "Sheet"),
    "dsp_col_cell": ("单元格", "Cell"),
    "dsp_col_severity": ("级别", "Severity"),
    "dsp_col_message": ("问题说明", "Finding"),
})

LIST_PAGE_SIZE = 10
_EN_SEVERITY = {"error": "Error", "warning": "Warning", "info": "Note"}
_EN_MISSING = {"台账": "ledger", "调度表": "form", "台账和调度表": "ledger and form"}


def severity_label(key: str, lang: str) -> str:
    return (_EN_SEVERITY if lang == "en" else SEVERITY_LABELS).get(key, key)


# Tabulator's pager words in Chinese (its built-in ones are English).
def paged_table(titles: dict[str, str], css_class: str, lang: str, page_size: int = LIST_PAGE_SIZE,
                **params) -> ReadOnlyTable:
    """A read-only, remotely paginated table whose shown columns and headers are ``titles`` (column -> header)."""
    return ReadOnlyTable(
        pagination="remote", page_size=page_size, show_index=False, layout="fit_data_stretch",
        titles=titles, header_align="center", sizing_mode="stretch_width", css_classes=[css_class],
        configuration=tabulator_locale(lang), **params,
    )


@dataclass(frozen=True)
class ListSpec:
    """One list of the review: its name, its shown columns (column -> label key) and what a click opens."""

    name: str
    columns: dict[str, str]
    opens: str  # "hazard" | "unit"
    keys: tuple[str, ...] = ("hazard_id",)  # hidden columns a click or the filter needs


_HAZARD_COLUMNS = {key: COLUMN_TITLES[key] for key in ("unit", "enterprise", "sector", "description", "supervision")}
LISTS = (
    ListSpec("new", {**_HAZARD_COLUMNS, "deadline": "column_deadline", "status": "column_status",
                     "first_period": "column_first_period"}, "hazard"),
    ListSpec("rectified", {**_HAZARD_COLUMNS, "rectified_in": "dsp_col_rectified_in", "deadline": "column_deadline"}, "hazard"),
    ListSpec("overdue", {**_HAZARD_COLUMNS, "deadline": "column_deadline", "days_to_deadline": "column_days",
                         "status": "column_status"}, "hazard"),
    ListSpec("stalled", {**_HAZARD_COLUMNS, "supervised_since": "dsp_col_since", "days_supervised": "dsp_col_days",
                         "limit_days": "dsp_col_limit", "progress_raw": "dsp_col_progress"}, "hazard"),
    ListSpec("missing", {"unit": "column_unit", "unit_type_label": "dsp_col_unit_type", "missing": "dsp_col_missing",
                         "deadline": "dsp_col_deadline"}, "unit", ()),
    ListSpec("findings", {"unit": "column_unit", "file": "dsp_col_file", "sheet": "dsp_col_sheet", "cell": "dsp_col_cell",
                          "severity_label": "dsp_col_severity", "message": "dsp_col_message"}, "unit", ("finding",)),
)
LIST_BY_NAME = {spec.name: spec for spec in LISTS}
# The lists whose rows carry a sector; the others follow only the unit filters.
_SECTOR_LISTS = ("new", "rectified", "overdue", "stalled")
# The lists that call for action: their card turns red when they are not empty.
_ALERT_LISTS = ("overdue", "stalled", "missing", "findings")


def review_for(snapshot: CampaignSnapshot, period: str, since: dt.date | None) -> WeeklyReview:
    """The review of ``period`` (or since ``since``), computed once per snapshot for every session."""
    return snapshot.derived(("weekly_review", period, since),
                        lambda: weekly_review(snapshot.campaign, snapshot.periods, period, since))


def _labels(keys: pd.Series, label: Callable[[str, str], str], lang: str) -> dict[str, str]:
    return {key: label(key, lang) for key in keys.unique()}


def _hazard_rows(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return display_rows(frame.reset_index(drop=True), lang)


def review_rows(review: WeeklyReview, lang: str) -> dict[str, pd.DataFrame]:
    """Each list as the tables show it, row for row aligned with the review's frames (plus hazard_id / unit keys)."""
    stalled = review.stalled.reset_index(drop=True)
    missing = review.missing.reset_index(drop=True)
    findings = review.findings.reset_index(drop=True)
    rows = {
        "new": _hazard_rows(review.new, lang),
        "rectified": _hazard_rows(review.rectified, lang).assign(rectified_in=review.rectified["rectified_in"].to_numpy()),
        "overdue": _hazard_rows(review.overdue, lang),
        "stalled": _hazard_rows(stalled, lang).assign(
            supervised_since=stalled["supervised_since"].astype(str), days_supervised=stalled["days_supervised"],
            limit_days=stalled["limit_days"], progress_raw=stalled["progress_raw"].fillna("")),
        "missing": missing.assign(
            unit_type_label=missing["unit_type"].map(_labels(missing["unit_type"], unit_type_label, lang)),
            missing=missing["missing"].replace(_EN_MISSING) if lang == "en" else missing["missing"],
            deadline=missing["deadline"].astype(str)),
        "findings": findings.assign(severity_label=findings["severity"].map(_labels(findings["severity"], severity_label, lang))),
    }
    return {name: frame[[*LIST_BY_NAME[name].columns, *LIST_BY_NAME[name].keys]] for name, frame in rows.items()}


def _list_filter(state: DashboardState, name: str) -> HazardFilter:
    """The part of the session's filter a list follows: units and unit type, and sectors for hazard lists."""
    return HazardFilter(units=tuple(state.units), unit_type=state.unit_type,
                        sectors=tuple(state.sectors) if name in _SECTOR_LISTS else ())


def filtered_rows(review: WeeklyReview, rows: dict[str, pd.DataFrame], name: str, state: DashboardState) -> pd.DataFrame:
    """The rows of list ``name`` the session's filter leaves (each finding once)."""
    mask = filter_mask(getattr(review, name).reset_index(drop=True), _list_filter(state, name)).to_numpy(dtype=bool)
    shown = rows[name][mask]
    return shown.drop_duplicates("finding") if name == "findings" else shown


class ReviewList(pn.viewable.Viewer):
    """One list: a heading with its count, the rule it follows, a paged table or why it is empty."""

    def __init__(self, spec: ListSpec, lang: str, on_row: Callable[[ListSpec, pd.Series], None]):
        super().__init__()
        self.spec = spec
        self._heading = pn.pane.Markdown(margin=(10, 10, 0, 10), css_classes=[f"hb-dispatch-{spec.name}-heading"])
        self._hint = tr("dsp_hazard_hint" if spec.opens == "hazard" else "dsp_unit_hint", lang)
        self._notes = pn.pane.Markdown(styles={"color": "#666"}, margin=(0, 10), sizing_mode="stretch_width")
        self.table = paged_table(
            {column: tr(key, lang) for column, key in spec.columns.items()}, f"hb-dispatch-{spec.name}", lang,
            formatters={"days_to_deadline": days_formatter(lang)}, hidden_columns=list(spec.keys),
        )
        self.table.on_click(lambda event: on_row(spec, self.table.value.iloc[event.row]))
        self._empty = pn.pane.Alert(alert_type="light", css_classes=[f"hb-dispatch-{spec.name}-empty"], margin=(0, 10))
        self._lang = lang

    def show(self, rows: pd.DataFrame, empty_text: str, rule: str = "") -> None:
        self._notes.object = " ".join(filter(None, [rule, self._hint]))
        self._heading.object = f"#### {tr(f'dsp_{self.spec.name}', self._lang)}（{format_count(len(rows))}）"
        self.table.param.update(value=rows, page=1)
        self.table.visible = not rows.empty
        self._empty.param.update(object=empty_text, visible=rows.empty)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._heading, self._notes, self._empty, self.table, sizing_mode="stretch_width")


class WeeklyDispatch(PageView):
    """The weekly dispatch review of one session: the chosen period or date, six lists and their counts."""

    period = param.Selector(objects=[], doc="The period under review (YYYY-MM)")
    since = param.CalendarDate(default=None, allow_None=True, doc="Review the changes since this date instead")

    def __init__(self, **params):
        super().__init__(**params)
        lang, periods = self.state.lang, self.snapshot.periods
        self.param.period.objects = list(periods)
        if self.period is None:
            self.period = self.snapshot.latest_period
        self._cards = {spec.name: KpiCard(css_name=f"dispatch-{spec.name}") for spec in LISTS}
        self._scope = pn.pane.Markdown(css_classes=["hb-dispatch-scope"], margin=(0, 10), sizing_mode="stretch_width")
        self.lists = {spec.name: ReviewList(spec, lang, self._open) for spec in LISTS}
        clear = pn.widgets.Button(label=tr("dsp_clear_since", lang), color="light", css_classes=["hb-dispatch-clear-since"],
                                  align="end")
        clear.on_click(lambda _event: setattr(self, "since", None))
        self._controls = pn.Row(
            pn.widgets.Select.from_param(self.param.period, name=tr("dsp_period", lang), description=None, width=140,
                                         css_classes=["hb-dispatch-period"]),
            pn.widgets.DatePicker.from_param(self.param.since, name=tr("dsp_since", lang), description=None, width=160,
                                             css_classes=["hb-dispatch-since"]),
            clear,
        )
        self._review()
        self.follow(self, ("period", "since"), self._review)
        self.follow(self.state, ("units", "unit_type", "sectors"), self._show)

    def _review(self) -> None:
        snapshot, lang = self.snapshot, self.state.lang
        self.review = review_for(snapshot, self.period, self.since)
        self._rows = snapshot.derived(("weekly_review_rows", self.period, self.since, lang),
                                  lambda: review_rows(self.review, lang))
        self._scope.object = self._scope_text()
        self._show()

    def _scope_text(self) -> str:
        review, lang, since = self.review, self.state.lang, self.since
        if since is not None:
            key = "dsp_scope_since" if review.periods else "dsp_scope_since_none"
            scope = tr(key, lang).format(since=since.isoformat(), periods="、".join(review.periods), period=review.period)
        elif (previous := previous_period(self.snapshot.periods, review.period)) is not None:
            scope = tr("dsp_scope_previous", lang).format(period=review.period, previous=previous)
        else:
            scope = tr("dsp_scope_first", lang).format(period=review.period)
        as_of = tr("dsp_scope_as_of", lang).format(as_of=self.snapshot.as_of.isoformat())
        return f"**{scope}**  \n{as_of}"

    def shown(self, name: str) -> pd.DataFrame:
        """The rows list ``name`` shows for the session's current filter."""
        return filtered_rows(self.review, self._rows, name, self.state)

    def _show(self) -> None:
        lang, review = self.state.lang, self.review
        deadline = filing_deadline(review.period)
        window = {"since": review.overdue_since.isoformat(), "until": review.overdue_until.isoformat()}
        details = {
            "new": tr("dsp_new_detail", lang),
            "rectified": tr("dsp_rectified_detail", lang),
            "overdue": tr("dsp_overdue_detail", lang).format(**window),
            "stalled": tr("dsp_stalled_detail", lang),
            "missing": tr("dsp_missing_detail", lang).format(deadline=deadline.isoformat()),
            "findings": tr("dsp_findings_detail", lang),
        }
        due = {"period": review.period, "deadline": deadline.isoformat()}
        rules = {
            "overdue": tr("dsp_overdue_rule", lang).format(**window),
            "stalled": tr("dsp_stalled_rule", lang),
            "missing": tr("dsp_missing_rule", lang).format(**due),
        }
        not_due = self.snapshot.as_of <= deadline
        empty = {"missing": tr("dsp_missing_not_due", lang).format(**due) if not_due else tr("no_data", lang),
                 "findings": tr("dsp_no_findings", lang)}
        for name, view in self.lists.items():
            rows = self.shown(name)
            view.show(rows, empty.get(name, tr("no_data", lang)), rules.get(name, ""))
            self._cards[name].param.update(label=tr(f"dsp_{name}", lang), value=format_count(len(rows)),
                                           detail=details[name], alert=name in _ALERT_LISTS and not rows.empty)

    def _open(self, spec: ListSpec, row: pd.Series) -> None:
        if spec.opens == "hazard":
            self.state.param.update(hazard=row["hazard_id"], page="hazards")
        elif row["unit"]:
            self.state.units = [row["unit"]]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._controls, self._scope, pn.FlexBox(*self._cards.values(), sizing_mode="stretch_width"),
            *self.lists.values(), sizing_mode="stretch_width", css_classes=["hb-dispatch"],
        )
