"""The submissions history: every form and ledger ever received, per unit and period, superseded ones marked.

The history is read from the store once per snapshot (an upload makes a new snapshot)
and shared by every session; the unit and period filters only mask it.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import HTMLTemplateFormatter

from components.data import CampaignSnapshot, SharedCampaign
from components.dispatch_views import paged_table
from components.i18n import register_labels, tr, unit_type_label
from components.state import DashboardState
from loaders.model import KIND_LABELS

register_labels({
    "sub_heading": ("报送历史", "Submission history"),
    "sub_unit": ("单位", "Unit"),
    "sub_period": ("期间", "Period"),
    "sub_col_unit_type": ("单位类型", "Unit type"),
    "sub_col_kind": ("报送类型", "Form"),
    "sub_col_sheet": ("工作表", "Sheet"),
    "sub_col_reported_on": ("填报日期", "Filed on"),
    "sub_col_records": ("记录数", "Records"),
    "sub_col_file": ("文件", "File"),
    "sub_col_ingested_at": ("导入时间", "Imported at"),
    "sub_col_state": ("状态", "State"),
    "sub_col_superseded_by": ("替代文件", "Superseded by"),
    "sub_active": ("当前有效", "Current"),
    "sub_superseded": ("被替代", "Superseded"),
    "sub_added": ("补报并入", "Supplement added"),
    "sub_held_aside": ("不在行动期间，未计入", "Outside the campaign, not counted"),
    "sub_hint": ("同一单位、同一期间、同一类报表再次报送时，以后导入的为准；同一批导入的，标“更正”的优先，其次填报日期较晚的，"
                 "再次文件名排在后面的。旧的标为“被替代”，补报台账并入当月台账，月份不在2023年5—12月的单独保存、不计入统计。",
                 "When a unit sends the same form for the same period again, the later import counts; within one import a "
                 "file marked 更正 (correction) counts first, then the later filing date, then the later file name. Older ones "
                 "are marked superseded; a 补报 ledger is added to its month; a month outside May–December 2023 is kept "
                 "aside and not counted."),
    "sub_read_only": ("当前数据集为只读（未连接数据库），没有报送历史。", "This dataset is read-only (no database): no submission history."),
})

_EN_KINDS = {
    "ledger": "Hazard ledger (att. 2)", "county_form": "County dispatch form (att. 3)",
    "department_form": "Department dispatch form (att. 4)", "registry": "Notice board (att. 1)",
}
# Times are stored in UTC; officers read them in China Standard Time.
LOCAL_TIME_ZONE = "Asia/Shanghai"
HISTORY_PAGE_SIZE = 20
HISTORY_COLUMNS = {
    "unit": "sub_unit", "unit_type": "sub_col_unit_type", "period": "sub_period", "kind": "sub_col_kind",
    "sheet": "sub_col_sheet", "reported_on": "sub_col_reported_on", "records": "sub_col_records",
    "file_name": "sub_col_file", "ingested_at": "sub_col_ingested_at", "state": "sub_col_state",
    "superseded_by": "sub_col_superseded_by",
}
SUPERSEDED_ROW_CSS = """
.tabulator-row:has(.hb-superseded) { color: #9e9e9e; }
.hb-superseded { color: #b71c1c; }
"""


def kind_label(key: str, lang: str) -> str:
    return (_EN_KINDS if lang == "en" else KIND_LABELS).get(key, key)


def history_rows(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``Store.submission_history()`` as the table shows it: labels, local times, the state of each submission."""
    superseded = ~history["active"].astype(bool)
    state_labels = {"active": tr("sub_active", lang), "superseded": tr("sub_superseded", lang),
                    "added": tr("sub_added", lang), "held_aside": tr("sub_held_aside", lang)}
    return pd.DataFrame({
        "unit": history["unit"],
        "unit_type": history["unit_type"].map({key: unit_type_label(key, lang) for key in history["unit_type"].unique()}),
        "period": history["period"].fillna(""),
        "kind": history["kind"].map({key: kind_label(key, lang) for key in history["kind"].unique()}),
        "sheet": history["sheet"],
        "reported_on": history["reported_on"].astype(str).replace({"None": "", "NaT": ""}),
        "records": history["records"],
        "file_name": history["file_name"],
        "ingested_at": history["ingested_at"].dt.tz_convert(LOCAL_TIME_ZONE).dt.strftime("%Y-%m-%d %H:%M"),
        "state": history["state"].map(state_labels),
        "superseded_by": history["superseded_by_file_name"].fillna(""),
        "superseded": superseded,
    }, index=history.index)


def submission_history(shared: SharedCampaign, snapshot: CampaignSnapshot) -> pd.DataFrame:
    """The store's full submission history, read once per snapshot; a unit officer's snapshot
    (``CampaignSnapshot.scope_unit``) keeps that unit's submissions only."""
    def build() -> pd.DataFrame:
        history = shared.store.submission_history()
        if snapshot.scope_unit is not None:
            history = history[history["unit"] == snapshot.scope_unit]
        return history

    return snapshot.derived("submission_history", build)


class SubmissionHistory(pn.viewable.Viewer):
    """The history table with its unit and period filters."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)
    snapshot = param.ClassSelector(class_=CampaignSnapshot)
    unit = param.String(default="", doc="Only this unit's submissions (empty: all)")
    period = param.String(default="", doc="Only this period's submissions (empty: all)")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        everything = {tr("all", lang): ""}
        self._unit = pn.widgets.Select.from_param(
            self.param.unit, name=tr("sub_unit", lang), description=None, options={**everything, **{u: u for u in self.snapshot.units}},
            width=180, css_classes=["hb-history-unit"])
        self._period = pn.widgets.Select.from_param(
            self.param.period, name=tr("sub_period", lang), description=None, options={**everything, **{p: p for p in self.snapshot.periods}},
            width=140, css_classes=["hb-history-period"])
        self.table = paged_table(
            {column: tr(key, lang) for column, key in HISTORY_COLUMNS.items()}, "hb-history-table", lang,
            page_size=HISTORY_PAGE_SIZE, hidden_columns=["superseded"], stylesheets=[SUPERSEDED_ROW_CSS],
            formatters={"state": HTMLTemplateFormatter(
                template='<% if (superseded) { %><span class="hb-superseded"><%= value %></span><% } else { %><%= value %><% } %>')},
        )
        self._all_rows = history_rows(submission_history(self.shared, self.snapshot), lang)
        self._empty = pn.pane.Alert(tr("no_data", lang), alert_type="light", css_classes=["hb-history-empty"])
        self._show()
        self.param.watch(lambda _event: self._show(), ["unit", "period"])

    def shown(self) -> pd.DataFrame:
        rows = self._all_rows
        mask = pd.Series(True, index=rows.index)
        if self.unit:
            mask &= rows["unit"] == self.unit
        if self.period:
            mask &= rows["period"] == self.period
        return rows[mask]

    def _show(self) -> None:
        rows = self.shown()
        self.table.param.update(value=rows, page=1, visible=not rows.empty)
        self._empty.visible = rows.empty

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown(f"### {tr('sub_heading', self.state.lang)}", margin=(10, 10, 0, 10)),
            pn.pane.Markdown(tr("sub_hint", self.state.lang), styles={"color": "#666"}, margin=(0, 10)),
            pn.Row(self._unit, self._period), self._empty, self.table,
            sizing_mode="stretch_width", css_classes=["hb-history"],
        )
