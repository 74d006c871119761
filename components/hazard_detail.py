"""The detail of the hazard the officer clicked: what it is, its deadline, its history, who answers for it.

Everything shown comes from the snapshot's ``HazardIndex`` (history and registry
looked up, not searched), so opening a hazard costs the same with 100 or 100,000 of them.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param

from components.data import SharedCampaign
from components.filters import hazard_index
from components.hazard_table import days_text
from components.i18n import register_labels, sector_label, status_label, supervision_label, tr
from components.page_view import PageView
from metrics.hazards import MISSING_SECTOR, hazard_history, registry_entry

register_labels({
    "detail_title": ("隐患详情", "Hazard detail"),
    "detail_empty": ("点击表格中的一条隐患，在此查看详情。", "Click a hazard in the table to see its detail here."),
    "detail_unknown": ("当前数据中没有这条隐患。", "This hazard is not in the current data."),
    "detail_close": ("关闭", "Close"),
    "detail_measures": ("整改措施", "Measures"),
    "detail_supervision_doc": ("督办文件", "Supervision document"),
    "detail_no_deadline": ("无具体日期", "no date"),
    "detail_history": ("整改历程", "History"),
    "detail_period": ("报送月份", "Period"),
    "detail_progress": ("整改进展", "Progress"),
    "detail_leader": ("挂点领导", "Leader in charge"),
    "detail_head": ("企业主要负责人", "Head of the enterprise"),
    "detail_cadre": ("责任干部", "Cadre in charge"),
    "detail_responsible_unit": ("责任单位", "Responsible unit"),
    "detail_board_of": ("（{unit}报送的公示牌）", "(notice board sent by {unit})"),
    "detail_not_in_registry": ("安全生产责任公示牌中没有这家企业。", "This enterprise is not on the notice-board registry."),
    "detail_source": ("数据来源", "Source"),
    "detail_row": ("第 {} 行", "row {}"),
    "detail_notes": ("✎ 批注", "✎ Annotations"),
})

DETAIL_WIDTH = 380


def _text(value: object) -> str:
    """Escaped text of a cell from a workbook; blank for missing values."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else html.escape(str(value))


def _key(value: object, missing: str) -> str:
    return value if isinstance(value, str) and value else missing


def _person(entry: dict, name_key: str, phone_key: str) -> str:
    return " ".join(part for part in (_text(entry.get(name_key)), _text(entry.get(phone_key))) if part) or "—"


def _deadline_text(hazard: pd.Series, lang: str) -> str:
    if pd.isna(hazard["deadline"]):
        raw = _text(hazard["deadline_raw"])
        return f"{raw}（{tr('detail_no_deadline', lang)}）" if raw else tr("detail_no_deadline", lang)
    text = hazard["deadline"].strftime("%Y-%m-%d")
    days = None if hazard["status"] == "rectified" else hazard["days_to_deadline"]
    remaining = days_text(days, lang)
    return f"{text}（{remaining}）" if remaining else text


def _registry_lines(entry: dict | None, lang: str, unit: str = "") -> list[str]:
    if entry is None:
        return [tr("detail_not_in_registry", lang)]
    sender = _text(entry.get("unit"))
    other = [tr("detail_board_of", lang).format(unit=sender)] if sender and unit and sender != unit else []
    return [*other,
        f"**{tr('detail_leader', lang)}**：{_person(entry, 'leader', 'leader_phone')}",
        f"**{tr('detail_head', lang)}**：{_person(entry, 'head', 'head_phone')}",
        f"**{tr('detail_cadre', lang)}**：{_person(entry, 'cadre', 'cadre_phone')}",
        f"**{tr('detail_responsible_unit', lang)}**：{_text(entry.get('responsible_unit')) or '—'}",
    ]


