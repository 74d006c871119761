"""The loaders on the whole sample campaign, checked against the generator's ground truth.

The generator records what it wrote (manifest.json): the true unique hazards, statuses,
cumulative figures, planted data-quality findings and bad files. The loaders never see
the manifest; here their output must reproduce it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from loaders import load_paths

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
