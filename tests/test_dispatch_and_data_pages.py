"""The weekly dispatch rules and views, and the data page's upload report and submission history, without a browser."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from components.data import SharedCampaign
from components.dispatch_views import WeeklyDispatch
from components.state import DashboardState
from components.submissions_view import SubmissionHistory
from components.upload import (
    UploadJob,
    UploadPanel,
    change_rows,
    issue_rows,
    outcome_rows,
    replacement_rows,
)
from metrics import dispatch
from tests.conftest import SAMPLE_AS_OF

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "campaign"
CORRECTED = "2023年08月/南康区8月调度表（更正）.xlsx"


def hazard_rows(rows: list[dict]) -> pd.DataFrame:
    """Per-period hazard rows with the columns the dispatch rules read."""
    base = {"unit": "章贡区", "unit_type": "county", "supervision_level": "none", "progress_raw": "未整改", "status": "not_started"}
    return pd.DataFrame([{**base, **row} for row in rows])


def submission_rows(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(kind, unit, period) → active submissions."""
    return pd.DataFrame([{"kind": kind, "unit": unit, "unit_type": "county", "period": period, "active": True}
                         for kind, unit, period in rows])


# --- the rules of metrics.dispatch ---------------------------------------------------

def test_filing_deadline_is_the_23rd_of_the_following_month():
    assert dispatch.filing_deadline("2023-08") == dt.date(2023, 9, 23)
    assert dispatch.filing_deadline("2023-12") == dt.date(2024, 1, 23)


def test_previous_period():
    assert dispatch.previous_period(["2023-05", "2023-06", "2023-08"], "2023-08") == "2023-06"
    assert dispatch.previous_period(["2023-05"], "2023-05") is None


def test_new_hazards_are_those_first_listed_in_the_period():
    unique = pd.DataFrame({"hazard_id": ["a", "b"], "first_period": ["2023-06", "2023-07"]})
    assert dispatch.new_hazards(unique, "2023-07")["hazard_id"].tolist() == ["b"]


def test_newly_rectified_needs_an_earlier_unrectified_listing():
    hazards = hazard_rows([
        {"hazard_id": "a", "period": "2023-06"}, {"hazard_id": "a", "period": "2023-07", "status": "rectified"},
        {"hazard_id": "b", "period": "2023-07", "status": "rectified"},  # new and already rectified
        {"hazard_id": "c", "period": "2023-06", "status": "rectified"}, {"hazard_id": "c", "period": "2023-07", "status": "rectified"},
    ])
    assert dispatch.newly_rectified(hazards, "2023-07")["hazard_id"].tolist() == ["a"]


def test_newly_overdue_counts_deadlines_in_the_window_still_open():
    unique = pd.DataFrame({
        "hazard_id": ["in", "done", "before", "at_end", "no_date"],
        "deadline": pd.to_datetime(["2023-09-01", "2023-09-01", "2023-08-01", "2023-09-23", None]),
        "status": ["in_progress", "rectified", "not_started", "not_started", "not_started"],
    })
    found = dispatch.newly_overdue(unique, dt.date(2023, 8, 23), dt.date(2023, 9, 23))
    assert found["hazard_id"].tolist() == ["in"]


def test_stalled_supervised_after_30_days_county_and_60_days_city():
    hazards = hazard_rows([
        {"hazard_id": "county", "period": "2023-06", "supervision_level": "county"},
        {"hazard_id": "city", "period": "2023-06", "supervision_level": "city"},
        {"hazard_id": "moved", "period": "2023-06", "supervision_level": "county"},
        {"hazard_id": "moved", "period": "2023-07", "supervision_level": "county", "progress_raw": "已完成30%"},
    ])
    unique = hazards.drop_duplicates("hazard_id", keep="last")
    # Supervised since 2023-07-23 (the filing deadline of 2023-06): 40 days later.
    stalled = dispatch.stalled_supervised(hazards, unique, dt.date(2023, 9, 1))
    assert stalled["hazard_id"].tolist() == ["county"]
    assert stalled.iloc[0][["days_supervised", "limit_days"]].tolist() == [40, 30]
    later = dispatch.stalled_supervised(hazards, unique, dt.date(2023, 9, 30))
    assert set(later["hazard_id"]) == {"county", "city"}


def test_missing_reports_only_after_the_deadline_and_only_for_known_units():
    submissions = submission_rows([
        ("ledger", "章贡区", "2023-07"), ("county_form", "章贡区", "2023-07"),
        ("ledger", "南康区", "2023-07"), ("county_form", "南康区", "2023-07"),
        ("ledger", "章贡区", "2023-08"),
        ("ledger", "赣县区", "2023-08"), ("county_form", "赣县区", "2023-08"),  # first report: not "missing" anything
    ])
    assert dispatch.missing_reports(submissions, "2023-08", dt.date(2023, 9, 23)).empty
    missing = dispatch.missing_reports(submissions, "2023-08", dt.date(2023, 9, 24))
    assert missing[["unit", "missing"]].values.tolist() == [["南康区", "台账和调度表"], ["章贡区", "调度表"]]


