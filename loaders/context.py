"""Working out who sent a sheet, which month it covers and whether it is a resend.

The unit comes from the 填报单位 line, the title, the sheet name or the file
name, in that order. The period (the month the figures cover) comes from a
month named in the title ("2023年8月"), the file name or the sheet name. A full
date (year, month and day: "2023.9.20", "（2023.09.20）", "2023年9月20日",
"截至2023年8月31日") is a filing date wherever it stands, never a period by
itself: it is taken out of the text before a month is looked for. With no month
named, the filing date decides (the 时间 line's date, else a full date in the
title, else one in the file name): forms are filed by the 23rd and cover the
previous month, so a filing date before the 26th means the previous month and a
later one (an "as of month end" date) the same month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from .model import SheetGrid
from .reference import CAMPAIGN_YEAR, UNIT_ALIASES, canonical_unit
from .values import to_halfwidth

_FILLED_BY = re.compile(r"填报单位(?:（[^）]*）|\([^)]*\))?\s*[:：]\s*(.*)")
_TIME_LINE = re.compile(r"(?:时间|日期|填报时间|报送时间)\s*[:：]\s*(.*)")

# A full date: year, month and day. The separators between year-month and month-day are the
# same ("2023.9.20", "2023-09-20", "2023_9_20", "2023/9/20"), or 年…月…(日) , or eight digits.
# Requiring the same separator keeps "2023年1-8月" (a month range) from reading as 2023-01-08.
_FULL_DATE = re.compile(
    r"(?<!\d)(20\d{2})\s*(?:"
    r"([./\-_])\s*(?P<m1>\d{1,2})\s*\2\s*(?P<d1>\d{1,2})(?!\d)"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})(?:\s*[日号]|(?![\d\-—~至到月]))"
    r"|(?P<m3>0[1-9]|1[0-2])(?P<d3>0[1-9]|[12]\d|3[01])(?!\d)"
    r")"
)
_LOOSE_DATE = re.compile(r"(20\d{2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})")
# "2023年8月1日至8月31日": the end of a range written without its year again.
_RANGE_END = re.compile(r"\s*(?:至|到|—|-|~)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_MONTH_RANGE = re.compile(r"(?:(20\d{2})\s*年\s*)?(?<!\d)\d{1,2}\s*月?\s*[-—~至到]\s*(\d{1,2})\s*月")
_YEAR_MONTH = re.compile(r"(20\d{2})\s*[年.\-_/]?\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
# "2023-08", "2023_08", "2023.8", "2023-8": a year and a month not followed by a further date part.
_YEAR_MONTH_NUMERIC = re.compile(r"(?<!\d)(20\d{2})\s*[\-_./]\s*(0?[1-9]|1[0-2])(?!\d)(?!\s*[\-_./]\s*\d)")
_YEAR_MONTH_COMPACT = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)")
_MONTH_ONLY = re.compile(r"(?<![\d年])(\d{1,2})\s*月(?:份)?(?!\s*\d{1,2}\s*[日号])(?!底|末|[上中下]旬)")
# Rows above the table that are notes, not titles ("注：……请勿修改表格").
_NOTE_LINE = re.compile(r"^(?:注|说明|备注|填表说明)\s*[:：\d]")
# Resends: the title or file name says so.
_CORRECTION_WORDS = ("更正", "修改", "修订")
_SUPPLEMENT_WORDS = ("补报", "补充")

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


def _full_date_match(m: re.Match) -> dt.date | None:
    year = int(m.group(1))
    for month_group, day_group in (("m1", "d1"), ("m2", "d2"), ("m3", "d3")):
        if m.group(month_group) is not None:
            try:
                return dt.date(year, int(m.group(month_group)), int(m.group(day_group)))
            except ValueError:
                return None
    return None


def full_dates(text: str) -> list[dt.date]:
    """Every valid full date (year, month and day) written in ``text``, in order; the end of a
    range "2023年8月1日至8月31日" counts as a date of the range's year."""
    text = to_halfwidth(text or "")
    found: list[dt.date] = []
    for m in _FULL_DATE.finditer(text):
        date = _full_date_match(m)
        if date is None:
            continue
        found.append(date)
        if end := _RANGE_END.match(text, m.end()):
            try:
                found.append(dt.date(date.year, int(end.group(1)), int(end.group(2))))
            except ValueError:
                pass
    return found


