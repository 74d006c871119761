"""The Excel workbook of a briefing pack (简报 Excel 汇总表), written with xlsxwriter.

Every figure comes from ``BriefingFigures`` (``metrics.briefing``); nothing is computed here but
display: labels, "—" for a value not reported, days overdue as a positive number. Sheets:

- 附件2 重大事故隐患排查整治台账: the unique hazards in scope in the official ledger layout (title,
  填报单位 line, the template's header), readable again by ``loaders.load_workbook``;
- 附件3 汇总表 / 附件4 汇总表: each unit's latest cumulative form values up to the period, in the
  consolidated layout of ``sample_data.writers`` (sections, printed labels, 次/万元 sub-columns), 合计;
- 通报排名, 季度任务, 行业领域, 执法情况, 宣传培训, 总体进展, 单位进展, 逾期隐患, 挂牌督办, 工作批注.

Officials' text never becomes a formula: every string is written with ``write_string`` (and the
workbook is opened with strings_to_formulas/urls/numbers off besides). The same figures and
issue date give the same bytes: the document date is the issue date and the zip entries carry
xlsxwriter's fixed in-memory timestamp.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import xlsxwriter

from loaders.reference import (
    INDICATOR_BY_KEY,
    LEDGER_COLUMNS,
    SECTOR_LABELS,
    STATUS_LABELS,
    SUPERVISION_LABELS,
    SUPERVISION_PROGRESS_DAYS,
    UNIT_TYPE_LABELS,
)
from briefing.formats import format_rate, is_missing
from metrics.briefing import ENFORCEMENT_KEYS, TRAINING_KEYS, BriefingFigures, change, form_summary
from metrics.overview import OverviewKpis, rank_change_text
from sample_data.writers import (
    FORM_NOTES,
    LEDGER_TITLE,
    LEDGER_WIDTHS,
    WIDE_UNIT_LABELS,
    form_label,
    ledger_filler_text,
    pair_keys,
    pair_sub_label,
    wide_form_columns,
)

NOT_REPORTED = "—"
FILLING_UNIT = "赣州市安全生产委员会办公室（汇总）"
CITY = "赣州市"

SHEET_LEDGER = "附件2 重大事故隐患排查整治台账"
SHEET_COUNTY_FORMS = "附件3 汇总表"
SHEET_DEPARTMENT_FORMS = "附件4 汇总表"
SHEET_RANKING = "通报排名"
SHEET_QUOTA = "季度任务"
SHEET_SECTORS = "行业领域"
SHEET_ENFORCEMENT = "执法情况"
SHEET_TRAINING = "宣传培训"
SHEET_KPIS = "总体进展"
SHEET_UNITS = "单位进展"
SHEET_OVERDUE = "逾期隐患"
SHEET_SUPERVISED = "挂牌督办"
SHEET_ANNOTATIONS = "工作批注"

# The units each consolidated form holds.
FORM_UNIT_TYPES = {3: ("county", "zone"), 4: ("department",)}
FORM_TITLES = {
    3: "赣州市县（市、区）重大事故隐患专项排查整治进展情况调度汇总表",
    4: "赣州市市直部门重大事故隐患专项排查整治进展情况调度汇总表",
}
QUARTER_LABELS = {"Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度", "Q4": "第四季度"}
ANNOTATION_KIND_LABELS = {"hazard": "隐患", "unit": "单位", "figure": "指标数值", "view": "页面视图"}
ANNOTATION_STATUS_LABELS = {"open": "未办结", "resolved": "已办结"}

# 总体进展: (label, how to read it from OverviewKpis, kind). Kinds: count, money, pct.
KPI_ROWS: tuple[tuple[str, Callable[[OverviewKpis], Any], str], ...] = (
    ("报送调度表单位数（个）", lambda k: k.units_reporting, "count"),
    ("排查发现重大事故隐患（个）", lambda k: k.hazards_found, "count"),
    ("其中企业自查发现（个）", lambda k: k.self_found, "count"),
    ("其中部门检查发现（个）", lambda k: k.dept_found, "count"),
    ("已完成整治（个）", lambda k: k.rectified, "count"),
    ("其中企业自查发现已整治（个）", lambda k: k.self_rectified, "count"),
    ("其中部门检查发现已整治（个）", lambda k: k.dept_rectified, "count"),
    ("整改率", lambda k: k.rectification_rate, "pct"),
    ("政府挂牌督办（个）", lambda k: k.supervised, "count"),
    ("挂牌督办已完成整治（个）", lambda k: k.supervised_rectified, "count"),
    ("行政处罚（次）", lambda k: k.penalties, "count"),
    ("行政处罚（万元）", lambda k: k.fines_wan, "money"),
    ("“一案双罚”（次）", lambda k: k.dual_penalties, "count"),
    ("责令停产整顿（家）", lambda k: k.suspensions, "count"),
    ("曝光、约谈、联合惩戒企业（家）", lambda k: k.exposures, "count"),
    ("移送司法机关（人）", lambda k: k.judicial_transfers, "count"),
    ("责任倒查追责问责（人）", lambda k: k.accountability, "count"),
    ("台账重大隐患（条）", lambda k: k.ledger_hazards, "count"),
    ("台账省级挂牌督办（条）", lambda k: k.ledger_supervised_province, "count"),
    ("台账市级挂牌督办（条）", lambda k: k.ledger_supervised_city, "count"),
    ("台账县级挂牌督办（条）", lambda k: k.ledger_supervised_county, "count"),
    ("逾期未整改隐患（条）", lambda k: k.overdue, "count"),
)


@dataclass(frozen=True)
class Typed:
    """A table value written with its own kind instead of its column's (a money or rate row)."""

    value: object
    kind: str