def test_open_findings_leave_out_the_info_notes(campaign):
    findings = dispatch.open_findings(campaign.issues_frame)
    assert set(findings["severity"]) <= {"error", "warning"} and len(findings) > 0


def test_review_periods_and_overdue_window():
    periods = ["2023-09", "2023-10", "2023-11", "2023-12"]
    assert dispatch.review_periods(periods, "2023-12") == ["2023-12"]
    # Forms due after 2023-11-01: October's (11-23), November's and December's.
    assert dispatch.review_periods(periods, "2023-12", dt.date(2023, 11, 1)) == ["2023-10", "2023-11", "2023-12"]
    assert dispatch.overdue_window(periods, "2023-12", SAMPLE_AS_OF) == (dt.date(2023, 12, 23), SAMPLE_AS_OF)
    assert dispatch.overdue_window(periods, "2023-09", SAMPLE_AS_OF) == (dt.date(2023, 9, 1), dt.date(2023, 10, 23))
    assert dispatch.overdue_window(periods, "2023-12", dt.date(2024, 1, 5), dt.date(2023, 12, 1)) == (
        dt.date(2023, 12, 1), dt.date(2024, 1, 5))


def test_weekly_review_of_the_sample(campaign, shared):
    periods = shared.snapshot.periods
    review = dispatch.weekly_review(campaign, periods, "2023-12")
    assert len(review.new) == len(dispatch.new_hazards(campaign.unique_hazards, "2023-12"))
    assert set(review.rectified["hazard_id"]) == set(dispatch.newly_rectified(campaign.hazards, "2023-12")["hazard_id"])
    assert (review.rectified["rectified_in"] == "2023-12").all()
    wider = dispatch.weekly_review(campaign, periods, "2023-12", dt.date(2023, 10, 1))
    assert len(wider.new) > len(review.new) and len(wider.rectified) > len(review.rectified)
    # The corrected form's duplicate finding belongs to 南康区.
    corrected = review.findings[review.findings["file"] == CORRECTED]
    assert set(corrected["unit"]) == {"南康区"}


def test_dataset_figures(campaign):
    figures = dispatch.dataset_figures(campaign)
    assert figures["unique_hazards"] == len(campaign.unique_hazards)
    assert figures["files"] == int(campaign.files["accepted"].sum())


# --- the weekly dispatch view --------------------------------------------------------

@pytest.fixture
def dispatch_view(shared):
    state = DashboardState()
    return state, WeeklyDispatch(state=state, snapshot=shared.snapshot)


def test_dispatch_shows_the_latest_period_with_counts_on_the_cards(dispatch_view, campaign):
    state, view = dispatch_view
    assert view.period == "2023-12"
    assert view.lists["new"].table.value["hazard_id"].nunique() == len(dispatch.new_hazards(campaign.unique_hazards, "2023-12"))
    for name, card in view._cards.items():
        assert card.value == f"{len(view.shown(name)):,}"
    assert view.lists["new"].table.titles["enterprise"] == "企业（项目）"


def test_dispatch_lists_follow_unit_and_sector_filters(dispatch_view):
    state, view = dispatch_view
    state.units = ["于都县"]
    for name in ("new", "stalled", "findings"):
        assert set(view.lists[name].table.value["unit"]) <= {"于都县"}
    assert len(view.lists["stalled"].table.value) > 0
    state.units = []
    state.sectors = ["fire"]
    assert set(view.lists["new"].table.value["sector"]) <= {"消防"}
    # Findings carry no sector: the sector filter leaves them alone.
    assert len(view.lists["findings"].table.value) == len(view.review.findings.drop_duplicates("finding"))


def test_dispatch_period_and_date_change_the_lists(dispatch_view):
    state, view = dispatch_view
    latest = len(view.lists["new"].table.value)
    view.since = dt.date(2023, 10, 1)
    assert len(view.lists["new"].table.value) > latest
    assert "2023-10-01" in view._scope.object
    view.since = None
    view.period = "2023-06"
    assert set(view.lists["new"].table.value["first_period"]) == {"2023-06"}


def test_missing_list_explains_when_the_deadline_has_not_passed(dispatch_view):
    _state, view = dispatch_view
    assert view.lists["missing"].table.value.empty
    assert "2024-01-23" in view.lists["missing"]._empty.object


