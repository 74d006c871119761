"""Working out who sent a sheet and which month it covers.

The unit comes from the 填报单位 line, the title, the sheet name or the file
name, in that order. The period (the month the figures cover) comes from an
explicit month in the title ("2023年8月"), the file name or sheet name, and
last from the 时间 line, which is the filing date: forms are filed by the 23rd
and cover the previous month, so a filing date before the 26th means the
previous month and a later one (an "as of month end" date) the same month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .model import SheetGrid
from .reference import CAMPAIGN_START_PERIOD, CAMPAIGN_YEAR, UNIT_ALIASES, canonical_unit
from .values import to_halfwidth

_FILLED_BY = re.compile(r"填报单位(?:（[^）]*）|\([^)]*\))?\s*[:：]\s*(.*)")
_TIME_LINE = re.compile(r"(?:时间|日期|填报时间|报送时间)\s*[:：]\s*(.*)")
_DATE = re.compile(r"(20\d{2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?")
_MONTH_RANGE = re.compile(r"(?:(20\d{2})\s*年\s*)?(?:\d{1,2}\s*[-—~至到]\s*)(\d{1,2})\s*月")
_YEAR_MONTH = re.compile(r"(20\d{2})\s*[年.\-_/]?\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*日)")
_YEAR_MONTH_NUMERIC = re.compile(r"(?<!\d)(20\d{2})[\-_.]?(0[1-9]|1[0-2])(?!\d)")
_MONTH_ONLY = re.compile(r"(?<![\d年])(\d{1,2})\s*月(?:份)?(?!\s*\d{1,2}\s*日)(?!底|末)")

# Longest aliases first so "赣州经开区" wins over "经开区".
_ALIASES_LONGEST_FIRST = sorted(UNIT_ALIASES, key=len, reverse=True)


def period_of(year: int, month: int) -> str | None:
    if 1 <= month <= 12 and 2000 <= year <= 2100:
        return f"{year:04d}-{month:02d}"
    return None


def period_from_filing_date(date: dt.date) -> str:
    if date.day >= 26:
        return f"{date.year:04d}-{date.month:02d}"
    previous = date.replace(day=1) - dt.timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


def _year_for_month(month: int) -> int:
    # A month written without a year: the campaign runs May 2023 onwards, so
    # January–April belong to the following year.
    start_month = int(CAMPAIGN_START_PERIOD[5:])
    return CAMPAIGN_YEAR if month >= start_month else CAMPAIGN_YEAR + 1


def explicit_period(text: str) -> str | None:
    """A month named in a title or file name: "2023年8月", "1-8月", "2023-08", "8月份"."""
    text = to_halfwidth(text)
    if m := _MONTH_RANGE.search(text):
        month = int(m.group(2))
        return period_of(int(m.group(1)) if m.group(1) else _year_for_month(month), month)
    if m := _YEAR_MONTH.search(text):
        return period_of(int(m.group(1)), int(m.group(2)))
    if m := _YEAR_MONTH_NUMERIC.search(text):
        return period_of(int(m.group(1)), int(m.group(2)))
    if m := _DATE.search(text):
        # "截至2023年8月31日": an as-of date in a title names the month it closes.
        return period_from_filing_date(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    if m := _MONTH_ONLY.search(text):
        month = int(m.group(1))
        return period_of(_year_for_month(month), month)
    return None


def find_unit_in_text(text: str) -> tuple[str | None, str]:
    """(canonical unit, the raw text matched) for the first known unit named in free text."""
    compact = re.sub(r"\s+", "", to_halfwidth(text))
    for alias in _ALIASES_LONGEST_FIRST:
        if len(alias) >= 2 and alias in compact:
            return UNIT_ALIASES[alias], alias
    return None, ""


@dataclass
class SheetContext:
    """What the lines above a table say about the submission."""

    unit: str | None = None
    unit_raw: str = ""
    unit_cell: tuple[int, int] | None = None
    period: str | None = None
    period_source: str = ""
    reported_on: dt.date | None = None
    title: str = ""


def _value_after_colon(grid: SheetGrid, row: int, col: int, match_text: str) -> tuple[str, tuple[int, int]]:
    """A "label：value" cell, or a label cell whose value sits in the next cells to the right."""
    if match_text.strip():
        return match_text.strip(), (row, col)
    for c in range(col + 1, min(col + 6, grid.width)):
        if grid.same_cell((row, col), (row, c)):
            continue
        text = grid.text(row, c)
        if text:
            return text, (row, c)
    return "", (row, col)


def _cell_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and (m := _DATE.search(to_halfwidth(value))):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def read_context(grid: SheetGrid, header_row: int, file_name: str) -> SheetContext:
    """Scan the rows above ``header_row`` (and the sheet and file names) for unit and period."""
    ctx = SheetContext()
    titles: list[str] = []
    for r in range(min(header_row, grid.height)):
        for c in range(grid.width):
            if grid.is_merge_copy(r, c):
                continue
            text = grid.text(r, c)
            if not text:
                continue
            compact = re.sub(r"[\s\u3000]+", "", text)
            if m := _FILLED_BY.search(compact):
                raw, cell = _value_after_colon(grid, r, c, re.split(r"填报人|联系电话|时间|日期", m.group(1))[0])
                raw = re.split(r"填报人|联系电话|时间[:：]|日期[:：]", raw)[0]
                if raw:
                    ctx.unit_raw, ctx.unit_cell = raw, cell
                    ctx.unit = canonical_unit(raw) or find_unit_in_text(raw)[0]
            if m := _TIME_LINE.search(compact):
                raw, cell = _value_after_colon(grid, r, c, m.group(1))
                value = grid.value(*cell) if not m.group(1).strip() else raw
                if (date := _cell_date(value)) is not None:
                    ctx.reported_on = date
            elif "填报" not in compact and len(compact) >= 6:
                titles.append(compact)
    ctx.title = " ".join(titles)
    if ctx.unit is None:
        for source in (ctx.title, grid.name, file_name):
            unit, raw = find_unit_in_text(source)
            if unit:
                ctx.unit, ctx.unit_raw = unit, ctx.unit_raw or raw
                break
    for source_label, source in (("标题", ctx.title), ("文件名", file_name), ("工作表名", grid.name)):
        if period := explicit_period(source):
            ctx.period, ctx.period_source = period, source_label
            break
    if ctx.period is None and ctx.reported_on is not None:
        ctx.period, ctx.period_source = period_from_filing_date(ctx.reported_on), "时间栏"
    return ctx