def filing_date_in_text(text: str) -> dt.date | None:
    """The filing date a title or file name states: its latest full date ("截至2023年8月31日",
    "（2023.9.20）", the end of "2023.8.1-2023.8.31"); None when it names no full date."""
    dates = full_dates(text)
    return max(dates) if dates else None


def without_full_dates(text: str) -> str:
    """``text`` (half-width) with its full dates replaced by a space, so none reads as a month."""
    text = to_halfwidth(text or "")
    return _FULL_DATE.sub(" ", text)


def explicit_period(text: str) -> str | None:
    """A month named in a title, file name or sheet name: "2023年8月", "8月", "8月份", "2023-08",
    "2023.8", "2023_08", "202308", a range "1-8月" (its last month). A month without a year is in
    the campaign's year (CAMPAIGN_YEAR): "1月" is 2023-01, which the campaign holds aside as
    outside its window. A full date ("2023.9.20", "2023年9月20日") is a filing date, never a
    period: it names no month here."""
    text = without_full_dates(text)
    if m := _MONTH_RANGE.search(text):
        return period_of(int(m.group(1)) if m.group(1) else CAMPAIGN_YEAR, int(m.group(2)))
    if m := _YEAR_MONTH.search(text):
        return period_of(int(m.group(1)), int(m.group(2)))
    if m := _YEAR_MONTH_NUMERIC.search(text):
        return period_of(int(m.group(1)), int(m.group(2)))
    if m := _YEAR_MONTH_COMPACT.search(text):
        return period_of(int(m.group(1)), int(m.group(2)))
    if m := _MONTH_ONLY.search(text):
        return period_of(CAMPAIGN_YEAR, int(m.group(1)))
    return None


def resend_flags(*texts: str) -> tuple[bool, bool]:
    """(correction, supplement): whether any of ``texts`` (title, file name) says 更正/修改/修订,
    or 补报/补充."""
    joined = re.sub(r"\s+", "", to_halfwidth(" ".join(t or "" for t in texts)))
    return (any(word in joined for word in _CORRECTION_WORDS), any(word in joined for word in _SUPPLEMENT_WORDS))


@lru_cache(maxsize=8192)
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
    # Where the period came from: a month named in "标题" / "文件名" / "工作表名", or, with no
    # month named, the filing date: "时间栏" / "标题日期" / "文件名日期".
    period_source: str = ""
    # The filing date: the 时间 line's date, else a full date in the title, else in the file name.
    reported_on: dt.date | None = None
    reported_on_source: str = ""  # "时间栏" | "标题" | "文件名" | "" (none found)
    title: str = ""
    # The title or file name says 更正/修改/修订: within one batch this resend wins.
    correction: bool = False
    # The title or file name says 补报/补充: a ledger that adds to its period's ledger.
    supplement: bool = False


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
    if isinstance(value, str):
        if dates := full_dates(value):
            return dates[0]
        # The 时间 line holds nothing but a date, so mixed separators ("2023年9.20") are read too.
        if m := _LOOSE_DATE.search(to_halfwidth(value)):
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
                    ctx.reported_on, ctx.reported_on_source = date, "时间栏"
            elif "填报" not in compact and len(compact) >= 6 and not _NOTE_LINE.match(compact):
                titles.append(compact)
    ctx.title = " ".join(titles)
    if ctx.unit is None:
        for source in (ctx.title, grid.name, file_name):
            unit, raw = find_unit_in_text(source)
            if unit:
                ctx.unit, ctx.unit_raw = unit, ctx.unit_raw or raw
                break
    if ctx.reported_on is None:
        for source_label, source in (("标题", ctx.title), ("文件名", file_name)):
            if (date := filing_date_in_text(source)) is not None:
                ctx.reported_on, ctx.reported_on_source = date, source_label
                break
    for source_label, source in (("标题", ctx.title), ("文件名", file_name), ("工作表名", grid.name)):
        if period := explicit_period(source):
            ctx.period, ctx.period_source = period, source_label
            break
    if ctx.period is None and ctx.reported_on is not None:
        ctx.period = period_from_filing_date(ctx.reported_on)
        ctx.period_source = {"时间栏": "时间栏", "标题": "标题日期", "文件名": "文件名日期"}[ctx.reported_on_source]
    ctx.correction, ctx.supplement = resend_flags(ctx.title, file_name)
    return ctx
