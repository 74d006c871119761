"""Views of the dispatch-form indicators shared by the 执法 and 培训与推动 pages.

Each view depends on the session's ``DashboardState`` (units, unit type, period
range) and on its own widgets; the figures come from ``metrics.indicators`` through
one process-wide cache keyed on the dataset, so sessions with the same filter share
the work. The forms carry no sector, statuses or deadlines: only the unit and period
filters apply here, and a note says so when a sector filter is active.
"""

from __future__ import annotations

from typing import Callable

import holoviews as hv
import pandas as pd
import panel as pn
import param

from components import charts_indicators as charts
from components.chart_style import scrolled
from components.data import CampaignSnapshot, SharedCampaign
from components.html_text import choice_options, text as html_text
from components.i18n import indicator_label, register_labels, tabulator_locale, tr, unit_type_label
from components.page_view import Lifecycle, PageView, page_scope
from components.read_only_table import ReadOnlyTable
from components.state import DashboardState
from metrics import indicators as metrics

register_labels({
    "ind_indicator": ("指标", "Indicator"),
    "ind_by_unit": ("各单位累计数（最新一期报送）", "Per unit: latest cumulative figure"),
    "ind_counties_zones": ("县市区、功能区", "Counties and zones"),
    "ind_departments": ("市直部门", "City departments"),
    "ind_over_time": ("逐月新增（由累计数推算）", "Month by month (derived from the cumulative figures)"),
    "ind_by_unit_month": ("各单位逐月新增", "Monthly increment per unit"),
    "ind_heatmap_note": (
        "空白格为未报送（缺报不等于零）；带“*”的格子含缺报月份：该月新增包含此前未报送月份的数，悬停可见月份；"
        "紫色并带“!”的格子表示累计数比上期减少，按报送原样显示，请核实。",
        "Blank cells were not reported (missing, not zero); cells marked “*” include months not reported: that increment "
        "covers the months before it that the unit skipped (hover names them); purple cells marked “!” are cumulative "
        "figures that fell: shown as sent, to be checked.",
    ),
    "ind_decrease_table": ("累计数减少（数据质量问题）", "Cumulative figures that fell (data quality)"),
    "ind_compare": ("单位对比", "Compare units"),
    "ind_compare_units": ("选择 2–5 个单位", "Pick 2–5 units"),
    "ind_compare_hint": ("请至少选择 2 个单位进行对比。", "Pick at least two units to compare."),
    "ind_measure": ("口径", "Measure"),
    "ind_sector_note": (
        "调度表不分行业领域，行业领域筛选对本页不适用；本页按单位、单位类型和报送期间筛选。",
        "The dispatch forms have no sector: the sector filter does not apply here; this page follows the unit, unit type and period filters.",
    ),
    "ind_click_hint": ("点击柱条按该单位筛选，再次点击取消。", "Click a bar to filter to that unit; click it again to clear."),
    "ind_not_on_form": ("所选单位类型的报送表中没有该指标。", "This indicator is not on the forms of the selected unit type."),
    "ind_no_values": ("所选单位和期间内没有该指标的报送数据。", "No figures reported for this indicator in the selected units and periods."),
    "ind_units_reporting": ("个单位报送", "units reporting"),
    "ind_media_title": ("县级主流媒体安全生产专题栏目", "Work-safety columns in county media"),
    "ind_media_opened": ("已开设", "Opened"),
    "ind_media_not_opened": ("未开设", "Not opened"),
    "ind_since": ("起", "since"),
    "ind_spot_by_unit": ("各单位抽查发现的问题（累计）", "Spot-check findings per unit (cumulative)"),
    "ind_spot_over_time": ("抽查发现问题逐月新增", "Spot-check findings month by month"),
    "ind_source_file": ("来源文件", "Source file"),
    "ind_cell": ("单元格", "Cell"),
})

# A unit filter, unit type and period range: what restricts the indicator rows.
Scope = tuple[tuple[str, ...], str, str, str]
COMPARE_MAX_UNITS = 5
COMPARE_DEFAULT_UNITS = 3
TABLE_PAGE_SIZE = 10
# The state's parameters the indicator views follow (the forms carry no sector, status or deadline).
SCOPE_PARAMS = ("units", "unit_type", "period_start", "period_end")