def test_clicking_a_hazard_opens_it_on_the_hazards_page_and_a_unit_filters(dispatch_view):
    state, view = dispatch_view
    hazards = view.lists["stalled"]
    view._open(hazards.spec, hazards.table.value.iloc[0])
    assert (state.page, state.hazard) == ("hazards", hazards.table.value["hazard_id"].iloc[0])
    findings = view.lists["findings"]
    row = findings.table.value[findings.table.value["unit"] != ""].iloc[0]
    view._open(findings.spec, row)
    assert state.units == [row["unit"]]


def test_dispatch_in_english(shared):
    view = WeeklyDispatch(state=DashboardState(lang="en"), snapshot=shared.snapshot)
    assert view.lists["new"].table.titles["enterprise"] == "Enterprise (project)"
    assert view._cards["overdue"].label == "Newly overdue"


# --- the data page: upload report and submission history ---------------------------

@pytest.fixture(scope="module")
def store_shared(tmp_path_factory):
    """A real store holding August of the sample; the corrected 南康区 form and the typo-year
    石城县 form are uploaded by the tests."""
    shared = SharedCampaign(tmp_path_factory.mktemp("store"))
    august = sorted((SAMPLE / "2023年08月").glob("*.xlsx"))
    shared.ingest([(f"2023年08月/{p.name}", p.read_bytes()) for p in august if "更正" not in p.name and "2032" not in p.name])
    return shared


def test_upload_job_ingests_reports_replacements_and_changes(store_shared):
    state = DashboardState()
    panel = UploadPanel(state=state, shared=store_shared)
    assert panel.job is UploadJob.for_session(state)
    corrected = (SAMPLE / CORRECTED).read_bytes()
    files = [(CORRECTED, corrected), ("说明.xlsx", "这不是表格".encode())]
    revision = store_shared.snapshot.revision
    asyncio.run(panel.job.run(store_shared, files))
    job = panel.job
    assert store_shared.snapshot.revision == revision + 1
    assert [o.status for o in job.outcomes] == ["accepted", "rejected"]
    report = outcome_rows(job.outcomes, "zh")
    assert report["status"].tolist() == ["已导入", "未通过"]
    assert "不是Excel工作簿" in report["note"].iloc[1]
    assert job.status_text("zh").startswith("导入完成：共 2 个文件")
    issues = issue_rows(job.outcomes, "zh")
    assert (issues.loc[issues["file"] == "说明.xlsx", "severity"] == "错误").all()
    replaced = replacement_rows(job.outcomes, "zh")
    assert replaced[["unit", "period", "newer_file"]].values.tolist() == [["南康区", "2023-08", CORRECTED]]
    changes = change_rows(job.before, job.after, "zh").set_index("figure")
    assert changes.loc["已导入文件", "change"] == "+1"
    # A month outside the campaign is stored but not counted, and the report says so.
    typo = (SAMPLE / "2023年08月" / "石城县2032年8月调度表.xlsx").read_bytes()
    asyncio.run(panel.job.run(store_shared, [("石城县2032年8月调度表.xlsx", typo)]))
    assert "月份2032-08不在专项行动期间" in outcome_rows(job.outcomes, "zh")["note"].iloc[0]
    assert "2032-08" not in store_shared.snapshot.periods
    # The same file again is skipped and names the file it repeats.
    asyncio.run(panel.job.run(store_shared, [("again.xlsx", corrected)]))
    assert outcome_rows(job.outcomes, "zh")["status"].tolist() == ["已导入过，跳过"]
    assert CORRECTED in outcome_rows(job.outcomes, "zh")["note"].iloc[0]


def test_upload_progress_text():
    job = UploadJob()
    job.param.update(running=True, done=2, total=7, current="章贡区台账.xlsx")
    assert job.status_text("zh") == "正在导入 3/7：章贡区台账.xlsx"
    job.current = ""
    assert job.status_text("zh") == "正在重新计算汇总数据…"


def test_submission_history_filters_and_marks_superseded(store_shared):
    # The corrected form is uploaded by the upload test; under xdist this test may run without it.
    store_shared.ingest([(CORRECTED, (SAMPLE / CORRECTED).read_bytes())])  # already stored: skipped
    history = SubmissionHistory(state=DashboardState(), shared=store_shared, snapshot=store_shared.snapshot)
    everything = history.table.value
    assert len(everything) == len(store_shared.store.submission_history())
    history.unit = "南康区"
    shown = history.table.value
    assert set(shown["unit"]) == {"南康区"}
    superseded = shown[shown["state"] == "被替代"]
    assert superseded["superseded_by"].tolist() == [CORRECTED]
    history.period = "2023-07"
    assert history.table.value.empty and history._empty.visible
    assert history.table.titles["state"] == "状态"


def test_read_only_dataset_offers_no_upload(shared):
    panel = UploadPanel(state=DashboardState(), shared=shared)
    assert "只读" in panel.__panel__().object
