"""Parsing single cell values the way officials write them.

Every parser is a pure function of the raw cell value (and, for dates, the
report's period) and never guesses silently: it returns a value, "not reported",
or an error message in Chinese that the caller attaches to the cell reference.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .reference import SECTORS, canonical_unit

# Cell contents that mean "not reported" — which is not zero.
NOT_REPORTED_TEXTS = frozenset({"", "—", "——", "-", "--", "－", "―", "─", "无", "暂无", "/", "／", "\\", "空", "未填", "不详", "/ ", "n/a", "N/A", "NA"})

_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"．": ".", "，": ",", "／": "/", "－": "-", "＋": "+", "　": " ", "％": "%"})


def to_halfwidth(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC keeps CJK intact)."""
    return unicodedata.normalize("NFKC", text).translate(_FULLWIDTH)


def cell_text(raw: object) -> str:
    """A cell value as stripped text ('' for empty)."""
    if raw.__class__ is str:  # most cells: tested first
        return raw.strip()
    if raw is None:
        return ""
    if isinstance(raw, float):
        if math.isnan(raw):
            return ""
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat()[:10]
    return str(raw).strip()


def is_not_reported(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and raw.strip().replace(" ", "") in NOT_REPORTED_TEXTS


@dataclass(frozen=True)
class Parsed:
    """Result of parsing one value: ``value`` is None when not reported or unreadable.

    ``note`` is the text of a bracketed note written after a number ("3（其中重大1）" → "其中重大1"):
    the value is still read, and the caller reports the note as an info finding with its cell.
    """

    value: object = None
    error: str | None = None
    note: str | None = None

    @property
    def reported(self) -> bool:
        return self.value is not None


NOT_REPORTED = Parsed()

# A number with an optional unit word after it: "12", "12家", "35.6万元", "3 次".
_NUMBER = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
_UNIT_WORDS = r"(?:家次|个次|人次|万元|家|个|次|人|起|条|处|元|项|名|位|台|辆|户|座|%)?"
_NUMBER_WITH_UNIT = re.compile(rf"^\s*({_NUMBER})\s*{_UNIT_WORDS}\s*$")
_TWO_NUMBERS = re.compile(
    rf"^\s*({_NUMBER})\s*{_UNIT_WORDS}\s*(?:[/、,，;；]|[（(]|\s|其中)\s*(?:其中)?\s*({_NUMBER})\s*{_UNIT_WORDS}\s*[)）]?\s*$"
)
# A number followed by a note in brackets: "3（其中重大1）", "5(含复查2)", "3 (含1家复查)".
# Matched on half-width text, where NFKC has already turned "（）" into "()".
_NUMBER_WITH_NOTE = re.compile(rf"^\s*({_NUMBER})\s*{_UNIT_WORDS}\s*\(\s*([^()]*?\S[^()]*?)\s*\)\s*$")


# More significant digits than any count or amount in a campaign form; beyond this a float
# loses digits (and a long enough string overflows to inf), so it is refused, not rounded.
_MAX_DIGITS = 15


def _to_number(text: str) -> int | float | None:
    """The number in a matched numeral; None when it has too many digits to be read exactly."""
    digits = text.replace(",", "")
    if sum(ch.isdigit() for ch in digits) > _MAX_DIGITS:
        return None
    if "." not in digits:
        return int(digits)
    value = float(digits)
    return int(value) if value.is_integer() else value


def _number_or_error(text: str, raw: str) -> Parsed:
    value = _to_number(text)
    if value is None:
        return Parsed(error=f"数字位数过多，无法准确读取：“{raw}”，请核对后重新填写")
    return Parsed(value)


def parse_number(raw: object) -> Parsed:
    """A count or amount: 12, "12", "１２", "12家", " 12 ", "35.6万元"; "—"/"无"/"/"/blank are not reported.

    A number followed by a bracketed note is that number, with the note kept in ``Parsed.note``:
    "3（其中重大1）" → 3, note "其中重大1"; "5(含复查2)" → 5, note "含复查2". When the brackets hold
    nothing but a number ("12（其中3）", "12(3)") the cell holds two numbers where one belongs:
    that stays an error, since it is not clear which one is meant (for a two-value label,
    ``parse_pair`` reads the same text as the two values)."""
    if isinstance(raw, bool):
        return Parsed(error=f"应为数字，实际为“{raw}”")
    if isinstance(raw, (int, float)) and not (isinstance(raw, float) and math.isnan(raw)):
        return _parse_number_value(raw)
    if is_not_reported(raw):
        return NOT_REPORTED
    if isinstance(raw, (dt.date, dt.datetime)):
        return Parsed(error=f"应为数字，实际为日期“{cell_text(raw)}”，请检查单元格格式")
    return _parse_number_text(str(raw))


@lru_cache(maxsize=65536, typed=True)
def _parse_number_value(raw: int | float) -> Parsed:
    """A number cell (not NaN): the same few values fill most forms, so results are shared."""
    if isinstance(raw, float) and math.isinf(raw):
        return Parsed(error="数值无效")
    return Parsed(int(raw) if float(raw).is_integer() else float(raw))


@lru_cache(maxsize=65536)
def _parse_number_text(raw: str) -> Parsed:
    text = to_halfwidth(raw).strip()
    if text.replace(" ", "") in NOT_REPORTED_TEXTS:
        return NOT_REPORTED
    m = _NUMBER_WITH_UNIT.match(text)
    if m:
        return _number_or_error(m.group(1), raw)
    if _TWO_NUMBERS.match(text):
        return Parsed(error=f"此处应填一个数，实际填了两个“{raw}”")
    if m := _NUMBER_WITH_NOTE.match(text):
        parsed = _number_or_error(m.group(1), raw)
        return Parsed(parsed.value, note=m.group(2)) if parsed.error is None else parsed
    return Parsed(error=f"无法识别为数字：“{raw}”，请填写阿拉伯数字，未开展的填0，未报送的填“—”")


def parse_pair(raw: object) -> tuple[Parsed, Parsed]:
    """Two values in one cell: "12/35.6", "12次 35.6万元", "12（其中3）"; a lone number fills the first.

    Brackets holding only a number are the second value ("12（其中3）" → 12 and 3); brackets holding
    words are a note on the first value ("3（其中重大1）" → 3 with note "其中重大1", second not reported)."""
    if is_not_reported(raw):
        return NOT_REPORTED, NOT_REPORTED
    if isinstance(raw, (int, float)):
        return parse_number(raw), NOT_REPORTED
    return _parse_pair_text(str(raw))


@lru_cache(maxsize=65536)
def _parse_pair_text(raw: str) -> tuple[Parsed, Parsed]:
    text = to_halfwidth(raw).strip()
    m = _TWO_NUMBERS.match(text)
    if m:
        first, second = _number_or_error(m.group(1), raw), _number_or_error(m.group(2), raw)
        if first.error is None and second.error is None:
            return first, second
        return (first if first.error else second), NOT_REPORTED
    # "—/—", "12/—": each side parsed on its own.
    parts = re.split(r"\s*[/、;；]\s*", text)
    if len(parts) == 2:
        first, second = _parse_number_text(parts[0]), _parse_number_text(parts[1])
        if first.error is None and second.error is None:
            return first, second
    single = _parse_number_text(raw)
    if single.error is None:
        return single, NOT_REPORTED
    return Parsed(error=f"无法识别为两个数字：“{raw}”，请按“次数/金额”格式填写，如“12/35.6”"), NOT_REPORTED


_YES = frozenset({"是", "已开设", "有", "已开", "yes", "y", "√", "1", "true"})
_NO = frozenset({"否", "未开设", "没有", "未开", "no", "n", "×", "0", "false"})


def parse_bool(raw: object) -> Parsed:
    """是/否 answers; blank, —, 无 and / are not reported; anything else is an error."""
    if isinstance(raw, bool):
        return Parsed(raw)
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return Parsed(bool(raw))
    if is_not_reported(raw):  # "无" too: the contract reads it as not reported in every cell
        return NOT_REPORTED
    text = to_halfwidth(str(raw)).strip().lower()
    if text in _YES or text.startswith("是") or text.startswith("已开设"):
        return Parsed(True)
    if text in _NO or text.startswith("否") or text.startswith("未"):
        return Parsed(False)
    return Parsed(error=f"应填“是”或“否”，实际为“{raw}”")


# --- dates -----------------------------------------------------------------

NO_DATE_TEXTS = ("长期", "立即整改", "立行立改", "立即", "持续整改", "常态化")
_BEFORE = r"\s*(?:前|之前|以前)?\s*"
_DATE_FULL = re.compile(rf"^\s*(\d{{4}})\s*[./\-年]\s*(\d{{1,2}})\s*[./\-月]\s*(\d{{1,2}})\s*[日号]?{_BEFORE}$")
_DATE_COMPACT = re.compile(rf"^\s*(\d{{4}})(\d{{2}})(\d{{2}}){_BEFORE}$")
_MONTH_END = re.compile(rf"^\s*(?:(\d{{4}})\s*年\s*)?(\d{{1,2}})\s*月\s*份?\s*(?:底|末){_BEFORE}$")
_MONTH_XUN = re.compile(rf"^\s*(?:(\d{{4}})\s*年\s*)?(\d{{1,2}})\s*月\s*份?\s*(上|中|下)\s*旬{_BEFORE}$")
_MONTH_DAY = re.compile(rf"^\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*[日号]?{_BEFORE}$")
# "8.30", "8/30", "8-30": a month and a day written as text (a float 8.3 in the cell is not this).
_MONTH_DAY_NUMERIC = re.compile(rf"^\s*(\d{{1,2}})\s*[./\-]\s*(\d{{1,2}}){_BEFORE}$")
_YEAR_MONTH = re.compile(rf"^\s*(\d{{4}})\s*[./\-年]\s*(\d{{1,2}})\s*月?{_BEFORE}$")
# An Excel date serial stored as text: "45168" (optionally "45168.0").
_SERIAL_TEXT = re.compile(r"^\s*(\d{5})(?:\.0+)?\s*$")
_XUN_DAY = {"上": 10, "中": 20}
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _serial_date(serial: float) -> dt.date:
    return (dt.datetime(1899, 12, 30) + dt.timedelta(days=serial)).date()


@lru_cache(maxsize=256)
def _period_parts(report_period: str) -> tuple[int, int]:
    """("2023-12") → (2023, 12); a caller passing anything else is a programming error."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(report_period).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"report_period must be 'YYYY-MM', got {report_period!r}")
    return int(m.group(1)), int(m.group(2))


def year_for_month(month: int, report_period: str) -> int:
    """The year of a month written without one, in a report covering ``report_period``.

    The report's year, unless that month would start before the first day of the month two
    months before the period ("more than two months before the report period"): then it is the
    following year. For period 2023-12 the cut is 2023-10-01, so January–September are 2024;
    for 2023-08 the cut is 2023-06-01, so January–May are 2024. Only the month decides, because
    the cut always falls on a month's first day."""
    year, period_month = _period_parts(report_period)
    # The cut's month in the report's year; for periods January–March it lies in (or starts)
    # the report's year, and no month of the report's year comes before it.
    return year + 1 if month < period_month - 2 else year


def parse_deadline(raw: object, report_period: str) -> Parsed:
    """整改期限 of a ledger covering ``report_period`` ("YYYY-MM").

    Read: an Excel date or date serial (also a serial stored as text, "45168"); "2023.8.30",
    "2023/8/30", "2023-8-30", "2023年8月30日", "20230830", each optionally followed by 前/之前/以前;
    "8月底前"/"8月末" (the month's last day); "9月上旬"/"中旬"/"下旬" (the 10th / 20th / last day);
    "8月30日", "8月30日前", "8.30" (month and day); "2023年8月" (that month's last day).
    A month written without a year takes the report's year, unless it falls more than two
    months before the report period, when it is the next year (see ``year_for_month``:
    a December 2023 ledger's "2月底前" is 2024-02-29 and its "1.15" is 2024-01-15).
    长期/立即整改 carry no date: value None, no error. Blank is None, no error (the caller
    reports a missing deadline as a data-quality finding). Anything else, including a plain
    number such as 8.3 (a month.day typed into a number cell cannot be told from a decimal),
    is an error quoting the text."""
    if isinstance(raw, dt.datetime):
        return Parsed(raw.date())
    if isinstance(raw, dt.date):
        return Parsed(raw)
    if is_not_reported(raw):
        return NOT_REPORTED
    if isinstance(raw, bool):
        return Parsed(error=f"无法识别整改期限“{raw}”，请填写日期，如“2023年8月30日”")
    if isinstance(raw, (int, float)):
        serial = float(raw)
        if _SERIAL_MIN < serial < _SERIAL_MAX:  # an Excel serial date stored as a number
            return Parsed(_serial_date(serial))
        return Parsed(error=f"无法识别整改期限“{cell_text(raw)}”，请填写日期，如“2023年8月30日”")
    _period_parts(report_period)  # a bad period is the caller's bug, whatever the text
    return _parse_deadline_text(str(raw), report_period)


@lru_cache(maxsize=65536)
def _parse_deadline_text(raw: str, report_period: str) -> Parsed:
    text = to_halfwidth(raw).strip()
    if any(word in text for word in NO_DATE_TEXTS):
        return NOT_REPORTED
    try:
        if m := _DATE_FULL.match(text):
            return Parsed(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        if m := _DATE_COMPACT.match(text):
            return Parsed(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        if m := _SERIAL_TEXT.match(text):
            serial = int(m.group(1))
            if _SERIAL_MIN < serial < _SERIAL_MAX:
                return Parsed(_serial_date(serial))
            return Parsed(error=f"无法识别整改期限“{raw}”，请填写日期（如“2023年8月30日”），或“长期”“立即整改”")
        if m := _MONTH_END.match(text):
            month = int(m.group(2))
            year = int(m.group(1)) if m.group(1) else year_for_month(month, report_period)
            return Parsed(_month_end(year, month))
        if m := _MONTH_XUN.match(text):
            month = int(m.group(2))
            year = int(m.group(1)) if m.group(1) else year_for_month(month, report_period)
            xun = m.group(3)
            return Parsed(dt.date(year, month, _XUN_DAY[xun]) if xun in _XUN_DAY else _month_end(year, month))
        if m := _MONTH_DAY.match(text) or _MONTH_DAY_NUMERIC.match(text):
            month, day = int(m.group(1)), int(m.group(2))
            return Parsed(dt.date(year_for_month(month, report_period), month, day))
        if m := _YEAR_MONTH.match(text):
            return Parsed(_month_end(int(m.group(1)), int(m.group(2))))
    except ValueError:
        return Parsed(error=f"整改期限“{raw}”不是有效日期")
    return Parsed(error=f"无法识别整改期限“{raw}”，请填写日期（如“2023年8月30日”），或“长期”“立即整改”")


# --- hazard fields ----------------------------------------------------------

_RECTIFIED = ("已整改", "已完成整改", "整改完成", "已销号", "完成整改", "已完成", "已闭环", "销号", "整改到位", "已整改到位")
_NOT_STARTED = ("未整改", "尚未整改", "未开始", "未启动", "待整改", "尚未开始")
_IN_PROGRESS = ("整改中", "正在整改", "推进中", "进行中", "部分整改", "持续整改")
_SHARE_DONE = re.compile(r"(\d+(?:\.\d+)?)\s*%")


@lru_cache(maxsize=65536)
def parse_status(raw: str | None) -> Parsed:
    """整改进展 → rectified / in_progress / not_started. "已完成60%" is in progress; 100% is rectified."""
    text = to_halfwidth(raw or "").strip()
    if not text or text in NOT_REPORTED_TEXTS:
        return Parsed(error="整改进展未填写")
    if m := _SHARE_DONE.search(text):
        share = float(m.group(1))
        return Parsed("rectified" if share >= 100 else ("in_progress" if share > 0 else "not_started"))
    # Order matters: "未整改" contains "整改" and "尚未整改完成" must not read as rectified.
    if any(word in text for word in _NOT_STARTED) or text.startswith("未"):
        return Parsed("not_started")
    if any(word in text for word in _IN_PROGRESS):
        return Parsed("in_progress")
    if any(word in text for word in _RECTIFIED):
        return Parsed("rectified")
    if "整改" in text or "推进" in text or "完成" in text:
        return Parsed("in_progress")
    return Parsed(error=f"无法识别整改进展“{raw}”，请填写“已整改”“整改中”或“未整改”")


_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d+\s*号")


@lru_cache(maxsize=65536)
def parse_supervision(raw: str | None) -> tuple[str, str]:
    """督办层级 → (level, document). "市级挂牌督办 赣市安办字〔2023〕12号" → ("city", "赣市安办字〔2023〕12号")."""
    text = (raw or "").strip()
    if not text or text.replace(" ", "") in NOT_REPORTED_TEXTS or text in ("未督办", "不督办", "否"):
        return "none", ""
    doc_match = _DOC_NUMBER.search(text)
    document = doc_match.group(0) if doc_match else ""
    if "省" in text:
        level = "province"
    elif "市" in text and "县" not in text.split("市")[0]:
        level = "city"
    elif any(word in text for word in ("县", "区级", "市区", "区安委")):
        level = "county"
    elif "督办" in text or document:
        level = "county"
    else:
        level = "none"
    return level, document


@lru_cache(maxsize=4096)
def canonical_sector(raw: str | None) -> str | None:
    """所属行业领域 → sector key; None when blank; "other" for anything unknown (raw text kept by caller)."""
    text = to_halfwidth(raw or "").strip()
    if not text or text in NOT_REPORTED_TEXTS:
        return None
    compact = re.sub(r"\s+", "", text)
    for sector in SECTORS:
        if compact == sector.label or compact in sector.spellings:
            return sector.key
    # Longest spelling contained in the text wins: "建筑施工安全" -> construction.
    best: tuple[int, str] | None = None
    for sector in SECTORS:
        for spelling in (sector.label, *sector.spellings):
            if spelling in compact and (best is None or len(spelling) > best[0]):
                best = (len(spelling), sector.key)
    return best[1] if best else "other"


_PUNCT = re.compile(r"[\s\u3000,.，。、;；:：!！?？\"'“”‘’()（）\[\]【】《》<>\-—_·…/\\]+")


@lru_cache(maxsize=131072)
def normalize_text(text: str) -> str:
    """Whitespace and punctuation removed, half-width: the form used for hazard identity."""
    return _PUNCT.sub("", to_halfwidth(text or "")).lower()


__all__ = [
    "NOT_REPORTED",
    "Parsed",
    "canonical_sector",
    "canonical_unit",
    "cell_text",
    "is_not_reported",
    "normalize_text",
    "parse_bool",
    "parse_deadline",
    "parse_number",
    "parse_pair",
    "parse_status",
    "parse_supervision",
    "to_halfwidth",
]