def derived(snapshot: CampaignSnapshot, scope: Scope, function: Callable, *args) -> pd.DataFrame:
    """``function(restricted indicators, *args)``, computed once per dataset and scope for all sessions.

    The result is shared: callers must not modify it.
    """
    return snapshot.derived(("indicators", scope, function, tuple(args)),
                            lambda: function(metrics.restrict(snapshot.campaign.indicators, *scope), *args))


def scope_of(state: DashboardState, with_units: bool = True) -> Scope:
    return (tuple(state.units) if with_units else (), state.unit_type, state.period_start, state.period_end)


def chart_pane(chart: hv.core.Dimensioned, **kwargs) -> pn.pane.HoloViews:
    return pn.pane.HoloViews(chart, backend="bokeh", linked_axes=False, sizing_mode="stretch_width", **kwargs)


def heading(key: str, lang: str) -> pn.pane.Markdown:
    return pn.pane.Markdown(f"### {tr(key, lang)}", margin=(10, 10, 0, 10))


def message(key: str, lang: str) -> pn.pane.Alert:
    return pn.pane.Alert(tr(key, lang), alert_type="light", margin=(5, 10))


def sector_note(state: DashboardState, lifecycle: Lifecycle | None = None) -> pn.pane.Alert:
    """An info line, shown only while a sector filter is active (following the state until the page is rebuilt)."""
    note = pn.pane.Alert(tr("ind_sector_note", state.lang), alert_type="info", margin=(5, 10),
                         visible=bool(state.sectors), css_classes=["hb-sector-note"])
    (lifecycle or page_scope(state)).follow(state, ("sectors",), lambda: setattr(note, "visible", bool(state.sectors)))
    return note


def indicator_options(keys: list[str], lang: str) -> dict[str, str]:
    return {indicator_label(key, lang): key for key in keys}


def indicator_page(state: DashboardState, snapshot: CampaignSnapshot, title_key: str, totals_key: str,
                   keys: tuple[str, ...], *sections: type[pn.viewable.Viewer], shared: SharedCampaign | None = None) -> pn.Column:
    """A page of form indicators: title, sector note, totals, the indicator explorer, then ``sections``.
    With ``shared``, the explorer marks and takes annotations on a unit's figure for a month."""
    views = [section(state=state, snapshot=snapshot, **({"keys": list(keys)} if "keys" in section.param else {}),
                     **({"shared": shared} if "shared" in section.param else {}))
             for section in (IndicatorExplorer, *sections)]
    return pn.Column(
        pn.pane.Markdown(f"## {tr(title_key, state.lang)}", margin=(0, 10)),
        sector_note(state),
        heading(totals_key, state.lang),
        IndicatorTotals(state=state, snapshot=snapshot, keys=list(keys)),
        *views,
        sizing_mode="stretch_width", css_classes=[f"hb-page-{title_key}"],
    )


class IndicatorTotals(PageView):
    """Cards with the summed latest cumulative figure of each key over the filtered units."""

    keys = param.List(item_type=str)

    def cards(self) -> pn.pane.HTML:
        lang = self.state.lang
        totals = derived(self.snapshot, scope_of(self.state), metrics.indicator_totals, tuple(self.keys))
        items = []
        for row in totals.itertuples(index=False):  # one card per key: a handful, not data rows
            value = charts.format_value(row.total, row.key) if row.units else tr("ind_not_reported", lang)
            items.append(
                f'<div class="hb-card" data-key="{html_text(row.key)}"><div class="hb-card-value">{html_text(value)}</div>'
                f'<div class="hb-card-label">{html_text(indicator_label(row.key, lang))}</div>'
                f'<div class="hb-card-note">{html_text(row.units)} {html_text(tr("ind_units_reporting", lang))}</div></div>'
            )
        return pn.pane.HTML(f'<div class="hb-cards">{"".join(items)}</div>', stylesheets=[_CARD_CSS],
                            sizing_mode="stretch_width", css_classes=["hb-indicator-totals"])

    def __panel__(self) -> pn.viewable.Viewable:
        return self.refreshed(self.cards, (self.state, SCOPE_PARAMS))


