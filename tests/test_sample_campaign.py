"""The loaders on the whole sample campaign, checked against the generator's ground truth.

The generator records what it wrote (manifest.json): the true unique hazards, statuses,
cumulative figures, planted data-quality findings and bad files. The loaders never see
the manifest; here their output must reproduce it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from loaders import hazard_id, load_paths

CAMPAIGN = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"
MANIFEST = json.loads((CAMPAIGN / "manifest.json").read_text(encoding="utf-8"))

FINDING_CODES = {
    "missing_deadline": "missing_deadline",
    "missing_sector": "missing_sector",
    "cumulative_falls": "cumulative_decrease",
    "rectified_exceeds_found": "part_exceeds_whole",
    "ledger_form_mismatch": "ledger_form_mismatch",
    "duplicate_submission": "duplicate_submission",
}


@pytest.fixture(scope="module")
def campaign():
    as_of = dt.date.fromisoformat(MANIFEST["hazards"]["overdue"]["as_of"])
    return load_paths([CAMPAIGN], as_of=as_of)


@pytest.fixture(scope="module")
def summary(campaign):
    return campaign.summary()


CASES = MANIFEST["cases"]


def _unique_row(campaign, unit: str, enterprise: str, description: str):
    unique = campaign.unique_hazards
    rows = unique[(unique["unit"] == unit) & (unique["enterprise"] == enterprise)
                  & (unique["description"] == description)]
    assert len(rows) == 1, (unit, enterprise, description, len(rows))
    return rows.iloc[0]


def _form_file(unit: str, period: str) -> str:
    """The file holding the unit's (only, not corrected) form for the period, from the manifest."""
    paths = [f["path"] for f in MANIFEST["files"]
             if any(s["content"] == "form" and s.get("units") == [unit] and s.get("period") == period
                    for s in f.get("sheets", ()))]
    assert len(paths) == 1, paths
    return paths[0]


def test_every_file_accounted_for(campaign, summary):
    truth_files = {f["path"] for f in MANIFEST["files"]}
    assert set(campaign.files["file"]) == truth_files
    bad = {f["path"] for f in MANIFEST["files"] if "problem" in f}
    assert summary["files"] == {"accepted": len(truth_files) - len(bad), "rejected": len(bad)}
    rejected = set(campaign.files.loc[~campaign.files["accepted"], "file"])
    assert rejected == bad


def test_bad_files_get_chinese_messages_naming_the_file(campaign):
    bad = {f["path"] for f in MANIFEST["files"] if "problem" in f}
    for path in bad:
        errors = [i for i in campaign.issues if i.file == path and i.severity == "error"]
        assert errors, path
        assert all("文件未导入" in i.message for i in errors[:1])


def test_unique_hazards_match_the_truth(summary):
    truth, got = MANIFEST["hazards"], summary["hazards"]
    assert got["unique"] == truth["unique"]
    assert got["by_unit"] == truth["by_unit"]
    assert got["by_status"] == truth["by_status"]
    assert got["by_sector"] == truth["by_sector"]
    assert got["supervised"] == truth["supervised"]
    assert got["overdue"] == truth["overdue"]["count"]


def test_every_cumulative_value_matches_and_nothing_is_invented(summary):
    assert summary["indicators"] == MANIFEST["indicators"]


def test_every_planted_finding_is_reported(campaign):
    for finding in MANIFEST["findings"]:
        code = FINDING_CODES.get(finding["kind"])
        if code is None:
            continue  # e.g. an unknown sector is data, kept as "other" with its raw text
        hits = [i for i in campaign.issues if i.code == code and finding["unit"] in i.message]
        assert hits, finding


def test_unknown_sector_keeps_its_raw_text(campaign):
    for finding in (f for f in MANIFEST["findings"] if f["kind"] == "unknown_sector"):
        unique = campaign.unique_hazards
        rows = unique[(unique["enterprise"] == finding["enterprise"]) & (unique["description"] == finding["description"])]
        assert list(rows["sector"]) == ["other"] and list(rows["sector_raw"]) == [finding["raw"]]