def _history_table(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    statuses = history["status"].map({key: status_label(key, lang) for key in history["status"].unique()})
    return pd.DataFrame({
        tr("detail_period", lang): history["period"],
        tr("detail_progress", lang): history["progress_raw"],
        tr("statuses", lang): statuses,
    })


class HazardDetail(PageView):
    """Beside the table: the hazard in ``state.hazard``, or a hint when none is open; with ``shared``, its
    annotations, and the hazard as the new dataset has it after a data change."""

    shared = param.ClassSelector(class_=SharedCampaign, default=None, doc="For the hazard's annotations (none without it)")

    def __init__(self, **params):
        super().__init__(**params)
        self._notes = None
        self._close = pn.widgets.Button(label=tr("detail_close", self.state.lang), color="light", width=80,
                                        css_classes=["hb-detail-close"])
        self._close.on_click(lambda _event: setattr(self.state, "hazard", ""))
        self._body = pn.Column(self._render(self.state.hazard), sizing_mode="stretch_width")
        self.follow(self.state, ("hazard",), self._redraw)
        if self.shared is not None:  # the page stays across a data change (``begin_page(follows_data=True)``)
            self.follow(self.state, ("data_revision",), self._take_new_data)

    def _redraw(self) -> None:
        self._body.objects = [self._render(self.state.hazard)]

    def _take_new_data(self) -> None:
        snapshot = self.shared.snapshot
        if snapshot is not self.snapshot:
            self.snapshot = snapshot
            if self.state.hazard:  # the hint needs no redraw
                self._redraw()

    def _annotations(self, hazard_id: str) -> list:
        """The hazard's annotations and the editor (the previous hazard's stop following)."""
        if self._notes is not None:
            self._notes.close()
            self._notes = None
        if self.shared is None or self.shared.store is None:
            return []
        from components.annotation_panel import SubjectNotes, hazard_subject

        self._notes = SubjectNotes(state=self.state, snapshot=self.snapshot, shared=self.shared,
                                   subject=hazard_subject(hazard_id), title=tr("detail_notes", self.state.lang))
        return [self._notes]

    def _render(self, hazard_id: str) -> pn.viewable.Viewable:
        lang = self.state.lang
        title = pn.pane.Markdown(f"### {tr('detail_title', lang)}", margin=(0, 10))
        if not hazard_id:
            return pn.Column(title, pn.pane.Alert(tr("detail_empty", lang), alert_type="light"))
        unique = self.snapshot.campaign.unique_hazards
        matches = unique[unique["hazard_id"] == hazard_id]
        if matches.empty:
            return pn.Column(pn.Row(title, self._close), pn.pane.Alert(tr("detail_unknown", lang), alert_type="warning"))
        hazard = matches.iloc[0]
        index = hazard_index(self.snapshot)
        supervision = supervision_label(hazard["supervision_level"], lang)
        document = _text(hazard["supervision_doc"])
        lines = [
            f"#### {_text(hazard['enterprise'])}",
            f"**{tr('column_unit', lang)}**：{_text(hazard['unit'])}　"
            f"**{tr('column_sector', lang)}**：{sector_label(_key(hazard['sector'], MISSING_SECTOR), lang)}　"
            f"**{tr('column_status', lang)}**：{status_label(hazard['status'], lang)}",
            f"**{tr('column_description', lang)}**：{_text(hazard['description'])}",
            f"**{tr('detail_measures', lang)}**：{_text(hazard['measures']) or '—'}",
            f"**{tr('column_supervision', lang)}**：{supervision}"
            + (f"　**{tr('detail_supervision_doc', lang)}**：{document}" if document else ""),
            f"**{tr('column_deadline', lang)}**：{_deadline_text(hazard, lang)}",
            *_registry_lines(registry_entry(index, hazard["enterprise"], _text(hazard["unit"])), lang, _text(hazard["unit"])),
        ]
        source = (f"{tr('detail_source', lang)}：{_text(hazard['source_file'])} · {_text(hazard['source_sheet'])} · "
                  f"{tr('detail_row', lang).format(hazard['source_row'])}")
        return pn.Column(
            pn.Row(title, pn.layout.HSpacer(), self._close),
            pn.pane.Markdown("\n\n".join(lines), sizing_mode="stretch_width", css_classes=["hb-detail-body"]),
            pn.pane.Markdown(f"**{tr('detail_history', lang)}**", margin=(0, 10)),
            pn.pane.DataFrame(_history_table(hazard_history(index, hazard_id), lang), index=False,
                              sizing_mode="stretch_width", css_classes=["hb-detail-history"]),
            pn.pane.Markdown(source, styles={"color": "#666", "font-size": "12px"}, css_classes=["hb-detail-source"]),
            *self._annotations(hazard_id),
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._body, width=DETAIL_WIDTH,
                         css_classes=["hb-hazard-detail"], styles={"border-left": "1px solid #ddd"})
