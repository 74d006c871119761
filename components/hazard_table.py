"""The hazard table: every unique hazard the filter leaves, 20 a page, read-only; a click opens its detail.

The rows shown to officers (labels instead of keys, one deadline text) are built once
per snapshot and language for all hazards; a filter change only takes the rows of
the selection's mask. Overdue rows are highlighted by the browser (CSS on the
days cell), so highlighting costs nothing on the server whatever the number of rows.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import HTMLTemplateFormatter

from components.data import CampaignSnapshot, SharedCampaign
from components.filters import HazardSelection
from components.i18n import register_labels, sector_label, status_label, supervision_label, tabulator_locale, tr
from components.page_view import PageView
from components.read_only_table import ReadOnlyTable
from metrics.hazards import MISSING_SECTOR

register_labels({
    "column_unit": ("单位", "Unit"),
    "column_enterprise": ("企业（项目）", "Enterprise (project)"),
    "column_sector": ("行业领域", "Sector"),
    "column_description": ("隐患描述", "Hazard"),
    "column_supervision": ("督办层级", "Supervision"),
    "column_deadline": ("整改期限", "Deadline"),
    "column_status": ("整改状态", "Status"),
    "column_days": ("剩余/逾期天数", "Days left / overdue"),
    "column_first_period": ("首次报送", "First reported"),
    "days_left": ("剩余 {} 天", "{} days left"),
    "days_overdue": ("逾期 {} 天", "{} days overdue"),
    "table_hint": ("点击一行查看隐患详情", "Click a row to see the hazard's detail"),
    "column_notes": ("批注", "Notes"),
})

PAGE_SIZE = 20
# Shown columns (in order) and the key of their header.
COLUMN_TITLES = {
    "unit": "column_unit", "enterprise": "column_enterprise", "sector": "column_sector",
    "description": "column_description", "supervision": "column_supervision", "deadline": "column_deadline",
    "status": "column_status", "days_to_deadline": "column_days", "first_period": "column_first_period",
}
# Shares of the table's width, so the table fits beside the detail panel at any window size.
COLUMN_WIDTHS = {
    "notes": "5%", "unit": "8%", "enterprise": "15%", "sector": "8%", "description": "18%", "supervision": "8%", "deadline": "10%",
    "status": "8%", "days_to_deadline": "11%", "first_period": "9%",
}
OVERDUE_ROW_CSS = """
.tabulator-row.tabulator-row-odd:has(.hb-overdue), .tabulator-row.tabulator-row-even:has(.hb-overdue) {
  background-color: #ffebee;
}
.tabulator-row.tabulator-selectable:has(.hb-overdue):hover { background-color: #ffcdd2; }
.hb-overdue { color: #b71c1c; font-weight: 600; }
"""


def _day_words(key: str, lang: str) -> tuple[str, str]:
    before, _, after = tr(key, lang).partition("{}")
    return before, after


def days_text(days: float | None, lang: str) -> str:
    """The Python twin of ``days_formatter``, for the detail panel."""
    if days is None or pd.isna(days):
        return ""
    return tr("days_overdue", lang).format(int(-days)) if days < 0 else tr("days_left", lang).format(int(days))


def days_formatter(lang: str) -> HTMLTemplateFormatter:
    """Days to the deadline as officers say it: 剩余 12 天, or 逾期 30 天 marked overdue; blank without a date."""
    left_before, left_after = _day_words("days_left", lang)
    over_before, over_after = _day_words("days_overdue", lang)
    return HTMLTemplateFormatter(template=(
        "<% if (value === null || value === undefined || Number.isNaN(value)) { %><% } "
        f"else if (value < 0) {{ %><span class=\"hb-overdue\">{over_before}<%= -value %>{over_after}</span><% }} "
        f"else {{ %>{left_before}<%= value %>{left_after}<% }} %>"
    ))


def notes_formatter() -> HTMLTemplateFormatter:
    """A hazard's number of annotations as a mark, "✎ 2"; blank without any (drawn by the browser)."""
    return HTMLTemplateFormatter(template='<% if (value) { %><span class="hb-notes-mark">✎ <%= value %></span><% } %>')


def _labelled(keys: pd.Series, label, lang: str) -> pd.Series:
    return keys.map({key: label(key, lang) for key in keys.unique()})


def display_rows(unique: pd.DataFrame, lang: str) -> pd.DataFrame:
    """All unique hazards as the table shows them (labels, deadline as ISO date or its raw text), plus hazard_id."""
    deadline = unique["deadline"].dt.strftime("%Y-%m-%d").fillna(unique["deadline_raw"].fillna(""))
    # The days only count for an open hazard; a rectified one has nothing left to count.
    days = unique["days_to_deadline"].where(unique["status"] != "rectified").astype("Int64")
    return pd.DataFrame({
        "hazard_id": unique["hazard_id"],
        "unit": unique["unit"],
        "enterprise": unique["enterprise"],
        "sector": _labelled(unique["sector"].fillna(MISSING_SECTOR), sector_label, lang),
        "description": unique["description"],
        "supervision": _labelled(unique["supervision_level"], supervision_label, lang),
        "deadline": deadline,
        "status": _labelled(unique["status"], status_label, lang),
        "days_to_deadline": days,
        "first_period": unique["first_period"],
    }, index=unique.index)


class HazardTable(PageView):
    """The filtered hazards in a paginated, sortable, read-only table (following the selection until the page is rebuilt)."""

    selection = param.ClassSelector(class_=HazardSelection)
    shared = param.ClassSelector(class_=SharedCampaign, default=None, doc="For the annotation marks (none without it)")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        titles = {column: tr(key, lang) for column, key in COLUMN_TITLES.items()}
        if self.shared is not None:  # the annotation marks: "✎ 2" on a hazard with two annotations
            from components.annotation_panel import book_for, feed_for

            self._book, self._feed = book_for(self.shared), feed_for(self.state, self.shared)
            titles = {"notes": tr("column_notes", lang), **titles}
        else:
            self._book = self._feed = None
        self._table = ReadOnlyTable(
            pagination="remote", page_size=PAGE_SIZE, show_index=False, layout="fit_columns",
            titles=titles, hidden_columns=["hazard_id"],
            widths=COLUMN_WIDTHS, formatters={"days_to_deadline": days_formatter(lang), "notes": notes_formatter()},
            header_align="center",
            # A page holds 20 rows: drawing them all at once ("basic") is cheaper than Tabulator's
            # virtual DOM, which measured and re-filled the rows on every filter change (~60 ms).
            configuration={"columnDefaults": {"headerWordWrap": True}, "renderVertical": "basic",
                           **tabulator_locale(lang)},
            stylesheets=[OVERDUE_ROW_CSS],
            sizing_mode="stretch_width", css_classes=["hb-hazard-table"],
        )
        self._table.on_click(self._open_detail)
        self._empty = pn.pane.Alert(tr("no_data", lang), alert_type="light", css_classes=["hb-table-empty"])
        self._hint = pn.pane.Markdown(tr("table_hint", lang), styles={"color": "#666"}, margin=(0, 10))
        self._show(self.selection.mask)
        self.follow(self.selection, ("mask",), lambda: self._show(self.selection.mask))
        if self._feed is not None:
            self.follow(self._feed, ("revision",), lambda: self._show(self.selection.mask, keep_page=True))

    def _rows(self, snapshot: CampaignSnapshot) -> pd.DataFrame:
        lang = self.state.lang
        return snapshot.derived(("hazard_table_rows", lang),
                            lambda: display_rows(snapshot.campaign.unique_hazards, lang))

    def _show(self, mask, keep_page: bool = False) -> None:
        snapshot = self.selection.snapshot
        rows = self._rows(snapshot)[mask]
        if self._book is not None:
            # One array per snapshot and annotation revision (the feed's poll moves it, never a filter
            # change, which touches no database): only its masked take here.
            rows.insert(0, "notes", self._book.hazard_marks(snapshot, check=False)[mask])
        self._table.param.update(value=rows, page=self._table.page if keep_page else 1)
        self._table.visible = not rows.empty
        self._empty.visible = rows.empty

    def _open_detail(self, event) -> None:
        self.state.hazard = self._table.value["hazard_id"].iloc[event.row]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._hint, self._empty, self._table, sizing_mode="stretch_width")