def test_correction_file_supersedes_the_original(campaign):
    duplicate = next(f for f in MANIFEST["findings"] if f["kind"] == "duplicate_submission")
    forms = campaign.submissions[(campaign.submissions["unit"] == duplicate["unit"])
                                 & (campaign.submissions["period"] == duplicate["period"])
                                 & campaign.submissions["kind"].str.endswith("form")]
    active = forms[forms["active"]]
    assert list(active["source_file"]) == [duplicate["authoritative"]]
    assert len(forms) == 2  # the original stays in history


def test_no_unexpected_errors(campaign):
    """Apart from the deliberately bad files, the sample loads without errors."""
    bad = {f["path"] for f in MANIFEST["files"] if "problem" in f}
    unexpected = [i for i in campaign.issues if i.severity == "error" and i.file not in bad]
    assert unexpected == []


# --- the cases of the contract's "Periods, resends and corrections", deadlines, boards and layouts


def test_manifest_records_every_case():
    assert {"undated_correction", "supplement_ledger", "next_year_deadlines", "reworded", "gap",
            "grouped_ledgers", "deadline_spellings", "form_notes", "dated_file_names", "held_aside"} <= set(CASES)
    assert len(MANIFEST["registry"]["boards"]["章贡区"]["files"]) == 2


def test_undated_correction_wins_over_its_dated_original(campaign, summary):
    case = CASES["undated_correction"]
    unit, period = case["unit"], case["period"]
    for key, value in case["values"].items():
        assert summary["indicators"][unit][period][key] == value, key
    assert case["values"] != case["original_values"]
    forms = campaign.submissions[(campaign.submissions["unit"] == unit) & (campaign.submissions["period"] == period)
                                 & (campaign.submissions["kind"] == case["kind"])]
    assert set(forms["source_file"]) == {case["original"], case["correction"]}
    assert list(forms.loc[forms["active"], "source_file"]) == [case["correction"]]
    hits = [i for i in campaign.issues if i.code == "duplicate_submission" and case["correction"] in i.message]
    assert hits, "the replacement is reported"


def test_supplement_ledger_adds_its_hazard(campaign, summary):
    case = CASES["supplement_ledger"]
    unit, period = case["unit"], case["period"]
    in_period = campaign.hazards[(campaign.hazards["unit"] == unit) & (campaign.hazards["period"] == period)]
    assert len(in_period) == case["hazards_in_period"] == case["ledger_rows"] + case["supplement_rows"]
    assert set(in_period["source_file"]) == {case["ledger"], case["supplement"]}
    for added in case["added"]:
        row = _unique_row(campaign, unit, added["enterprise"], added["description"])
        assert row["status"] == added["status"]
    ledgers = campaign.submissions[(campaign.submissions["unit"] == unit) & (campaign.submissions["period"] == period)
                                   & (campaign.submissions["kind"] == "ledger")]
    assert ledgers["active"].all() and len(ledgers) == 2
    assert summary["hazards"]["by_unit"][unit] == MANIFEST["hazards"]["by_unit"][unit]


@pytest.mark.parametrize("case_name", ["next_year_deadlines", "deadline_spellings"])
def test_deadlines_read_as_the_contract_says(campaign, case_name):
    assert CASES[case_name]
    for case in CASES[case_name]:
        row = _unique_row(campaign, case["unit"], case["enterprise"], case["description"])
        assert row["deadline"] == pd.Timestamp(case["deadline"]), case
        assert str(row["deadline_raw"]) == str(case["deadline_raw"]), case
        assert bool(row["overdue"]) == case["overdue"], case
        assert row["status"] == case["status"], case


def test_next_year_deadlines_are_not_a_year_overdue(campaign):
    later = [c for c in CASES["next_year_deadlines"] if c["deadline"] > MANIFEST["hazards"]["overdue"]["as_of"]]
    assert later
    for case in later:
        row = _unique_row(campaign, case["unit"], case["enterprise"], case["description"])
        assert not row["overdue"] and row["days_to_deadline"] > 0


def test_reworded_hazard_is_one_hazard_with_its_new_text(campaign):
    case = CASES["reworded"]
    unique = campaign.unique_hazards
    rows = unique[(unique["unit"] == case["unit"]) & (unique["enterprise"] == case["enterprise"])]
    assert len(rows) == case["unique_hazards"] == 1
    row = rows.iloc[0]
    assert row["description"] == case["after"]
    assert row["hazard_id"] == hazard_id(case["unit"], case["enterprise"], case["before"])
    assert row["status"] == case["status"] and bool(row["overdue"]) == case["overdue"]
    assert row["deadline"] == pd.Timestamp(case["deadline"])
    notes = [i for i in campaign.issues if case["before"] in i.message and case["after"] in i.message]
    assert notes and all(i.severity == "info" for i in notes)


