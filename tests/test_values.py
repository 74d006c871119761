"""Cell values as officers write them, read the way the data contract says.

Example-based tests pin every spelling named in ``shared/spec/data-contract.md``;
property-based tests (hypothesis) check the same rules over whole families of spellings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.reference import SECTORS
from loaders.values import (
    Parsed,
    canonical_sector,
    is_not_reported,
    parse_deadline,
    parse_number,
    parse_pair,
    parse_status,
    parse_supervision,
    to_halfwidth,
)

NOT_REPORTED_SPELLINGS = ["—", "——", "无", "/", "／", "", "   ", "　", None]
FULLWIDTH_DIGITS = str.maketrans("0123456789.", "０１２３４５６７８９．")
UNIT_WORDS = ["", "家", "个", "次", "人", "万元", "元", "家次", "个次", "人次", "起", "项"]


def has_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def assert_error_quotes(parsed, raw: str) -> None:
    """An unreadable cell yields no value and a Chinese message that quotes what was written."""
    assert parsed.value is None
    assert parsed.error, f"no error for {raw!r}"
    assert has_chinese(parsed.error)
    assert f"“{raw}”" in parsed.error


# --- numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("１２", 12),
        ("12家", 12),
        (" 12 ", 12),
        ("　１２　", 12),
        ("12 家", 12),
        ("3次", 3),
        ("35.6万元", 35.6),
        ("1,234", 1234),
        ("１，２３４", 1234),
        ("0", 0),
        (0, 0),
        ("0家", 0),
        ("2.50", 2.5),
    ],
)
def test_number_spellings_read_as_the_number(raw, expected):
    parsed = parse_number(raw)
    assert parsed.error is None
    assert parsed.value == expected
    assert type(parsed.value) is type(expected)


@pytest.mark.parametrize("raw", NOT_REPORTED_SPELLINGS + [float("nan"), "-", "暂无"])
def test_not_reported_spellings_are_not_zero(raw):
    parsed = parse_number(raw)
    assert parsed.value is None
    assert parsed.error is None
    assert not parsed.reported


def test_zero_is_reported_and_not_reported_is_not():
    assert parse_number("0").reported
    assert parse_number(0).reported
    assert not parse_number("—").reported


@pytest.mark.parametrize("raw", ["十二", "abc", "12.5.3", "约12", "12家企业左右", "见附件"])
def test_garbage_number_is_an_error_quoting_the_text(raw):
    assert_error_quotes(parse_number(raw), raw)


def test_two_numbers_in_a_single_number_cell_is_an_error():
    parsed = parse_number("12/35.6")
    assert_error_quotes(parsed, "12/35.6")
    assert "两个" in parsed.error


def test_a_date_in_a_number_cell_is_an_error_not_a_serial():
    parsed = parse_number(dt.datetime(2023, 8, 30))
    assert parsed.value is None
    assert "日期" in parsed.error


def test_a_number_too_long_to_read_exactly_is_an_error_not_rounded():
    raw = "123456789012345678901"
    assert_error_quotes(parse_number(raw), raw)
    assert parse_number("9" * 400).value is None  # was float inf


# --- pairs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "first", "second"),
    [
        ("12/35.6", 12, 35.6),
        ("12／35.6", 12, 35.6),
        ("12次 35.6万元", 12, 35.6),
        ("12次，35.6万元", 12, 35.6),
        ("12、3", 12, 3),
        ("2（其中1）", 2, 1),
        ("2(其中1)", 2, 1),
        ("１２/３５．６", 12, 35.6),
        ("12/—", 12, None),
        ("—/3", None, 3),
        ("—/—", None, None),
        ("12", 12, None),
        (12, 12, None),
        ("12次", 12, None),
        ("—", None, None),
        (None, None, None),
        ("", None, None),
    ],
)
def test_pair_spellings(raw, first, second):
    a, b = parse_pair(raw)
    assert (a.error, b.error) == (None, None)
    assert (a.value, b.value) == (first, second)


@pytest.mark.parametrize("raw", ["见附件", "12/abc", "十二次"])
def test_garbage_pair_is_an_error_quoting_the_text(raw):
    first, second = parse_pair(raw)
    assert_error_quotes(first, raw)
    assert second.value is None


# --- numbers with a bracketed note ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "note"),
    [
        ("3（其中重大1）", 3, "其中重大1"),
        ("5(含复查2)", 5, "含复查2"),
        ("3 (含1家复查)", 3, "含1家复查"),
        ("３（其中重大１）", 3, "其中重大1"),
        ("3家（含复查2家）", 3, "含复查2家"),
        ("35.6万元（含没收违法所得2万元）", 35.6, "含没收违法所得2万元"),
        ("0（本月无）", 0, "本月无"),
        (" 12 （ 均已整改 ） ", 12, "均已整改"),
    ],
)
def test_a_number_with_a_bracketed_note_is_the_number_and_keeps_the_note(raw, value, note):
    assert parse_number(raw) == Parsed(value, note=note)


@pytest.mark.parametrize("raw", ["12（其中3）", "12(其中3)", "12（3）", "12(3个)", "12（其中3个）"])
def test_brackets_holding_only_a_number_in_a_one_value_cell_stay_an_error(raw):
    parsed = parse_number(raw)
    assert_error_quotes(parsed, raw)
    assert "两个" in parsed.error
    assert parsed.note is None


@pytest.mark.parametrize("raw", ["3（其中重大1", "（其中重大1）3", "3（）", "约3（其中重大1）"])
def test_a_note_needs_a_leading_number_and_closed_brackets(raw):
    parsed = parse_number(raw)
    assert_error_quotes(parsed, raw)
    assert parsed.note is None


@pytest.mark.parametrize("raw", [12, "12", "12家", "—", None])
def test_plain_values_carry_no_note(raw):
    assert parse_number(raw).note is None


def test_a_two_value_label_reads_bracketed_number_as_the_second_value_and_words_as_a_note():
    whole, part = parse_pair("12（其中3）")
    assert (whole, part) == (Parsed(12), Parsed(3))
    first, second = parse_pair("3（其中重大1）")
    assert (first, second) == (Parsed(3, note="其中重大1"), Parsed())
    first, second = parse_pair("12/35.6（含罚没）")
    assert (first, second) == (Parsed(12), Parsed(35.6, note="含罚没"))


@given(
    number=st.integers(min_value=0, max_value=10**12),
    words=st.sampled_from(["其中重大", "含复查", "含", "其中较大"]),
    inner=st.integers(min_value=0, max_value=10**6),
    paren=st.sampled_from([("（", "）"), ("(", ")")]),
    space=st.sampled_from(["", " ", "　"]),
)
def test_any_number_with_a_worded_note_parses_back(number, words, inner, paren, space):
    raw = f"{number}{space}{paren[0]}{words}{inner}{paren[1]}"
    parsed = parse_number(raw)
    assert parsed.error is None, raw
    assert parsed.value == number, raw
    assert parsed.note == f"{words}{inner}", raw


# --- dates ----------------------------------------------------------------------
# The ledger's period is the second argument: a month written without a year takes the
# period's year unless it falls before the first day of the month two months before the
# period (contract, 整改期限), then it is the next year.


@pytest.mark.parametrize(
    "raw",
    [
        dt.date(2023, 8, 30),
        dt.datetime(2023, 8, 30, 0, 0),
        dt.datetime(2023, 8, 30, 17, 45),
        45168,  # Excel serial for 2023-08-30
        45168.0,
        "45168",  # the same serial, stored as text
        " 45168 ",
        "４５１６８",
        "2023.8.30",
        "2023/8/30",
        "2023-08-30",
        "2023-8-30",
        "2023-8-30前",
        "2023年8月30日",
        "2023年8月30日前",
        "2023年8月30日之前",
        " 2023 年 8 月 30 日 ",
        "２０２３年８月３０日",
        "20230830",
        "8月30日",
        "8月30日前",
        "8月30号",
        "8.30",
        "8.30前",
        "８．３０",
        "8/30",
    ],
)
def test_deadline_spellings_of_30_august_2023_in_an_august_ledger(raw):
    parsed = parse_deadline(raw, "2023-08")
    assert parsed == Parsed(dt.date(2023, 8, 30))


@pytest.mark.parametrize(
    ("raw", "period", "expected"),
    [
        # The December ledger: next year's deadlines, not a year overdue.
        ("2月底前", "2023-12", dt.date(2024, 2, 29)),
        ("1月15日前", "2023-12", dt.date(2024, 1, 15)),
        ("1.15", "2023-12", dt.date(2024, 1, 15)),
        ("2月29日", "2023-12", dt.date(2024, 2, 29)),  # valid only in the next (leap) year
        # The cut for 2023-12 is 2023-10-01: on it the report's year, the day before the next year.
        ("10月1日", "2023-12", dt.date(2023, 10, 1)),
        ("9月30日", "2023-12", dt.date(2024, 9, 30)),
        ("11月中旬", "2023-12", dt.date(2023, 11, 20)),
        ("12月底前", "2023-12", dt.date(2023, 12, 31)),
        # An August ledger: the cut is 2023-06-01.
        ("6月1日", "2023-08", dt.date(2023, 6, 1)),
        ("5.31", "2023-08", dt.date(2024, 5, 31)),
        ("2月底前", "2023-08", dt.date(2024, 2, 29)),
        ("7月底前", "2023-08", dt.date(2023, 7, 31)),
        ("12月末", "2023-08", dt.date(2023, 12, 31)),
        # A May ledger (the campaign's first): the cut is 2023-03-01.
        ("3月1日", "2023-05", dt.date(2023, 3, 1)),
        ("2月28日", "2023-05", dt.date(2024, 2, 28)),
        # Periods early in a year: the cut lies in the previous year, so every month is this year.
        ("1.1", "2024-03", dt.date(2024, 1, 1)),
        ("12月31日", "2024-02", dt.date(2024, 12, 31)),
        ("2月底前", "2024-01", dt.date(2024, 2, 29)),
        # An explicit year is never moved.
        ("2023年2月底前", "2023-12", dt.date(2023, 2, 28)),
        ("2023.1.15", "2023-12", dt.date(2023, 1, 15)),
    ],
)
def test_a_month_without_a_year_takes_the_report_year_or_the_next(raw, period, expected):
    assert parse_deadline(raw, period) == Parsed(expected)


@pytest.mark.parametrize(
    ("raw", "period", "expected"),
    [
        ("9月上旬", "2023-08", dt.date(2023, 9, 10)),
        ("9月中旬", "2023-08", dt.date(2023, 9, 20)),
        ("9月下旬", "2023-08", dt.date(2023, 9, 30)),
        ("9月中旬前", "2023-08", dt.date(2023, 9, 20)),
        ("9 月 下 旬", "2023-08", dt.date(2023, 9, 30)),
        ("2月下旬", "2023-08", dt.date(2024, 2, 29)),
        ("2月下旬", "2024-08", dt.date(2025, 2, 28)),
        ("1月上旬", "2023-12", dt.date(2024, 1, 10)),
        ("2023年9月中旬", "2023-12", dt.date(2023, 9, 20)),
    ],
)
def test_xun_is_the_10th_20th_or_last_day_of_the_month(raw, period, expected):
    assert parse_deadline(raw, period) == Parsed(expected)


@pytest.mark.parametrize(
    ("raw", "period", "expected"),
    [
        ("8月底前", "2023-08", dt.date(2023, 8, 31)),
        ("8月末", "2023-08", dt.date(2023, 8, 31)),
        ("9月底前", "2023-08", dt.date(2023, 9, 30)),
        ("12月底前", "2023-08", dt.date(2023, 12, 31)),
        ("9月15日", "2023-09", dt.date(2023, 9, 15)),
        ("9月15日", "2024-09", dt.date(2024, 9, 15)),
        ("2月底前", "2100-02", dt.date(2100, 2, 28)),
    ],
)
def test_month_end_and_month_day_in_the_report_year(raw, period, expected):
    assert parse_deadline(raw, period).value == expected


def test_the_same_text_reads_differently_for_different_periods():
    # The cache of text parses must key on the period too.
    assert parse_deadline("8.30", "2023-08").value == dt.date(2023, 8, 30)
    assert parse_deadline("8.30", "2023-12").value == dt.date(2024, 8, 30)
    assert parse_deadline("8.30", "2023-08").value == dt.date(2023, 8, 30)


@pytest.mark.parametrize("raw", ["长期", "立即整改", " 长期 ", "—", "", None])
def test_deadlines_without_a_date_carry_no_date_and_no_error(raw):
    parsed = parse_deadline(raw, "2023-08")
    assert parsed.value is None
    assert parsed.error is None


@pytest.mark.parametrize(
    "raw",
    ["尽快", "下个月", "2023.2.30", "9月31日", "13月底前", "0", 0, 5, "8.32", "13.5", "下旬", "12345", "90000",
     "2023年8月30日后"],
)
def test_garbage_deadline_is_an_error(raw):
    parsed = parse_deadline(raw, "2023-08")
    assert parsed.value is None
    assert parsed.error and has_chinese(parsed.error)
    assert str(raw) in parsed.error


@pytest.mark.parametrize("raw", [8.3, 8.30, 12.5])
def test_a_decimal_number_in_the_cell_is_not_read_as_month_and_day(raw):
    # "8.30" typed into a number cell arrives as the float 8.3: 8月3日 or 8月30日 cannot be told apart.
    parsed = parse_deadline(raw, "2023-08")
    assert parsed.value is None
    assert parsed.error and str(raw) in parsed.error


@pytest.mark.parametrize("period", ["2023", "2023-13", "", None, 2023])
def test_a_malformed_report_period_is_a_programming_error(period):
    with pytest.raises(ValueError):
        parse_deadline("8.30", period)




# --- statuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("已整改", "rectified"),
        ("已完成整改", "rectified"),
        ("整改完成", "rectified"),
        ("已销号", "rectified"),
        ("100%", "rectified"),
        ("已完成100%", "rectified"),
        ("整改中", "in_progress"),
        ("正在整改", "in_progress"),
        ("已完成60%", "in_progress"),
        ("已完成６０％", "in_progress"),
        ("未整改", "not_started"),
        ("尚未整改", "not_started"),
        ("未开始", "not_started"),
        ("尚未整改完成", "not_started"),
        (" 已整改 ", "rectified"),
    ],
)
def test_status_spellings(raw, expected):
    assert parse_status(raw).value == expected


@pytest.mark.parametrize("raw", ["", None, "—"])
def test_missing_status_is_an_error_not_a_guess(raw):
    parsed = parse_status(raw)
    assert parsed.value is None
    assert parsed.error and has_chinese(parsed.error)


def test_unknown_status_is_an_error_quoting_the_text():
    assert_error_quotes(parse_status("见附件"), "见附件")


# --- supervision ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("市级挂牌督办 赣市安办字〔2023〕12号", ("city", "赣市安办字〔2023〕12号")),
        ("市级挂牌督办（赣市安办字〔2023〕12号）", ("city", "赣市安办字〔2023〕12号")),
        ("县级督办", ("county", "")),
        ("县级挂牌督办（章安办字〔2023〕3号）", ("county", "章安办字〔2023〕3号")),
        ("县级挂牌督办（…）", ("county", "")),
        ("省级挂牌督办", ("province", "")),
        ("无", ("none", "")),
        ("/", ("none", "")),
        ("／", ("none", "")),
        ("", ("none", "")),
        ("  ", ("none", "")),
        (None, ("none", "")),
    ],
)
def test_supervision_spellings(raw, expected):
    assert parse_supervision(raw) == expected


# --- sectors ----------------------------------------------------------------------

CONTRACT_SECTOR_SPELLINGS = {
    "road_traffic": ["道路交通", "道路交通安全", "交通运输(道路)", "交通运输（道路）"],
    "fire": ["消防", "消防安全"],
    "construction": ["建筑施工", "房屋市政工程", "建筑"],
    "mining": ["矿山", "非煤矿山", "尾矿库"],
    "hazardous_chemicals": ["危险化学品", "危化", "危化品", "化工"],
    "industry_trade": ["工贸", "冶金", "粉尘涉爆", "有限空间", "钢铁"],
    "urban_gas": ["城镇燃气", "燃气", "瓶装液化气"],
    "special_equipment": ["特种设备", "电梯", "起重机械", "压力容器"],
    "agriculture": ["农业生产", "农机", "渔业船舶", "沼气"],
    "other": ["其他"],
}


@pytest.mark.parametrize(
    ("raw", "key"), [(raw, key) for key, spellings in CONTRACT_SECTOR_SPELLINGS.items() for raw in spellings]
)
def test_every_contract_sector_spelling_maps_to_its_key(raw, key):
    assert canonical_sector(raw) == key
    assert canonical_sector(f" {raw} ") == key


def test_every_sector_of_the_reference_is_in_the_contract_table():
    assert {s.key for s in SECTORS} == set(CONTRACT_SECTOR_SPELLINGS)


@pytest.mark.parametrize("raw", ["殡葬服务", "旅游景区", "学校"])
def test_unknown_sector_is_other(raw):
    assert canonical_sector(raw) == "other"


@pytest.mark.parametrize("raw", ["", "  ", None])
def test_blank_sector_is_none(raw):
    assert canonical_sector(raw) is None


# --- helpers ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", NOT_REPORTED_SPELLINGS + [float("nan"), " / ", " — "])
def test_is_not_reported_true(raw):
    assert is_not_reported(raw)


@pytest.mark.parametrize("raw", [0, 0.0, "0", "12", 12, "否", False])
def test_is_not_reported_false_for_values_including_zero(raw):
    assert not is_not_reported(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３", "123"),
        ("３５．６", "35.6"),
        ("１２／３", "12/3"),
        ("１２，３", "12,3"),
        ("　", " "),
        ("－５", "-5"),
        ("８０％", "80%"),
        ("章贡区已整改", "章贡区已整改"),
        ("赣市安办字〔2023〕12号", "赣市安办字〔2023〕12号"),
    ],
)
def test_to_halfwidth(raw, expected):
    assert to_halfwidth(raw) == expected


# --- properties -------------------------------------------------------------------

spaces = st.sampled_from(["", " ", "  ", "　"])
units = st.sampled_from(UNIT_WORDS)
counts = st.integers(min_value=0, max_value=10**12)
amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


def written(number: int | Decimal, fullwidth: bool, lead: str, unit: str, trail: str) -> str:
    text = str(number)
    if fullwidth:
        text = text.translate(FULLWIDTH_DIGITS)
    return f"{lead}{text}{unit}{trail}"


def same_number(value: object, number: int | Decimal) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isclose(value, float(number), rel_tol=1e-12)


@given(number=st.one_of(counts, amounts), fullwidth=st.booleans(), lead=spaces, unit=units, trail=spaces)
def test_any_written_number_parses_back(number, fullwidth, lead, unit, trail):
    raw = written(number, fullwidth, lead, unit, trail)
    parsed = parse_number(raw)
    assert parsed.error is None, raw
    assert same_number(parsed.value, number), raw


@given(number=counts)
def test_integers_stay_exact_integers(number):
    assert parse_number(str(number)).value == number
    assert type(parse_number(str(number)).value) is int


PAIR_SEPARATORS = ["/", "／", " / ", "、", "，", "；", ";", " ", "  ", "　"]


@given(
    first=counts,
    second=st.one_of(counts, amounts),
    separator=st.sampled_from(PAIR_SEPARATORS),
    first_unit=st.sampled_from(["", "次", "个", "起"]),
    second_unit=st.sampled_from(["", "万元", "个", "元"]),
    fullwidth=st.booleans(),
)
def test_any_pair_with_an_accepted_separator_parses_back(first, second, separator, first_unit, second_unit, fullwidth):
    raw = written(first, fullwidth, "", first_unit, "") + separator + written(second, fullwidth, "", second_unit, "")
    a, b = parse_pair(raw)
    assert (a.error, b.error) == (None, None), raw
    assert same_number(a.value, first) and same_number(b.value, second), raw


@given(whole=counts, part=counts, unit=st.sampled_from(["", "个"]), paren=st.sampled_from([("（", "）"), ("(", ")")]))
def test_any_of_which_pair_parses_back(whole, part, unit, paren):
    raw = f"{whole}{unit}{paren[0]}其中{part}{unit}{paren[1]}"
    a, b = parse_pair(raw)
    assert (a.value, b.value) == (whole, part), raw


@given(number=st.one_of(counts, amounts), unit=units)
def test_a_lone_number_in_a_pair_cell_fills_the_first(number, unit):
    a, b = parse_pair(f"{number}{unit}")
    assert same_number(a.value, number)
    assert b.value is None and b.error is None


DATE_FORMATS = [
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}",
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日",
    lambda d: f"{d.year} 年 {d.month} 月 {d.day} 日",
    lambda d: f"{d.year}年{d.month}月{d.day}日前",
]
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


periods = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2000, 2098), st.integers(1, 12))


def cut_of(period: str) -> dt.date:
    """The first day of the month two months before ``period`` (the contract's "more than two
    months before the report period")."""
    year, month = int(period[:4]), int(period[5:])
    index = year * 12 + month - 1 - 2
    return dt.date(index // 12, index % 12 + 1, 1)


def assert_year_rule(value: dt.date, period: str, month: int, day: int) -> None:
    """The date is (month, day) in the report's year, or the next year exactly when the report's
    year would put it before the cut."""
    year = int(period[:4])
    assert (value.month, value.day) == (month, day)
    assert value.year in (year, year + 1)
    assert value >= cut_of(period)
    if value.year == year + 1:
        assert dt.date(year, month, 1) < cut_of(period)


@given(date=dates, fmt=st.sampled_from(DATE_FORMATS), fullwidth=st.booleans(), period=periods)
def test_any_date_in_an_accepted_format_parses_back(date, fmt, fullwidth, period):
    raw = fmt(date)
    if fullwidth:
        raw = raw.translate(FULLWIDTH_DIGITS)
    assert parse_deadline(raw, period).value == date, raw


@given(date=dates, period=periods, as_text=st.booleans())
def test_excel_dates_and_serials_parse_back(date, period, as_text):
    serial = (date - dt.date(1899, 12, 30)).days
    assert parse_deadline(str(serial) if as_text else serial, period).value == date
    assert parse_deadline(float(serial), period).value == date
    assert parse_deadline(dt.datetime.combine(date, dt.time(9, 30)), period).value == date


@given(month=st.integers(1, 12), period=periods, suffix=st.sampled_from(["底前", "底", "末", "底之前", "末前"]))
def test_month_end_is_the_last_day_of_that_month_by_the_year_rule(month, period, suffix):
    parsed = parse_deadline(f"{month}月{suffix}", period)
    assert parsed.error is None
    assert (parsed.value + dt.timedelta(days=1)).day == 1
    assert_year_rule(parsed.value, period, month, parsed.value.day)


@given(
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    period=periods,
    fmt=st.sampled_from(["{m}月{d}日", "{m}月{d}日前", "{m}.{d}", "{m}.{d:02d}", "{m}月{d}号"]),
)
def test_month_day_is_that_day_by_the_year_rule_or_an_error(month, day, period, fmt):
    parsed = parse_deadline(fmt.format(m=month, d=day), period)
    if parsed.value is None:
        # Only a day the month never has in either candidate year is refused.
        year = int(period[:4])
        assert day > max(calendar.monthrange(year, month)[1], calendar.monthrange(year + 1, month)[1]) or (
            month == 2 and day == 29
        )
        assert parsed.error
    else:
        assert_year_rule(parsed.value, period, month, day)


@settings(max_examples=300)
@given(raw=st.text())
def test_parsers_never_raise_on_arbitrary_text(raw):
    number = parse_number(raw)
    assert (number.value is None) or (number.error is None)
    if number.value is not None:
        assert isinstance(number.value, (int, float)) and math.isfinite(number.value)
    for parsed in parse_pair(raw):
        assert parsed.value is None or (isinstance(parsed.value, (int, float)) and math.isfinite(parsed.value))
    assert number.note is None or (number.value is not None and number.error is None)
    deadline = parse_deadline(raw, "2023-12")
    assert deadline.value is None or isinstance(deadline.value, dt.date)
    status = parse_status(raw)
    assert status.value in (None, "rectified", "in_progress", "not_started")
    assert (status.value is None) == (status.error is not None)
    assert parse_supervision(raw)[0] in ("city", "county", "province", "none")
    assert canonical_sector(raw) in {None, *CONTRACT_SECTOR_SPELLINGS}
    assert isinstance(is_not_reported(raw), bool)
    assert isinstance(to_halfwidth(raw), str)


@given(raw=st.sampled_from(NOT_REPORTED_SPELLINGS), lead=spaces, trail=spaces)
def test_not_reported_spellings_never_yield_zero(raw, lead, trail):
    text = f"{lead}{raw or ''}{trail}"
    assert parse_number(text).value is None
    assert parse_number(text).error is None
    assert all(p.value is None for p in parse_pair(text))
    assert all(p.value is None for p in parse_pair(f"{text}/{text}"))