_CARD_CSS = """
.hb-cards {display: flex; flex-wrap: wrap; gap: 8px;}
.hb-card {flex: 1 1 150px; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 10px; background: #fff;}
.hb-card-value {font-size: 22px; font-weight: 600; color: #b71c1c;}
.hb-card-label {font-size: 13px; color: #37474f;}
.hb-card-note {font-size: 11px; color: #90a4ae;}
.hb-chip {display: inline-block; margin: 3px; padding: 3px 8px; border-radius: 12px; font-size: 13px;}
.hb-chip-opened {background: #2e7d32; color: #fff;}
.hb-chip-not-opened {background: #eceff1; color: #37474f;}
.hb-chip-not-reported {border: 1px dashed #90a4ae; color: #78909c;}
"""


class IndicatorExplorer(PageView):
    """An indicator selector driving the per-unit ranking and the month-by-month views.

    The ranking keeps every unit of the unit-type filter and highlights the unit
    filter (a click on a bar toggles it); the monthly views show only the filtered units.
    """

    keys = param.List(item_type=str)
    key = param.Selector(objects=[])
    shared = param.ClassSelector(class_=SharedCampaign, default=None, doc="For figure annotations (none without it)")
    note_period = param.Selector(objects=[], doc="The month of the figure to annotate")

    def __init__(self, **params):
        super().__init__(**params)
        self.param.key.objects = indicator_options(self.keys, self.state.lang)
        if self.key is None:
            self.key = self.keys[0]
        self.selector = pn.widgets.Select.from_param(self.param.key, name=tr("ind_indicator", self.state.lang),
                                                     width=420, css_classes=["hb-indicator-select"])
        self._book = self._feed = self._figure_notes = None
        if self.shared is not None and self.shared.store is not None:
            from components.annotation_panel import ToggleNotes, book_for, feed_for, figure_subject

            self._book, self._feed = book_for(self.shared), feed_for(self.state, self.shared)
            periods = list(self.snapshot.periods)
            self.param.note_period.objects = periods
            self.note_period = self.state.period_end if self.state.period_end in periods else (periods[-1] if periods else None)

            def subject_for():
                if len(self.state.units) != 1 or not self.note_period:
                    return None
                label = tr("an_figure_button", self.state.lang).replace("{period}", self.note_period)
                return (figure_subject(self.state.units[0], self.key, self.note_period),
                        lambda count: label.replace("{count}", str(count)))

            self._figure_notes = ToggleNotes(subject_for, ((self, ("key", "note_period")), (self.state, ("units",))),
                                             state=self.state, snapshot=self.snapshot, shared=self.shared,
                                             css_name="figure")

    def _ranking(self, unit_type_group: tuple[str, ...], title_key: str) -> pn.viewable.Viewable:
        lang = self.state.lang
        values = derived(self.snapshot, scope_of(self.state, with_units=False), metrics.unit_values, self.key)
        values = values[values["unit_type"].isin(unit_type_group)]
        if values.empty:
            return message("ind_no_values", lang)
        chart = charts.unit_ranking_chart(values, self.key, lang, tuple(self.state.units), tr(title_key, lang))
        bars = chart.get(0)
        selection = hv.streams.Selection1D(source=bars)
        units = bars.data["unit"].tolist()

        def toggle(index: list[int]) -> None:
            if index:
                self.state.toggle_unit(units[index[0]])

        selection.add_subscriber(toggle)
        # One unit a row: at province scale (87 counties and zones) the ranking scrolls within its box.
        return scrolled(chart_pane(chart, css_classes=[f"hb-ranking-{title_key}"]))

    def rankings(self) -> pn.viewable.Viewable:
        """Counties and zones beside departments, each only when its form carries the indicator."""
        lang = self.state.lang
        reporting = set(metrics.unit_types_reporting(self.key))
        if self.state.unit_type:
            reporting &= {self.state.unit_type}
        groups = [(group, title) for group, title in ((("county", "zone"), "ind_counties_zones"), (("department",), "ind_departments"))
                  if reporting & set(group)]
        if not groups:
            return message("ind_not_on_form", lang)
        return pn.Row(*[self._ranking(group, title) for group, title in groups], sizing_mode="stretch_width")

    def over_time(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        scope = scope_of(self.state)
        by_period = derived(self.snapshot, scope, metrics.increments_by_period, self.key)
        if by_period.empty:
            return message("ind_no_values", lang)
        increments = derived(self.snapshot, scope, metrics.monthly_increments, (self.key,))
        parts = [
            chart_pane(charts.increments_chart(by_period, self.key, lang), css_classes=["hb-increments"]),
            heading("ind_by_unit_month", lang),
            pn.pane.Markdown(tr("ind_heatmap_note", lang), margin=(0, 10), styles={"color": "#607d8b"}),
            scrolled(chart_pane(self._marked(charts.increments_heatmap(increments, self.key, lang), increments),
                                css_classes=["hb-increments-heatmap"])),
        ]
        found = increments[increments["decrease"]]
        if not found.empty:
            parts += [heading("ind_decrease_table", lang), decrease_table(found, lang)]
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _marked(self, heatmap: hv.core.Dimensioned, increments: pd.DataFrame) -> hv.core.Dimensioned:
        """The heatmap with "✎" on each cell (unit, month) whose figure has annotations."""
        if self._book is None:
            return heatmap
        from components.annotation_panel import MARK

        marks = self._book.figure_marks(self.snapshot, self.key)
        cells = increments.loc[increments["key"] == self.key, ["period", "unit"]].drop_duplicates()
        marks = marks.merge(cells, on=["period", "unit"])
        if marks.empty:
            return heatmap
        lang = self.state.lang
        labels = hv.Labels(marks.assign(text="      " + MARK).astype({"period": object, "unit": object}),
                           [hv.Dimension("period", label=tr("ind_period", lang)), hv.Dimension("unit", label=tr("ind_unit", lang))],
                           "text").opts(text_color="#b71c1c", text_font_size="11pt", text_align="left", backend="bokeh")
        return heatmap * labels

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        notes_follow = ((self._feed, ("revision",)),) if self._feed is not None else ()
        notes = []
        if self._figure_notes is not None:
            period = pn.widgets.Select.from_param(self.param.note_period, name=tr("an_figure_period", lang), description=None,
                                                  width=120, css_classes=["hb-an-figure-period"])
            notes = [pn.Row(period, self._figure_notes)]
        return pn.Column(
            self.selector,
            *notes,
            heading("ind_by_unit", lang),
            pn.pane.Markdown(tr("ind_click_hint", lang), margin=(0, 10), styles={"color": "#607d8b"}),
            self.refreshed(self.rankings, (self, ("key",)), (self.state, SCOPE_PARAMS)),
            heading("ind_over_time", lang),
            self.refreshed(self.over_time, (self, ("key",)), (self.state, SCOPE_PARAMS), *notes_follow),
            sizing_mode="stretch_width",
        )


def decrease_table(found: pd.DataFrame, lang: str) -> ReadOnlyTable:
    """The findings as a read-only table: unit, period, cumulative, increment and where it was read."""
    columns = {
        "unit": tr("ind_unit", lang), "period": tr("ind_period", lang), "cumulative": tr("ind_cumulative", lang),
        "increment": tr("ind_increment", lang), "source_file": tr("ind_source_file", lang), "cell": tr("ind_cell", lang),
    }
    return ReadOnlyTable(
        found[list(columns)].reset_index(drop=True), titles=columns, show_index=False,
        pagination="remote", page_size=TABLE_PAGE_SIZE, sizing_mode="stretch_width", css_classes=["hb-decreases"],
        configuration=tabulator_locale(lang),
    )


class UnitComparison(PageView):
    """2–5 units side by side over one indicator, per period (monthly increment or cumulative)."""

    keys = param.List(item_type=str)
    key = param.Selector(objects=[])
    units = param.List(item_type=str)
    value = param.Selector(objects=["increment", "cumulative"], default="increment")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self.param.key.objects = indicator_options(self.keys, lang)
        if self.key is None:
            self.key = self.keys[0]
        if not self.units:
            self.units = self._default_units()
        all_units = sorted(set(self.snapshot.campaign.indicators["unit"]))
        self.key_selector = pn.widgets.Select.from_param(self.param.key, name=tr("ind_indicator", lang), width=420)
        self.unit_picker = pn.widgets.MultiChoice.from_param(
            self.param.units, name=tr("ind_compare_units", lang), options=choice_options(all_units), max_items=COMPARE_MAX_UNITS,
            width=480, css_classes=["hb-compare-units"],
        )
        self.value_switch = pn.widgets.RadioButtonGroup.from_param(
            self.param.value, options={tr("ind_increment", lang): "increment", tr("ind_cumulative", lang): "cumulative"},
            name=tr("ind_measure", lang),
        )

    def _default_units(self) -> list[str]:
        """The filtered units when 2–5 are picked, otherwise the top units for the indicator."""
        if 2 <= len(self.state.units) <= COMPARE_MAX_UNITS:
            return list(self.state.units)
        values = derived(self.snapshot, scope_of(self.state, with_units=False), metrics.unit_values, self.key)
        return values.dropna(subset=["value"])["unit"].head(COMPARE_DEFAULT_UNITS).tolist()

    def chart(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        if len(self.units) < 2:
            return message("ind_compare_hint", lang)
        scope = ((), "", self.state.period_start, self.state.period_end)
        frame = derived(self.snapshot, scope, metrics.comparison, self.key, tuple(self.units), self.value)
        if frame["value"].isna().all():
            return message("ind_no_values", lang)
        return chart_pane(charts.comparison_chart(frame, self.key, lang, self.value), css_classes=["hb-comparison"])

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            heading("ind_compare", self.state.lang),
            pn.Row(self.key_selector, self.unit_picker, self.value_switch),
            self.refreshed(self.chart, (self, ("key", "units", "value")), (self.state, ("period_start", "period_end"))),
            sizing_mode="stretch_width",
        )


class SpotCheckView(PageView):
    """The seven failure categories of the departments' spot checks: per unit and month by month."""

    measure = param.Selector(objects=["count", "per_100"], default="count")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self.measure_switch = pn.widgets.RadioButtonGroup.from_param(
            self.param.measure, options={tr("ind_count", lang): "count", tr("ind_per_100", lang): "per_100"},
            css_classes=["hb-spot-measure"],
        )

    def by_unit(self) -> pn.viewable.Viewable:
        matrix = derived(self.snapshot, scope_of(self.state), metrics.spot_check_matrix)
        if matrix.empty:
            return message("ind_no_values", self.state.lang)
        return scrolled(chart_pane(charts.spot_check_heatmap(matrix, self.state.lang, self.measure),
                                   css_classes=["hb-spot-heatmap"]))

    def over_time(self) -> pn.viewable.Viewable:
        by_period = derived(self.snapshot, scope_of(self.state), metrics.spot_checks_by_period)
        if by_period.empty:
            return message("ind_no_values", self.state.lang)
        return chart_pane(charts.spot_check_trend_chart(by_period, self.state.lang), css_classes=["hb-spot-trend"])

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        return pn.Column(
            heading("ind_spot_by_unit", lang), self.measure_switch,
            self.refreshed(self.by_unit, (self, ("measure",)), (self.state, SCOPE_PARAMS)),
            heading("ind_spot_over_time", lang), self.refreshed(self.over_time, (self.state, SCOPE_PARAMS)),
            sizing_mode="stretch_width",
        )


class MediaColumnView(PageView):
    """Which counties and zones have opened a work-safety column in their main local media."""

    def chips(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        columns = derived(self.snapshot, scope_of(self.state), metrics.media_columns)
        if columns.empty:
            return message("ind_no_values", lang)
        opened = columns["opened"]
        text = pd.Series(tr("ind_not_reported", lang), index=columns.index)
        text = text.mask(opened.eq(True), tr("ind_media_opened", lang) + "（" + columns["since"].fillna("") + " " + tr("ind_since", lang) + "）")
        text = text.mask(opened.eq(False), tr("ind_media_not_opened", lang))
        kind = pd.Series("not-reported", index=columns.index).mask(opened.eq(True), "opened").mask(opened.eq(False), "not-opened")
        # Unit names (and the "since" period) come from workbooks: every piece is escaped.
        chips = [f'<span class="hb-chip hb-chip-{html_text(k)}" title="{html_text(unit_type_label(t, lang))}">'
                 f'{html_text(u)} · {html_text(x)}</span>'
                 for k, t, u, x in zip(kind, columns["unit_type"], columns["unit"], text)]
        summary = html_text(f'{tr("ind_media_opened", lang)} {int(opened.eq(True).sum())} / {len(columns)}')
        return pn.pane.HTML(f"<div><b>{summary}</b></div><div>{''.join(chips)}</div>", stylesheets=[_CARD_CSS],
                            sizing_mode="stretch_width", css_classes=["hb-media-columns"])

    def __panel__(self) -> pn.viewable.Viewable:
        # A chip per county and zone: at province scale (87) they scroll within a box.
        return pn.Column(heading("ind_media_title", self.state.lang),
                         scrolled(self.refreshed(self.chips, (self.state, SCOPE_PARAMS)), "hb-media-scroll", 320),
                         sizing_mode="stretch_width")