def test_every_notice_board_counts(campaign):
    truth = MANIFEST["registry"]
    registry = campaign.registry
    assert sorted(set(registry["enterprise"])) == truth["names"]
    assert len(registry) == truth["enterprises"]
    boards = truth["boards"]["章贡区"]
    own = registry[registry["unit"] == "章贡区"]
    assert sorted(own["enterprise"]) == boards["enterprises"]
    assert set(own["source_file"]) == set(boards["files"])
    assert dict(zip(own["enterprise"], own["leader"])) == boards["leaders"]
    replaced = own[own["enterprise"] == boards["replaced"]["enterprise"]].iloc[0]
    assert replaced["leader"] == boards["replaced"]["leader"] != boards["replaced"]["earlier_leader"]
    assert replaced["source_file"] == boards["replaced"]["file"]


def test_gap_is_missing_and_named(campaign, summary):
    from metrics.overview import quarter_progress

    case = CASES["gap"]
    unit, key = case["unit"], case["key"]
    assert key not in summary["indicators"][unit][case["period"]]
    assert key not in MANIFEST["indicators"][unit][case["period"]]
    indicators = campaign.indicators
    after = indicators[(indicators["unit"] == unit) & (indicators["key"] == key)
                       & (indicators["period"] == case["next_period"])]
    assert len(after) == 1 and case["period"] in after.iloc[0]["gap_periods"]
    quarter = quarter_progress(indicators, case["quarter"]).set_index("unit").loc[unit]
    assert bool(quarter["provisional"])
    assert quarter["missing_periods"].split(",") == case["quarter_missing_periods"]


def test_grouped_ledgers_read_their_sectors_from_the_headings(campaign):
    items = {(h["unit"], h["enterprise"], h["description"]): h for h in MANIFEST["hazards"]["items"]}
    for case in CASES["grouped_ledgers"]:
        rows = campaign.hazards[(campaign.hazards["source_file"] == case["file"])
                                & (campaign.hazards["source_sheet"] == case["sheet"])]
        assert len(rows) == case["rows"], case["file"]
        assert set(rows["period"]) == {case["period"]}
        for row in rows.itertuples():
            truth = items[(row.unit, row.enterprise, row.description)]
            assert row.sector == truth["sector"], row.description
        assert not rows["description"].str.contains("条）").any()
        assert len(case["headings"]) > 1


def test_numbers_with_a_bracketed_note_keep_the_leading_number(campaign, summary):
    for case in CASES["form_notes"]:
        assert summary["indicators"][case["unit"]][case["period"]][case["key"]] == case["value"]
        file = _form_file(case["unit"], case["period"])
        notes = [i for i in campaign.issues if i.file == file and i.severity == "info" and i.cell
                 and case["raw"] in i.message]
        assert notes, case


def test_a_full_date_in_a_file_name_is_a_filing_date(campaign, summary):
    for case in CASES["dated_file_names"]:
        subs = campaign.submissions[campaign.submissions["source_file"] == case["file"]]
        assert list(subs["period"]) == [case["period"]] and subs["active"].all(), case
        assert summary["indicators"][case["unit"]][case["period"]] == MANIFEST["indicators"][case["unit"]][case["period"]]


def test_typo_year_file_is_held_aside_and_changes_nothing(campaign, summary):
    from components.data import default_as_of

    periods = set(MANIFEST["periods"])
    for case in CASES["held_aside"]:
        subs = campaign.submissions[campaign.submissions["source_file"] == case["file"]]
        assert len(subs) == 1 and not subs["active"].any()
        assert list(subs["period"]) == [case["period_read"]]
        assert [i for i in campaign.issues if i.file == case["file"]], "the file gets a finding"
    assert {p for by_period in summary["indicators"].values() for p in by_period} <= periods
    assert set(campaign.hazards["period"]) <= periods
    assert default_as_of(campaign, today=dt.date(2030, 1, 1)) == dt.date.fromisoformat(
        MANIFEST["hazards"]["overdue"]["as_of"])