@dataclass(frozen=True)
class Column:
    """One column of a plain table: header, kind (text, count, money, pct, date, days) and width."""

    header: str
    kind: str = "text"
    width: float = 12


def write_workbook(figures: BriefingFigures, path: str | Path | BinaryIO, issue_date: dt.date) -> None:
    """Write the pack's workbook to ``path`` (a file path or a binary file object)."""
    target: Any = str(path) if isinstance(path, (str, Path)) else path
    workbook = xlsxwriter.Workbook(target, {
        "in_memory": True,  # zip entries dated 1980-01-01 by xlsxwriter, no temp files
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": False,
    })
    created = dt.datetime(issue_date.year, issue_date.month, issue_date.day)
    workbook.set_properties({
        "title": f"{_scope_title(figures)}重大事故隐患专项排查整治简报数据（{period_text(figures.period)}）",
        "author": FILLING_UNIT,
        "company": "赣州市安全生产委员会办公室",
        "created": created,
    })
    writer = _Writer(workbook, figures, issue_date)
    writer.ledger()
    for form in (3, 4):
        writer.form_summary(form)
    writer.ranking()
    writer.quota()
    writer.sectors()
    writer.unit_keys(SHEET_ENFORCEMENT, "执法情况", figures.enforcement, figures.enforcement_totals, ENFORCEMENT_KEYS)
    writer.unit_keys(SHEET_TRAINING, "宣传培训与组织推动情况", figures.training, figures.training_totals, TRAINING_KEYS)
    writer.kpis()
    writer.unit_progress()
    writer.overdue()
    writer.supervised()
    writer.annotations()
    workbook.close()


def workbook_bytes(figures: BriefingFigures, issue_date: dt.date) -> bytes:
    buffer = io.BytesIO()
    write_workbook(figures, buffer, issue_date)
    return buffer.getvalue()


# --- display helpers (no figures) -----------------------------------------------------------------

def period_text(period: str | None) -> str:
    """"2023-08" → "2023年8月"."""
    if not period:
        return ""
    year, month = period.split("-")
    return f"{int(year)}年{int(month)}月"


def quarter_text(quarter: str | None) -> str:
    """"2023Q3" → "2023年第三季度"."""
    if not quarter:
        return ""
    year, q = quarter[:4], quarter[4:]
    return f"{year}年{QUARTER_LABELS.get(q, q)}"


def date_text(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"




def number(value: object) -> int | float | None:
    """A figure as written in a cell: int when integral, float otherwise (rounded off float noise)."""
    if is_missing(value):
        return None
    value = float(value)
    if math.isinf(value):
        return None
    if value.is_integer():
        return int(value)
    return round(value, 10)  # 192.70000000000002 → 192.7; rates keep their precision




def points_text(delta: object) -> str:
    """A change of rate in percentage points: 0.023 → "+2.3个百分点"."""
    if is_missing(delta):
        return NOT_REPORTED
    return f"{float(delta) * 100:+.1f}个百分点"


def signed_text(delta: object) -> str:
    value = number(delta)
    if value is None:
        return NOT_REPORTED
    return f"+{value}" if value > 0 else str(value)


def sector_text(sector: object, sector_raw: object) -> str:
    key = "" if is_missing(sector) else str(sector)
    if key in SECTOR_LABELS and key != "other":
        return SECTOR_LABELS[key]
    raw = "" if is_missing(sector_raw) else str(sector_raw).strip()
    if not key:
        return raw  # not filled in: left blank, as written
    return raw or SECTOR_LABELS.get(key, key)


def supervision_text(level: object, document: object) -> str:
    """督办层级，文件名称及文号: "市级督办 赣市安办字〔2023〕12号", "未督办"."""
    key = "none" if is_missing(level) else str(level)
    label = SUPERVISION_LABELS.get(key, key)
    doc = "" if is_missing(document) else str(document).strip()
    return f"{label} {doc}" if doc and key != "none" else label


def progress_text(progress_raw: object, status: object) -> str:
    raw = "" if is_missing(progress_raw) else str(progress_raw).strip()
    if raw:
        return raw
    return STATUS_LABELS.get("" if is_missing(status) else str(status), "")


def status_text(status: object) -> str:
    return STATUS_LABELS.get("" if is_missing(status) else str(status), "")


def _scope_title(figures: BriefingFigures) -> str:
    return figures.unit or CITY


def _indicator_label(key: str, form: int | None = None) -> str:
    indicator = INDICATOR_BY_KEY[key]
    return (indicator.department_label if form == 4 else None) or indicator.label


def _unit_kind(unit_type: object) -> str:
    return UNIT_TYPE_LABELS.get("" if is_missing(unit_type) else str(unit_type), str(unit_type))


# --- the writer -----------------------------------------------------------------------------------

_BASE = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}


