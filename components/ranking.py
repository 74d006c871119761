"""Who leads and who lags: the bulletin ranking (通报排名) and the quarterly quotas.

``RankingTables`` ranks counties (with the functional zones) and, separately, city
departments by hazards found or by supervised hazards, with the change since the
previous period; a click on a row filters the dashboard to that unit.
``QuotaProgress`` shows each unit's hazards found in a quarter against its quota,
the units behind in red.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param

from components.chart_style import scrolled
from components.charts_overview import missing_months_text, quota_frame
from components.data import CampaignSnapshot, SharedCampaign
from components.i18n import register_labels, tabulator_locale, tr
from components.kpi import report_period
from components.overview_figures import QuotaBarsChart
from components.page_view import PageView
from components.read_only_table import ReadOnlyTable
from loaders.reference import (
    QUOTA_COUNTY_HAZARDS,
    QUOTA_DEPARTMENT_HAZARDS,
    QUOTA_TYPICAL_CASES,
)
from metrics import dispatch, overview

# The two groups ranked and held to quotas separately: localities (各地) and city departments.
LOCAL_TYPES = ("county", "zone")
DEPARTMENT_TYPES = ("department",)
MEASURES = (overview.HAZARDS_FOUND, "supervised")
# The quota charts: each group's unit types and its quarterly quota of hazards found.
GROUPS = {"local": LOCAL_TYPES, "department": DEPARTMENT_TYPES}
QUOTAS = {"local": QUOTA_COUNTY_HAZARDS, "department": QUOTA_DEPARTMENT_HAZARDS}

register_labels({
    "ov_ranking": ("通报排名", "Bulletin ranking"),
    "ov_ranking_period": ("截至 {period}，与 {previous} 相比", "to {period}, compared with {previous}"),
    "ov_ranking_first": ("截至 {period}（首期，无上期排名）", "to {period} (first period, no previous rank)"),
    "ov_local_units": ("县市区（含功能区）", "Counties and zones"),
    "ov_departments": ("市直部门", "City departments"),
    "ov_measure_hazards_found": ("发现重大隐患（个）", "Hazards found"),
    "ov_measure_supervised": ("挂牌督办隐患（个）", "Supervised hazards"),
    "ov_rank": ("排名", "Rank"),
    "ov_rank_change": ("较上期", "Change"),
    "ov_rank_new": ("新", "new"),
    "ov_click_to_filter": ("点击一行可按该单位筛选。", "Click a row to filter to that unit."),
    "ov_notes": ("批注", "Notes"),
    "ov_quotas": ("季度任务完成情况", "Quarterly quotas"),
    "ov_quarter": ("季度", "Quarter"),
    "ov_quarter_2023Q2": ("2023年第二季度（5–6月）", "2023 Q2 (May–Jun)"),
    "ov_quarter_2023Q3": ("2023年第三季度（7–9月）", "2023 Q3 (Jul–Sep)"),
    "ov_quarter_2023Q4": ("2023年第四季度（10–12月）", "2023 Q4 (Oct–Dec)"),
    "ov_quota_rule": (
        "每季度：各县市区（含功能区）排查不少于 {county} 条、市直部门不少于 {department} 条重大事故隐患，每个单位至少报送 {cases} 起典型执法案例。",
        "Per quarter: each county or zone finds ≥ {county} major hazards, each city department ≥ {department}; "
        "every unit reports ≥ {cases} typical case.",
    ),
    "ov_quota_group": ("{group}：指标 {quota} 个", "{group}: quota {quota}"),
    "ov_quota_months": ("本季已报送 {reported}/{total} 个月的调度表。", "Forms received for {reported} of {total} months of this quarter."),
    "ov_behind_hazards": ("隐患数未达标 {count} 个单位：{units}", "Behind on hazards, {count} units: {units}"),
    "ov_behind_cases": ("典型案例未达标 {count} 个单位：{units}", "Behind on typical cases, {count} units: {units}"),
    "ov_all_met": ("所有单位均已达标。", "Every unit met its quotas."),
    "ov_provisional_title": ("暂定数：以下单位本季数据含缺报月份（缺报不等于零，补报后数字会变）",
                             "Provisional: these units' figures depend on months they did not report (missing is not zero)"),
    "ov_provisional_mark": ("暂定", "provisional"),
    "ov_col_found": ("本季发现隐患（个）", "Hazards found this quarter"),
    "ov_col_cases": ("典型案例（个）", "Typical cases"),
    "ov_col_missing": ("缺报月份", "Months not reported"),
})


def _html_lines(lines: list[str], css_class: str, color: str = "#424242") -> str:
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    return f'<div class="{css_class}" style="font-size:12px;color:{color}">{body}</div>'


def _choice_buttons(target: param.Parameterized, name: str, options: dict[str, str], css_class: str) -> pn.widgets.RadioButtonGroup:
    """Buttons choosing ``target.<name>`` among labelled ``options``."""
    buttons = pn.widgets.RadioButtonGroup(options=options, value=getattr(target, name), color="primary", variant="outline",
                                          css_classes=[css_class])
    buttons.link(target, value=name)
    return buttons


def ranking_table(rows: pd.DataFrame, measure: str, lang: str) -> pd.DataFrame:
    """The rows of ``metrics.overview.ranking`` as shown: rank, unit, value, change, with headers in ``lang``."""
    change = [tr("ov_rank_new", lang) if pd.isna(c) else overview.rank_change_text(c) for c in rows["rank_change"]]
    return pd.DataFrame({
        tr("ov_rank", lang): rows["rank"].astype(int),
        tr("ov_unit", lang): rows["unit"],
        tr(f"ov_measure_{measure}", lang): rows["value"].round().astype(int),
        tr("ov_rank_change", lang): change,
    })


def ranking_for(snapshot: CampaignSnapshot, unit_types: tuple[str, ...], measure: str, period: str | None) -> pd.DataFrame:
    """``metrics.overview.ranking``, computed once per snapshot for every session (and the meeting screen)."""
    return snapshot.derived(("overview_ranking", unit_types, measure, period),
                            lambda: overview.ranking(snapshot.campaign.indicators, unit_types, measure, period))


class RankingTables(PageView):
    """Counties and departments ranked side by side by the chosen measure, at the report period."""

    measure = param.Selector(default=overview.HAZARDS_FOUND, objects=list(MEASURES))
    shared = param.ClassSelector(class_=SharedCampaign, default=None, doc="For the units' annotation badges and notes")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self._book = self._feed = None
        if self.shared is not None and self.shared.store is not None:  # a read-only dataset has no annotations
            from components.annotation_panel import book_for, feed_for, unit_notes

            self._book, self._feed = book_for(self.shared), feed_for(self.state, self.shared)
            self._unit_notes = unit_notes(self.state, self.snapshot, self.shared)
        self._measure_buttons = _choice_buttons(self, "measure", {tr(f"ov_measure_{m}", lang): m for m in MEASURES},
                                                "hb-ranking-measure")
        self._period_line = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self.tables = {group: self._table(group) for group in ("local", "department")}
        self._refresh()
        self.follow(self.state, ("period_end", "units", "lang"), self._refresh)
        if self._feed is not None:
            self.follow(self._feed, ("revision",), self._refresh)

    def _table(self, group: str) -> ReadOnlyTable:
        table = ReadOnlyTable(
            pd.DataFrame(), pagination="remote", page_size=25, show_index=False,
            selectable=True, sizing_mode="stretch_width", css_classes=[f"hb-ranking-{group}"], layout="fit_data_stretch",
            configuration=tabulator_locale(self.state.lang),
        )
        table.on_click(lambda event, table=table: self._toggle_unit(table, event.row))
        return table

    def _toggle_unit(self, table: pn.widgets.Tabulator, row: int) -> None:
        self.state.toggle_unit(table.value.iloc[row][tr("ov_unit", self.state.lang)])

    def rows(self, group: str) -> pd.DataFrame:
        """The ranking of ``group`` ("local" or "department") for the current measure and period."""
        types = LOCAL_TYPES if group == "local" else DEPARTMENT_TYPES
        return ranking_for(self.snapshot, types, self.measure, report_period(self.state, self.snapshot))

    @param.depends("measure", watch=True)
    def _refresh(self) -> None:
        lang = self.state.lang
        for group, table in self.tables.items():
            rows = self.rows(group)
            shown = ranking_table(rows, self.measure, lang)
            if self._book is not None:  # the badge: "✎2" on a unit with two unit or figure annotations
                from components.annotation_panel import unit_badge_text

                counts = self._book.unit_counts(self.snapshot)
                shown[tr("ov_notes", lang)] = [unit_badge_text(unit, counts) for unit in rows["unit"]]
            table.value = shown
            table.selection = [int(i) for i in rows.index[rows["unit"].isin(self.state.units)]]
        period = report_period(self.state, self.snapshot)
        previous = dispatch.previous_period(self.snapshot.periods, period) if period else None
        if period is None:
            line = tr("no_data", lang)
        elif previous is None:
            line = tr("ov_ranking_first", lang).format(period=period)
        else:
            line = tr("ov_ranking_period", lang).format(period=period, previous=previous)
        self._period_line.object = _html_lines([line, tr("ov_click_to_filter", lang)], "hb-ranking-period", "#616161")

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        columns = [pn.Column(f"#### {tr(f'ov_{name}', lang)}", self.tables[group], sizing_mode="stretch_width")
                   for group, name in (("local", "local_units"), ("department", "departments"))]
        notes = [self._unit_notes] if self._book is not None else []
        return pn.Column(self._measure_buttons, self._period_line, *notes, pn.Row(*columns, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")


def default_quarter(snapshot: CampaignSnapshot) -> str:
    """The quarter containing the latest period received (the first quarter before any data)."""
    latest = snapshot.latest_period
    return (overview.quarter_of(latest) if latest else None) or next(iter(overview.QUARTERS))


class QuotaProgress(PageView):
    """Hazards found per unit in a quarter against the quota, and who is behind; follows the unit filter."""

    quarter = param.Selector(objects=list(overview.QUARTERS))
    local_bars = param.DataFrame(doc="quota_frame of the counties and zones in the filter, for the quarter")
    department_bars = param.DataFrame(doc="quota_frame of the city departments in the filter, for the quarter")

    def __init__(self, **params):
        params.setdefault("quarter", default_quarter(params["snapshot"]))
        super().__init__(**params)
        lang = self.state.lang
        self._quarter_buttons = _choice_buttons(self, "quarter", {tr(f"ov_quarter_{q}", lang): q for q in overview.QUARTERS},
                                                "hb-quota-quarter")
        progress = self._set_bars(lang)
        self.charts = {group: QuotaBarsChart(self.param[f"{group}_bars"], quota=QUOTAS[group], lang=lang,
                                             css_class=f"hb-quota-{group}", lifecycle=self.lifecycle)
                       for group in GROUPS}
        # One unit a row: at province scale (87 counties and zones) the chart scrolls within the box.
        self.chart_boxes = {group: scrolled(chart, f"hb-quota-scroll-{group}") for group, chart in self.charts.items()}
        self._titles = {group: pn.pane.Markdown(margin=(0, 10)) for group in self.charts}
        self._empty = {group: pn.pane.HTML(margin=(0, 10)) for group in self.charts}
        self._summary = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self._provisional = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10), css_classes=["hb-quota-provisional"])
        self._show(progress, lang)
        self.follow(self.state, ("units", "unit_type", "lang"), self._refresh)

    def progress(self) -> pd.DataFrame:
        """``quarter_progress`` of the selected quarter, narrowed to the units in the filter."""
        rows = self.snapshot.derived(("overview_quarter", self.quarter),
                             lambda: overview.quarter_progress(self.snapshot.campaign.indicators, self.quarter))
        return overview.filter_units(rows, self.state.hazard_filter)

    def _set_bars(self, lang: str) -> pd.DataFrame:
        """The quarter's progress of the units in the filter, each group's rows into its ``*_bars``."""
        progress = self.progress()
        self.param.update({f"{group}_bars": quota_frame(progress[progress["unit_type"].isin(GROUPS[group])], lang)
                           for group in GROUPS})
        return progress

    @param.depends("quarter", watch=True)
    def _refresh(self) -> None:
        lang = self.state.lang
        self._show(self._set_bars(lang), lang)

    def _show(self, progress: pd.DataFrame, lang: str) -> None:
        """Titles, empty states, the summary and the provisional figures of ``progress`` (the charts follow their frames)."""
        for group in GROUPS:
            empty = getattr(self, f"{group}_bars").empty
            name = tr("ov_local_units" if group == "local" else "ov_departments", lang)
            self._titles[group].object = f"#### {tr('ov_quota_group', lang).format(group=name, quota=QUOTAS[group])}"
            self.chart_boxes[group].visible = not empty
            self._empty[group].object = _html_lines([tr("no_data", lang)], "hb-quota-empty")
            self._empty[group].visible = empty
        self._summary.object = self._summary_html(progress, lang)
        self._provisional.object = provisional_table_html(progress, lang)
        self._provisional.visible = bool(self._provisional.object)

    def _summary_html(self, progress: pd.DataFrame, lang: str) -> str:
        lines = [tr("ov_quota_rule", lang).format(county=QUOTA_COUNTY_HAZARDS, department=QUOTA_DEPARTMENT_HAZARDS,
                                                    cases=QUOTA_TYPICAL_CASES)]
        if progress.empty:
            return _html_lines([*lines, tr("no_data", lang)], "hb-quota-summary")
        reported = int(progress["periods_reported"].max())
        total = int(progress["periods_in_quarter"].iloc[0])
        if reported < total:
            lines.append(tr("ov_quota_months", lang).format(reported=reported, total=total))
        alerts = []
        for column, key in (("behind_hazards", "ov_behind_hazards"), ("behind_cases", "ov_behind_cases")):
            behind = progress.loc[progress[column], "unit"]
            if not behind.empty:
                alerts.append(tr(key, lang).format(count=len(behind), units=(", " if lang == "en" else "、").join(behind)))
        summary = _html_lines(lines, "hb-quota-summary")
        if not alerts:
            return summary + _html_lines([tr("ov_all_met", lang)], "hb-quota-behind", "#2e7d32")
        return summary + _html_lines(alerts, "hb-quota-behind", "#c62828")

    def __panel__(self) -> pn.viewable.Viewable:
        columns = [pn.Column(self._titles[group], self.chart_boxes[group], self._empty[group], sizing_mode="stretch_width")
                   for group in self.charts]
        return pn.Column(self._quarter_buttons, pn.Row(*columns, sizing_mode="stretch_width"), self._summary,
                         self._provisional, sizing_mode="stretch_width")


def _figure_cell(value: object, provisional: bool, lang: str) -> str:
    if pd.isna(value):
        return tr("ov_status_not_reported", lang)
    text = f"{value:,.0f}"
    return f'{text} <span class="hb-provisional-mark" style="color:#e65100">({tr("ov_provisional_mark", lang)})</span>' if provisional else text


def provisional_table_html(progress: pd.DataFrame, lang: str) -> str:
    """The units of ``progress`` with a provisional quarter figure, each with the months not reported ("" when none)."""
    if progress.empty or "provisional" not in progress:
        return ""
    rows = progress[progress["provisional"] | progress["cases_provisional"]]
    if rows.empty:
        return ""
    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{html.escape(tr(key, lang))}</th>"
                   for key in ("ov_unit", "ov_col_found", "ov_col_cases", "ov_col_missing"))
    body = []
    for row in rows.itertuples(index=False):
        months = sorted({m for text in (row.missing_periods, row.cases_missing_periods)
                         for m in str(text or "").split(",") if m})
        cells = (html.escape(row.unit), _figure_cell(row.hazards_found, row.provisional, lang),
                 _figure_cell(row.typical_cases, row.cases_provisional, lang),
                 html.escape(missing_months_text(",".join(months), lang)))
        body.append(f"<tr data-unit='{html.escape(row.unit)}'>" + "".join(f"<td style='padding:2px 10px'>{c}</td>" for c in cells) + "</tr>")
    title = html.escape(tr("ov_provisional_title", lang))
    return (f'<div style="font-size:12px;color:#424242"><div style="color:#e65100">{title}</div>'
            f'<table class="hb-provisional-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')
