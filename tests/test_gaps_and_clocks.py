"""Issue 7 on screen: gaps in the monthly increments, the supervision clock, a past window's
"newly overdue", the statistics date and the notice-board lookup — each on campaigns built
by the real loader from .xlsx files written the way clerks write them."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.campaign_builders import boards, campaign, form, forms_campaign, ledger
from tests.xlsx_builders import to_bytes

from components.charts_indicators import increments_chart, increments_heatmap
from components.data import SharedCampaign, default_as_of, received_periods
from components.hazard_detail import _registry_lines
from metrics import dispatch
from metrics import indicators as form_figures
from metrics.hazards import HazardIndex, registry_entry

CITY = "市级挂牌督办 赣市安办字〔2023〕12号"
COUNTY = "县级挂牌督办"
ENTERPRISE = "赣州某化工有限公司"


# --- gaps in the increments -----------------------------------------------------------

@pytest.fixture(scope="module")
def gap_indicators():
    """self_found May 10, June "—", July 45 (the contract's example)."""
    return forms_campaign({"章贡区": {
        "2023-05": {"self_found": 10, "dept_found": 5},
        "2023-06": {"self_found": "—", "dept_found": 8},
        "2023-07": {"self_found": 45, "dept_found": 20},
    }}).indicators


def test_an_increment_that_spans_a_missing_month_says_so(gap_indicators):
    rows = form_figures.monthly_increments(gap_indicators, ["self_found"]).set_index("period")
    assert "2023-06" not in rows.index  # missing, not zero
    assert rows.loc["2023-07", "increment"] == 35
    assert rows.loc["2023-07", "spans_gap"] and rows.loc["2023-07", "gap_periods"] == "2023-06"
    assert not rows.loc["2023-05", "spans_gap"]
    by_period = form_figures.increments_by_period(gap_indicators, "self_found").set_index("period")
    assert by_period.loc["2023-07", "gaps"] == 1 and by_period.loc["2023-05", "gaps"] == 0


def test_trend_charts_mark_the_increment_spanning_a_gap(gap_indicators):
    heatmap = increments_heatmap(form_figures.monthly_increments(gap_indicators, ["self_found"]), "self_found")
    cells = heatmap.get(0)
    notes = dict(zip(cells.dimension_values("period"), cells.dimension_values("gap_text")))
    assert notes == {"2023-05": "", "2023-07": "2023-06"}
    texts = dict(zip(heatmap.get(1).dimension_values("period"), heatmap.get(1).dimension_values("text")))
    assert texts == {"2023-05": "10", "2023-07": "35*"}
    bars = increments_chart(form_figures.increments_by_period(gap_indicators, "self_found"), "self_found", "en").get(0)
    assert dict(zip(bars.dimension_values("period"), bars.dimension_values("gaps"))) == {"2023-05": 0, "2023-07": 1}


# --- the supervision clock --------------------------------------------------------------

def _supervised(*months: tuple[str, str, str], as_of: dt.date):
    """One 章贡区 hazard listed in each (period, supervision, progress)."""
    return campaign(*(ledger("章贡区", period, [{"supervision": level, "progress": progress, "deadline": "2023年12月31日"}])
                      for period, level, progress in months), as_of=as_of)


def _stalled(built):
    return dispatch.stalled_supervised(built.hazards, built.unique_hazards, built.as_of)


def test_supervision_lifted_stops_the_clock():
    # City-supervised in May (clock from 2023-06-23): by 2023-09-01, 70 days > 60 without progress.
    kept = _supervised(("2023-05", CITY, "未整改"), ("2023-06", CITY, "未整改"), as_of=dt.date(2023, 9, 1))
    (row,) = _stalled(kept).itertuples()
    assert (row.days_supervised, row.limit_days, row.supervised_since) == (70, 60, dt.date(2023, 6, 23))
    # The same hazard with supervision lifted in June, progress unchanged: no longer stalled.
    lifted = _supervised(("2023-05", CITY, "未整改"), ("2023-06", "无", "未整改"), as_of=dt.date(2023, 9, 1))
    assert lifted.unique_hazards["supervision_level"].tolist() == ["none"]
    assert _stalled(lifted).empty


def test_a_change_of_level_restarts_the_clock_at_the_new_level():
    # County in May, city from June: the clock runs from June's filing deadline (2023-07-23) at the city's 60 days.
    moved = [("2023-05", COUNTY, "未整改"), ("2023-06", CITY, "未整改")]
    assert _stalled(_supervised(*moved, as_of=dt.date(2023, 8, 30))).empty  # 38 days
    (row,) = _stalled(_supervised(*moved, as_of=dt.date(2023, 9, 25))).itertuples()
    assert (row.supervised_since, row.days_supervised, row.limit_days) == (dt.date(2023, 7, 23), 64, 60)
    # County-supervised throughout: 30 days from 2023-06-23.
    (row,) = _stalled(_supervised(("2023-05", COUNTY, "未整改"), ("2023-06", COUNTY, "未整改"),
                                  as_of=dt.date(2023, 7, 24))).itertuples()
    assert (row.days_supervised, row.limit_days) == (31, 30)


# --- a past window's newly overdue -----------------------------------------------------------

def test_a_past_windows_newly_overdue_does_not_change_when_later_ledgers_arrive():
    due_in_july = {"deadline": "2023年7月10日", "progress": "未整改"}
    may, june = ledger("章贡区", "2023-05", [due_in_july]), ledger("章贡区", "2023-06", [due_in_july])
    then = campaign(may, june, as_of=dt.date(2023, 7, 23))
    later = campaign(may, june, ledger("章贡区", "2023-08", [{**due_in_july, "progress": "已整改"}]), as_of=dt.date(2024, 1, 23))
    assert later.unique_hazards["status"].tolist() == ["rectified"]  # today's status would drop it

    def june_review(built):
        return dispatch.weekly_review(built, received_periods(built), "2023-06")

    first, again = june_review(then), june_review(later)
    assert (first.overdue_since, first.overdue_until) == (again.overdue_since, again.overdue_until) == (
        dt.date(2023, 6, 23), dt.date(2023, 7, 23))
    assert len(first.overdue) == 1
    assert again.overdue["hazard_id"].tolist() == first.overdue["hazard_id"].tolist()
    assert again.overdue["status"].tolist() == ["not_started"]  # as it stood at the window's end
    # The August review, whose window ends after the rectification, does not list it.
    assert dispatch.weekly_review(later, received_periods(later), "2023-08").overdue.empty


# --- the statistics date -----------------------------------------------------------------------

def test_a_period_outside_the_window_never_moves_the_statistics_date():
    built = campaign(form("章贡区", "2023-11", {"self_found": 3}), form("南康区", "2024-01", {"self_found": 4}))
    assert received_periods(built) == ["2023-11"]
    assert default_as_of(built, dt.date(2024, 6, 1)) == dt.date(2023, 12, 23)
    assert default_as_of(built, dt.date(2023, 12, 2)) == dt.date(2023, 12, 2)
    shared = SharedCampaign.from_campaign(built.at(dt.date(2023, 12, 23)))
    assert shared.snapshot.periods == ["2023-11"] and shared.snapshot.latest_period == "2023-11"


def test_the_statistics_date_follows_the_calendar_in_a_running_server(tmp_path):
    from openpyxl import Workbook

    from sample_data.writers import write_form

    wb = Workbook()
    write_form(wb.active, {"self_found": 3}, unit_label="章贡区", title_period_text="（2023年11月）")
    today = [dt.date(2023, 12, 10)]
    shared = SharedCampaign(tmp_path / "store", today=lambda: today[0])
    shared.ingest([("章贡区2023年11月调度表.xlsx", to_bytes(wb))])
    first = shared.snapshot
    assert first.as_of == dt.date(2023, 12, 10)
    assert shared.snapshot is first  # the same day: nothing rebuilt
    today[0] = dt.date(2023, 12, 11)
    moved = shared.snapshot
    assert moved.as_of == dt.date(2023, 12, 11) and moved.revision > first.revision
    assert moved.campaign.indicators is first.campaign.indicators  # re-dated, not re-read
    today[0] = dt.date(2024, 3, 1)
    assert shared.snapshot.as_of == dt.date(2023, 12, 23)  # capped at November's filing deadline
    capped = shared.snapshot
    today[0] = dt.date(2024, 3, 2)
    assert shared.snapshot is capped


# --- the notice board of a hazard's enterprise -----------------------------------------------------

def _board(enterprise: str, leader: str) -> dict:
    return {"enterprise": enterprise, "responsible_unit": "应急管理局", "head": "王五", "head_phone": "13800000001",
            "leader": leader, "leader_phone": "13800000002", "cadre": "钱七", "cadre_phone": "13800000003"}


def test_registry_entry_is_the_hazard_units_board_else_any_board_naming_the_enterprise():
    built = campaign(
        boards("章贡区", [_board(ENTERPRISE, "赵六")]),
        boards("南康区", [_board(ENTERPRISE, "周九"), _board("南康某矿业公司", "吴十")]),
        ledger("章贡区", "2023-08", [{}]),
    )
    index = HazardIndex.build(built)
    assert registry_entry(index, ENTERPRISE, "章贡区")["leader"] == "赵六"
    assert registry_entry(index, ENTERPRISE, "南康区")["leader"] == "周九"
    # 市住建局 sent no board naming it: the board of the county that lists it.
    fallback = registry_entry(index, "南康某矿业公司", "市住建局")
    assert fallback["leader"] == "吴十" and fallback["unit"] == "南康区"
    assert registry_entry(index, "没有这家企业", "章贡区") is None
    # The detail pane says whose board it is when it is another unit's.
    lines = _registry_lines(fallback, "zh", "市住建局")
    assert lines[0] == "（南康区报送的公示牌）" and any("吴十" in line for line in lines)
    assert not any("报送的公示牌" in line for line in _registry_lines(registry_entry(index, ENTERPRISE, "章贡区"), "zh", "章贡区"))