class _Writer:
    def __init__(self, workbook: xlsxwriter.Workbook, figures: BriefingFigures, issue_date: dt.date):
        self.wb = workbook
        self.figures = figures
        self.issue_date = issue_date
        cell = {**_BASE, "border": 1, "text_wrap": True}
        self.f = {
            "title": workbook.add_format({**_BASE, "font_name": "方正小标宋简体", "font_size": 16, "bold": True,
                                          "align": "center", "text_wrap": True}),
            "subtitle": workbook.add_format({**_BASE, "bold": True, "font_size": 11}),
            "line": workbook.add_format({**_BASE, "align": "left"}),
            "note": workbook.add_format({**_BASE, "align": "left", "text_wrap": True, "font_size": 9}),
            "header": workbook.add_format({**cell, "font_name": "黑体", "bold": True, "align": "center",
                                           "bg_color": "#F2F2F2"}),
            "text": workbook.add_format({**cell, "align": "left"}),
            "center": workbook.add_format({**cell, "align": "center"}),
            "count": workbook.add_format({**cell, "align": "center", "num_format": "0"}),
            "number": workbook.add_format({**cell, "align": "center", "num_format": "General"}),
            "money": workbook.add_format({**cell, "align": "center", "num_format": "0.0#"}),
            "pct": workbook.add_format({**cell, "align": "center", "num_format": "0.0%"}),
            "date": workbook.add_format({**cell, "align": "center", "num_format": "yyyy/m/d"}),
            "total_label": workbook.add_format({**cell, "font_name": "黑体", "bold": True, "align": "center"}),
            "total": workbook.add_format({**cell, "bold": True, "align": "center", "num_format": "General"}),
        }

    # cells ---------------------------------------------------------------------------------------

    def text(self, ws, row: int, col: int, value: object, fmt: str = "text") -> None:
        """Any text, as text: never a formula, URL or number however it begins."""
        if is_missing(value) or value == "":
            ws.write_blank(row, col, None, self.f[fmt])
        else:
            ws.write_string(row, col, str(value), self.f[fmt])

    def num(self, ws, row: int, col: int, value: object, fmt: str = "number") -> None:
        """A figure: a number, or "—" when not reported (never 0)."""
        value = number(value)
        if value is None:
            ws.write_string(row, col, NOT_REPORTED, self.f["center" if fmt != "total" else "total"])
        else:
            ws.write_number(row, col, value, self.f[fmt])

    def date(self, ws, row: int, col: int, value: object) -> None:
        """A date, or the text as written where there is none (整改期限: 立即整改, 长期 …)."""
        if is_missing(value) or value == "":
            ws.write_blank(row, col, None, self.f["date"])
            return
        if isinstance(value, str):
            ws.write_string(row, col, value, self.f["center"])
            return
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, dt.datetime):
            value = value.date()
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), self.f["date"])

    def value(self, ws, row: int, col: int, value: object, kind: str) -> None:
        if isinstance(value, Typed):
            value, kind = value.value, value.kind
        if kind == "text":
            self.text(ws, row, col, value)
        elif kind == "center":
            self.text(ws, row, col, value, "center")
        elif kind == "count":
            self.num(ws, row, col, value, "number")
        elif kind == "money":
            self.num(ws, row, col, value, "money")
        elif kind == "pct":
            self.num(ws, row, col, None if is_missing(value) else float(value), "pct")
        elif kind == "date":
            self.date(ws, row, col, value)
        else:
            raise ValueError(kind)

    # sheets --------------------------------------------------------------------------------------

    def sheet(self, name: str, width: int, title: str, *, landscape: bool = True, subtitle: bool = True,
              notes: Sequence[str] = ()):
        """A sheet with its title row merged across ``width`` columns, the scope line and notes below; returns
        (ws, next row). Notes stand above the tables, never below them: a line under a table that looks like
        a ledger would be read as one more hazard if the workbook were loaded again."""
        ws = self.wb.add_worksheet(name)
        ws.set_paper(9)  # A4
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.set_row(0, 30)
        self.merged_text(ws, 0, 0, width, title, "title")
        row = 1
        if subtitle:
            self.merged_text(ws, 1, 0, width, self.scope_line(), "line")
            row = 2
        for text in notes:
            self.note(ws, row, width, text)
            row += 1
        return ws, row

    def merged_text(self, ws, row: int, col: int, width: int, text: str, fmt: str) -> None:
        if width > 1:
            ws.merge_range(row, col, row, col + width - 1, "", self.f[fmt])
        ws.write_string(row, col, text, self.f[fmt])

    def scope_line(self) -> str:
        fig = self.figures
        parts = [f"范围：{fig.scope_label}", f"期次：{period_text(fig.period)}",
                 f"上期：{period_text(fig.previous_period) or '无'}", f"统计日期：{date_text(fig.as_of)}",
                 f"印发日期：{date_text(self.issue_date)}"]
        return "　　".join(parts)

    def title(self, what: str) -> str:
        return f"{_scope_title(self.figures)}重大事故隐患专项排查整治{what}（{period_text(self.figures.period)}）"

    def table(self, ws, row: int, columns: Sequence[Column], rows: Sequence[Sequence[object]], *,
              caption: str | None = None, freeze: bool = False) -> int:
        """A caption line, a header row and one row per item; returns the row after the table."""
        if caption:
            self.merged_text(ws, row, 0, len(columns), caption, "subtitle")
            row += 1
        for col, column in enumerate(columns):
            ws.write_string(row, col, column.header, self.f["header"])
        if freeze:
            ws.freeze_panes(row + 1, 0)
            ws.repeat_rows(0, row)
        row += 1
        if not rows:
            self.merged_text(ws, row, 0, len(columns), "（无）", "center")
            return row + 1
        for values in rows:
            for col, (column, value) in enumerate(zip(columns, values)):
                self.value(ws, row, col, value, column.kind)
            row += 1
        return row

    def widths(self, ws, columns: Sequence[Column]) -> None:
        for col, column in enumerate(columns):
            ws.set_column(col, col, column.width)

    # 附件2 -----------------------------------------------------------------------------------------

    def ledger(self) -> None:
        fig = self.figures
        keys = list(LEDGER_COLUMNS)
        ws, _ = self.sheet(SHEET_LEDGER, len(keys), f"{_scope_title(fig)}{LEDGER_TITLE}（{period_text(fig.period)}）",
                           subtitle=False)
        self.merged_text(ws, 1, 0, len(keys), ledger_filler_text(FILLING_UNIT), "line")
        header = 2
        for col, key in enumerate(keys):
            ws.write_string(header, col, LEDGER_COLUMNS[key], self.f["header"])
        ws.set_row(header, 30)
        for col, width in enumerate(LEDGER_WIDTHS):
            ws.set_column(col, col, width)
        ws.freeze_panes(header + 1, 0)
        ws.repeat_rows(0, header)
        hazards = fig.hazards
        columns = {name: hazards[name].tolist() if name in hazards.columns else [None] * len(hazards)
                   for name in ("unit", "enterprise", "sector", "sector_raw", "description", "measures",
                                "supervision_level", "supervision_doc", "deadline", "deadline_raw",
                                "progress_raw", "status")}
        text, center = self.f["text"], self.f["center"]
        for index in range(len(hazards)):
            r = header + 1 + index
            get = {name: values[index] for name, values in columns.items()}
            ws.write_number(r, 0, index + 1, self.f["count"])
            self.text(ws, r, 1, get["unit"], "center")
            self.text(ws, r, 2, get["enterprise"])
            ws.write_string(r, 3, sector_text(get["sector"], get["sector_raw"]), center)
            self.text(ws, r, 4, get["description"])
            self.text(ws, r, 5, get["measures"])
            ws.write_string(r, 6, supervision_text(get["supervision_level"], get["supervision_doc"]), text)
            self.date(ws, r, 7, get["deadline"] if not is_missing(get["deadline"]) else get["deadline_raw"])
            self.text(ws, r, 8, progress_text(get["progress_raw"], get["status"]), "center")
        ws.print_area(0, 0, max(header, header + len(hazards)), len(keys) - 1)

    # 附件3 / 附件4 汇总表 --------------------------------------------------------------------------

    def form_summary(self, form: int) -> None:
        fig = self.figures
        columns = wide_form_columns(form, split=True)
        keys = tuple(key for _, _, key in columns)
        wide, totals = form_summary(fig.latest, FORM_UNIT_TYPES[form], keys)
        width = 2 + len(columns)
        name = SHEET_COUNTY_FORMS if form == 3 else SHEET_DEPARTMENT_FORMS
        ws, _ = self.sheet(name, width, f"{FORM_TITLES[form]}（截至{period_text(fig.period)}底）", subtitle=False)
        self.merged_text(ws, 1, 0, width, f"填报单位：{FILLING_UNIT}　　时间：{date_text(self.issue_date)}"
                         f"　　范围：{fig.scope_label}　　数据为各单位截至本期的最新累计数，“{NOT_REPORTED}”为未报送", "line")
        top = 2
        section_row, label_row, sub_row = top, top + 1, top + 2
        header = self.f["header"]
        ws.merge_range(top, 0, sub_row, 0, "", header)
        ws.write_string(top, 0, "序号", header)
        ws.merge_range(top, 1, sub_row, 1, "", header)
        ws.write_string(top, 1, WIDE_UNIT_LABELS[form], header)
        col = 0
        while col < len(columns):
            section, item, _ = columns[col]
            if col == 0 or columns[col - 1][0] != section:
                span = sum(1 for c in columns if c[0] == section)
                self._merged(ws, section_row, 2 + col, section_row, 2 + col + span - 1, section.replace("\n", ""))
            span = sum(1 for c in columns if c[1] == item)
            label = form_label(item, form)
            if span == 2:
                self._merged(ws, label_row, 2 + col, label_row, 2 + col + 1, label)
                for offset, key in enumerate(pair_keys(item)):
                    ws.write_string(sub_row, 2 + col + offset, pair_sub_label(key), header)
            else:
                self._merged(ws, label_row, 2 + col, sub_row, 2 + col, label)
            col += span
        ws.set_row(label_row, 96)
        first = sub_row + 1
        for index, values in enumerate(wide.itertuples(index=False)):
            record = values._asdict()
            r = first + index
            ws.write_number(r, 0, index + 1, self.f["count"])
            self.text(ws, r, 1, record["unit"], "center")
            for c, key in enumerate(keys):
                self._form_value(ws, r, 2 + c, key, record.get(key), total=False)
        r = first + len(wide)
        ws.merge_range(r, 0, r, 1, "", self.f["total_label"])
        ws.write_string(r, 0, "合计", self.f["total_label"])
        for c, key in enumerate(keys):
            self._form_value(ws, r, 2 + c, key, totals[key], total=True)
        note = FORM_NOTES[form] + f"合计为报送该项的单位之和；“{NOT_REPORTED}”为未报送，不是0。"
        ws.set_row(r + 1, 30)
        ws.merge_range(r + 1, 0, r + 1, width - 1, "", self.f["note"])
        ws.write_string(r + 1, 0, note, self.f["note"])
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, 14)
        ws.set_column(2, width - 1, 9)
        ws.freeze_panes(first, 2)
        ws.repeat_rows(0, sub_row)
        ws.repeat_columns(0, 1)

    def _merged(self, ws, first_row: int, first_col: int, last_row: int, last_col: int, text: str) -> None:
        if (first_row, first_col) != (last_row, last_col):
            ws.merge_range(first_row, first_col, last_row, last_col, "", self.f["header"])
        ws.write_string(first_row, first_col, text, self.f["header"])

    def _form_value(self, ws, row: int, col: int, key: str, value: object, *, total: bool) -> None:
        indicator = INDICATOR_BY_KEY[key]
        if indicator.kind == "bool":
            if is_missing(value):
                ws.write_string(row, col, NOT_REPORTED, self.f["center"])
            elif total:
                ws.write_string(row, col, f"{number(value)}个“是”", self.f["total"])
            else:
                ws.write_string(row, col, "是" if float(value) else "否", self.f["center"])
            return
        fmt = "total" if total else ("money" if indicator.kind == "money" else "number")
        self.num(ws, row, col, value, fmt)

    # 通报排名 --------------------------------------------------------------------------------------

    def ranking(self) -> None:
        fig = self.figures
        columns = [Column("排名", "count", 8), Column("单位", "center", 18), Column("类型", "center", 10),
                   Column("发现重大事故隐患（个）", "count", 14), Column("上期排名", "count", 10),
                   Column("名次变化（正数为上升）", "count", 14), Column("变化", "center", 10)]
        ws, row = self.sheet(SHEET_RANKING, len(columns), self.title("通报排名"), notes=[
            "排名按各单位截至本期的调度表累计数（企业自查发现与部门检查发现之和；市直部门为部门排查发现），"
            "并列同名次；上期排名为上一报送期的名次，空白为上期未参与排名。"])
        for caption, frame in (("县（市、区）及功能区排名（按排查发现重大事故隐患数）", fig.county_ranking),
                               ("市直部门排名（按部门排查发现重大隐患数）", fig.department_ranking)):
            rows = [(r["rank"], r["unit"], _unit_kind(r["unit_type"]), r["value"], r["previous_rank"],
                     r["rank_change"], rank_change_text(r["rank_change"]))
                    for r in frame.to_dict("records")]
            row = self.table(ws, row, columns, rows, caption=caption) + 1
        self.widths(ws, columns)

    def note(self, ws, row: int, width: int, text: str) -> None:
        ws.set_row(row, 30)
        ws.merge_range(row, 0, row, width - 1, "", self.f["note"])
        ws.write_string(row, 0, text, self.f["note"])

    # 季度任务 --------------------------------------------------------------------------------------

    def quota(self) -> None:
        fig = self.figures
        columns = [Column("单位", "center", 16), Column("类型", "center", 9),
                   Column("本季度发现重大隐患（个）", "count", 12), Column("任务数（个）", "count", 9),
                   Column("隐患任务", "center", 9), Column("本季度典型执法案例（个）", "count", 12),
                   Column("任务数（个）", "count", 9), Column("案例任务", "center", 9),
                   Column("已报月数", "count", 8), Column("本季度月数", "count", 8),
                   Column("总体", "center", 9), Column("数据说明", "text", 36)]
        quarter = quarter_text(fig.quarter)
        ws, row = self.sheet(SHEET_QUOTA, len(columns), self.title(f"{quarter or '（不在整治期内）'}任务完成情况"), notes=[
            "任务：各县（市、区）每季度排查发现重大事故隐患不少于30个，有监管职责的市直部门不少于10个；"
            "每季度至少公布1个典型执法案例。本季度数为各月调度表增量之和；缺报月份的数为暂定数。"])
        rows = []
        for r in fig.quota.to_dict("records") if not fig.quota.empty else []:
            notes = []
            if r.get("provisional"):
                notes.append(f"隐患数为暂定数：缺{self._months(r.get('missing_periods'))}数据")
            if r.get("cases_provisional"):
                notes.append(f"案例数为暂定数：缺{self._months(r.get('cases_missing_periods'))}数据")
            if is_missing(r.get("hazards_found")):
                notes.append("本季度未报送调度表")
            rows.append((r["unit"], _unit_kind(r["unit_type"]), r["hazards_found"], r["hazards_quota"],
                         "未完成" if r["behind_hazards"] else "已完成", r["typical_cases"], r["cases_quota"],
                         "未完成" if r["behind_cases"] else "已完成", r["periods_reported"], r["periods_in_quarter"],
                         "滞后" if r["behind"] else "达标", "；".join(notes)))
        self.table(ws, row, columns, rows, freeze=True)
        self.widths(ws, columns)

    @staticmethod
    def _months(text: object) -> str:
        if is_missing(text) or not str(text).strip():
            return ""
        return "、".join(period_text(p.strip()) for p in str(text).split(",") if p.strip())

    # 行业领域 --------------------------------------------------------------------------------------

    def sectors(self) -> None:
        fig = self.figures
        columns = [Column("所属行业领域", "center", 16), Column("重大隐患（条）", "count", 12),
                   Column("已整改（条）", "count", 12), Column("整改中（条）", "count", 12),
                   Column("未整改（条）", "count", 12), Column("逾期未整改（条）", "count", 14),
                   Column("挂牌督办（条）", "count", 12)]
        ws, row = self.sheet(SHEET_SECTORS, len(columns), self.title("分行业领域隐患情况"),
                             notes=["按台账（附件2）中的隐患统计，每条隐患按其最新一期的整改进展计。"])
        rows = [(sector_text(r["sector"], None) or "（未填写行业领域）", r["hazards"], r["rectified"], r["in_progress"], r["not_started"],
                 r["overdue"], r["supervised"]) for r in fig.sectors.to_dict("records")]
        self.table(ws, row, columns, rows)
        self.widths(ws, columns)

    # 执法情况 / 宣传培训 ----------------------------------------------------------------------------

    def unit_keys(self, name: str, what: str, per_unit: pd.DataFrame, totals: pd.DataFrame,
                  keys: tuple[str, ...]) -> None:
        fig = self.figures
        columns = [Column("单位", "center", 16), Column("类型", "center", 9)]
        columns += [Column(_indicator_label(key), "money" if INDICATOR_BY_KEY[key].kind == "money" else "count", 11)
                    for key in keys]
        ws, row = self.sheet(name, len(columns), self.title(what))
        total_columns = [Column("指标", "text", 40), Column("累计（各单位最新累计数之和）", "count", 16),
                         Column("本期新增", "count", 12), Column("报送单位数（个）", "count", 12)]
        total_rows = []
        for r in totals.to_dict("records"):
            kind = "money" if INDICATOR_BY_KEY[r["key"]].kind == "money" else "count"
            total_rows.append((_indicator_label(r["key"]), Typed(r["cumulative"], kind), Typed(r["increment"], kind),
                               r["units_reporting"]))
        row = self.table(ws, row, total_columns, total_rows, caption=f"全部单位合计（本期：{period_text(fig.period)}）") + 1
        rows = [(r["unit"], _unit_kind(r["unit_type"]), *(r.get(key) for key in keys))
                for r in per_unit.to_dict("records")]
        self.table(ws, row, columns, rows, caption="各单位截至本期的累计数（“—”为未报送）")
        for col in range(len(columns)):
            width = max(columns[col].width, total_columns[col].width if col < len(total_columns) else 0)
            ws.set_column(col, col, width)

    # 总体进展 --------------------------------------------------------------------------------------

    def kpis(self) -> None:
        fig = self.figures
        current, before = fig.kpis, fig.previous_kpis
        columns = [Column("指标", "text", 34), Column(f"本期（{period_text(fig.period)}）", "count", 16),
                   Column("本期（显示）", "center", 12),
                   Column(f"上期（{period_text(fig.previous_period) or '无'}）", "count", 16),
                   Column("上期（显示）", "center", 12), Column("比上期", "count", 12), Column("比上期（显示）", "center", 16)]
        notes = ["调度表数据为各单位截至本期的最新累计数之和；台账数据按隐患条数统计（同一隐患跨月只计一次），逾期以统计日期计。"]
        if not current.forms_follow_filter:
            notes.append("调度表数据只按单位筛选（调度表不分行业领域等），台账数据按全部筛选条件统计。")
        ws, row = self.sheet(SHEET_KPIS, len(columns), self.title("总体进展"), landscape=False, notes=notes)
        rows = []
        for label, read, kind in KPI_ROWS:
            now = read(current)
            then = read(before) if before is not None else None
            delta = change(now, then)
            if kind == "pct":
                rows.append((label, Typed(now, kind), format_rate(now), Typed(then, kind), format_rate(then),
                             Typed(delta, kind), points_text(delta)))
            else:
                rows.append((label, Typed(now, kind), self._shown(now), Typed(then, kind), self._shown(then),
                             Typed(delta, kind), signed_text(delta)))
        for label, frame in (("逾期未整改隐患清单（条）", fig.overdue), ("挂牌督办隐患清单（条）", fig.supervised),
                             ("挂牌督办超过时限未见实质性进展（条）", fig.stalled)):
            rows.append((label, len(frame), str(len(frame)), None, NOT_REPORTED, None, NOT_REPORTED))
        self.table(ws, row, columns, rows)
        self.widths(ws, columns)

    @staticmethod
    def _shown(value: object) -> str:
        shown = number(value)
        return NOT_REPORTED if shown is None else str(shown)

    def unit_progress(self) -> None:
        fig = self.figures
        columns = [Column("单位", "center", 16), Column("类型", "center", 10), Column("发现重大事故隐患（个）", "count", 14),
                   Column("已完成整治（个）", "count", 14), Column("整改率", "pct", 10), Column("整改率（显示）", "center", 12)]
        ws, row = self.sheet(SHEET_UNITS, len(columns), self.title("各单位整治进展"), landscape=False, notes=[
            "按各单位截至本期的调度表累计数；整改率＝已完成整治÷发现，未发现隐患的单位不计整改率。"])
        rows = [(r["unit"], _unit_kind(r["unit_type"]), r["found"], r["rectified"], r["rate"], format_rate(r["rate"]))
                for r in fig.unit_progress.to_dict("records")]
        self.table(ws, row, columns, rows, freeze=True)
        self.widths(ws, columns)

    # 逾期隐患 / 挂牌督办 ----------------------------------------------------------------------------

    def hazard_rows(self, frame: pd.DataFrame, extra: Callable[[dict], tuple] = lambda r: ()) -> list[tuple]:
        rows = []
        for r in frame.to_dict("records"):
            deadline = r.get("deadline")
            rows.append((r.get("unit"), r.get("enterprise"), sector_text(r.get("sector"), r.get("sector_raw")),
                         r.get("description"), supervision_text(r.get("supervision_level"), r.get("supervision_doc")),
                         deadline if not is_missing(deadline) else r.get("deadline_raw"),
                         progress_text(r.get("progress_raw"), r.get("status")), status_text(r.get("status")),
                         *extra(r)))
        return rows

    _HAZARD_COLUMNS = (Column("县市区/部门", "center", 12), Column("企业（项目）", "text", 22),
                       Column("所属行业领域", "center", 10), Column("重大隐患描述", "text", 34),
                       Column("督办层级，文件名称及文号", "text", 20), Column("整改期限", "date", 11),
                       Column("整改进展", "center", 10),
                       Column("状态", "center", 8))

    def overdue(self) -> None:
        fig = self.figures
        columns = [*self._HAZARD_COLUMNS, Column("逾期天数", "count", 9)]
        ws, row = self.sheet(SHEET_OVERDUE, len(columns), self.title("逾期未整改重大事故隐患清单"), notes=[
            f"逾期未整改隐患共{len(fig.overdue)}条（截至{date_text(fig.as_of)}）。逾期：整改期限早于统计日期且尚未整改完成；"
            "逾期天数自整改期限起算至统计日期。"])
        rows = self.hazard_rows(fig.overdue, lambda r: (None if is_missing(r.get("days_to_deadline"))
                                                        else -r["days_to_deadline"],))
        self.table(ws, row, columns, rows, freeze=True)
        self.widths(ws, columns)

    def supervised(self) -> None:
        """All supervised hazards in one table, those past their clock without progress first."""
        fig = self.figures
        columns = [*self._HAZARD_COLUMNS, Column("超过时限未见实质性进展", "center", 11),
                   Column("督办起算日期", "date", 11), Column("已督办天数", "count", 9), Column("时限（天）", "count", 8)]
        limits = "，".join(f"{SUPERVISION_LABELS[level]}{days}天" for level, days in SUPERVISION_PROGRESS_DAYS.items())
        ws, row = self.sheet(SHEET_SUPERVISED, len(columns), self.title("挂牌督办重大事故隐患"), notes=[
            f"挂牌督办隐患共{len(fig.supervised)}条，其中超过时限未取得实质性进展{len(fig.stalled)}条"
            f"（时限：{limits}，省级按60天；自督办当期调度的报送截止日起算；实质性进展指整改状态或整改进展的填写有变化）。"])
        stalled_ids = set(fig.stalled["hazard_id"]) if "hazard_id" in fig.stalled.columns else set()
        rows = self.hazard_rows(fig.stalled, lambda r: ("是", r.get("supervised_since"), r.get("days_supervised"),
                                                        r.get("limit_days")))
        others = fig.supervised[~fig.supervised["hazard_id"].isin(stalled_ids)] if not fig.supervised.empty else fig.supervised
        rows += self.hazard_rows(others, lambda r: ("否", None, None, None))
        self.table(ws, row, columns, rows, freeze=True)
        self.widths(ws, columns)

    # 工作批注 --------------------------------------------------------------------------------------

    def annotations(self) -> None:
        fig = self.figures
        columns = [Column("批注对象", "text", 30), Column("单位", "center", 12), Column("批注内容", "text", 50),
                   Column("标签", "center", 9), Column("状态", "center", 8), Column("批注人", "center", 10),
                   Column("跟进日期", "date", 11), Column("对象已不在数据中", "center", 10)]
        ws, row = self.sheet(SHEET_ANNOTATIONS, len(columns), self.title("工作批注"))
        frame = fig.annotations
        rows = []
        hazards = fig.hazards.set_index("hazard_id") if "hazard_id" in fig.hazards.columns else pd.DataFrame()
        for r in (frame.to_dict("records") if not frame.empty else []):
            orphaned = r.get("orphaned")
            rows.append((self._subject(r, hazards), r.get("unit"), r.get("text"), r.get("tag"),
                         ANNOTATION_STATUS_LABELS.get(str(r.get("status")), r.get("status")), r.get("author"),
                         r.get("follow_up"), "" if is_missing(orphaned) else ("是" if orphaned else "否")))
        self.table(ws, row, columns, rows, freeze=True)
        self.widths(ws, columns)

    @staticmethod
    def _subject(r: dict, hazards: pd.DataFrame) -> str:
        kind = r.get("kind") or r.get("subject_kind")
        label = ANNOTATION_KIND_LABELS.get(str(kind), "" if is_missing(kind) else str(kind))
        if kind == "hazard":
            hazard_id = r.get("hazard_id")
            if not hazards.empty and hazard_id in hazards.index:
                hazard = hazards.loc[hazard_id]
                return f"{label}：{hazard['enterprise']} · {hazard['description']}"
            return f"{label}：{hazard_id}"
        if kind == "figure" and not is_missing(r.get("indicator")) and r.get("indicator") in INDICATOR_BY_KEY:
            return f"{label}：{r.get('unit')} · {_indicator_label(r['indicator'])} · {period_text(r.get('period'))}"
        if kind == "view":
            query = "" if is_missing(r.get("query")) else r.get("query")
            return f"{label}：{r.get('page')}" + (f"（{query}）" if query else "")
        if kind == "unit":
            return f"{label}：{r.get('unit')}"
        return label or str(r.get("subject_key", ""))
