"""Tests of the sample-data generator (not of the loaders): determinism, the committed
sample, its size, and the ground truth's own consistency."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from loaders.reference import INDICATORS
from sample_data import writers
from sample_data.generate import MANIFEST_NAME, build_plan, write_plan

COMMITTED = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"
SEED = 2023
MAX_BYTES = 15_000_000


def _as_json(manifest: dict) -> dict:
    """The manifest as it reads back from manifest.json."""
    return json.loads(json.dumps(manifest, ensure_ascii=False, default=str))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("campaign")
    write_plan(build_plan(SEED), out, workers=1, progress=lambda _: None)
    return out


@pytest.fixture(scope="module")
def committed_manifest() -> dict:
    return json.loads((COMMITTED / MANIFEST_NAME).read_text(encoding="utf-8"))


def test_same_seed_gives_same_manifest():
    assert _as_json(build_plan(SEED).manifest) == _as_json(build_plan(SEED).manifest)
    assert build_plan(SEED + 1).manifest["hazards"] != build_plan(SEED).manifest["hazards"]


def test_committed_manifest_is_what_the_generator_writes_now(committed_manifest):
    assert committed_manifest == _as_json(build_plan(SEED).manifest)


def test_committed_files_are_what_the_generator_writes_now(regenerated, committed_manifest):
    committed = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*") if p.is_file())
    assert committed == sorted(p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file())
    kinds = {}  # one file of each kind of sheet content
    for entry in committed_manifest["files"]:
        for sheet in entry.get("sheets", ()):
            kinds.setdefault(sheet["content"], entry["path"])
    assert {"ledger", "form", "wide_form", "registry"} <= set(kinds)
    for path in kinds.values():
        old, new = openpyxl.load_workbook(COMMITTED / path), openpyxl.load_workbook(regenerated / path)
        assert old.sheetnames == new.sheetnames
        for name in old.sheetnames:
            assert list(old[name].values) == list(new[name].values), f"{path}!{name}"
            assert set(map(str, old[name].merged_cells.ranges)) == set(map(str, new[name].merged_cells.ranges))


def test_regenerating_gives_the_same_bytes(regenerated, committed_manifest):
    for entry in committed_manifest["files"][:40]:
        assert (COMMITTED / entry["path"]).read_bytes() == (regenerated / entry["path"]).read_bytes(), entry["path"]


def test_committed_sample_is_small():
    assert sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file()) < MAX_BYTES


def test_cumulative_values_fall_only_where_planted(committed_manifest):
    planted = {(f["unit"], f["indicator"], f["period"])
               for f in committed_manifest["findings"] if f["kind"] == "cumulative_falls"}
    assert planted
    falls = set()
    for unit, by_period in committed_manifest["indicators"].items():
        previous: dict[str, float] = {}
        for period in committed_manifest["periods"]:
            for key, value in by_period.get(period, {}).items():
                if isinstance(value, bool):
                    continue
                if key in previous and value < previous[key]:
                    falls.add((unit, key, period))
                previous[key] = value
    assert falls == planted


def test_every_unit_reports_every_period(committed_manifest):
    for unit, by_period in committed_manifest["indicators"].items():
        assert sorted(by_period) == committed_manifest["periods"], unit


def test_hazard_totals_add_up(committed_manifest):
    hazards = committed_manifest["hazards"]
    assert len(hazards["items"]) == hazards["unique"] == sum(hazards["by_unit"].values())
    assert sum(hazards["by_status"].values()) == sum(hazards["by_sector"].values()) == hazards["unique"]


def test_bad_files_are_recorded_and_bad(committed_manifest):
    bad = committed_manifest["bad_files"]
    assert len(bad) >= 2
    for entry in bad:
        path = COMMITTED / entry["file"]
        assert path.exists()
        if "text file" in entry["problem"]:
            assert not zipfile.is_zipfile(path)


@pytest.mark.parametrize("form", (3, 4))
def test_form_layout_holds_every_indicator_of_the_form(form):
    keys = []
    for item in writers.form_items(form):
        keys.extend(writers.pair_keys(item) or (item,))
    assert sorted(keys) == sorted(i.key for i in INDICATORS if form in i.forms)
    assert len(keys) == len(set(keys))


def test_written_form_cells_hold_the_given_values(tmp_path):
    workbook = openpyxl.Workbook()
    values = {"enterprises": "１２", "penalties": 12, "fines_wan": 35.6, "self_found": "12家"}
    cells = writers.write_form(workbook.active, values, form=3, unit_label="章贡", pair_style="one_cell_units")
    path = tmp_path / "form.xlsx"
    writers.save_workbook(workbook, path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet[cells["enterprises"]].value == "１２"
    assert sheet[cells["self_found"]].value == "12家"
    assert sheet[cells["penalties"]].value == "12次 35.6万元" == sheet[cells["fines_wan"]].value


# --- the contract's cases planted in the sample (their truth must agree with the rest of the manifest)


def _case_files(cases: dict) -> set[str]:
    files = set()
    for value in cases.values():
        for entry in value if isinstance(value, list) else [value]:
            files.update(entry[k] for k in ("file", "original", "correction", "ledger", "supplement") if k in entry)
    return files


def test_every_case_names_committed_files(committed_manifest):
    cases = committed_manifest["cases"]
    paths = {f["path"] for f in committed_manifest["files"]}
    named = _case_files(cases) | set(committed_manifest["registry"]["files"])
    assert len(named) >= 12
    assert named <= paths
    assert all((COMMITTED / path).is_file() for path in named)


def test_case_hazards_agree_with_the_hazard_list(committed_manifest):
    cases = committed_manifest["cases"]
    items = {(h["unit"], h["enterprise"], h["description"]): h for h in committed_manifest["hazards"]["items"]}
    as_of = committed_manifest["hazards"]["overdue"]["as_of"]
    for case in cases["next_year_deadlines"] + cases["deadline_spellings"]:
        item = items[(case["unit"], case["enterprise"], case["description"])]
        assert (item["deadline"], item["deadline_raw"], item["status"]) == (
            case["deadline"], case["deadline_raw"], case["status"])
        assert case["overdue"] == (case["deadline"] < as_of and case["status"] != "rectified")
    assert {c["deadline_raw"] for c in cases["next_year_deadlines"]} >= {"2月底前", "1月15日前"}
    assert {c["style"] for c in cases["deadline_spellings"]} == {
        "serial_text", "dash_before", "dotted_md", "chinese_md", "xun"}
    reworded = cases["reworded"]
    matches = [h for h in committed_manifest["hazards"]["items"]
               if (h["unit"], h["enterprise"]) == (reworded["unit"], reworded["enterprise"])]
    assert len(matches) == 1
    assert (matches[0]["description"], matches[0]["first_description"]) == (reworded["after"], reworded["before"])
    added = cases["supplement_ledger"]["added"]
    assert added and all((cases["supplement_ledger"]["unit"], a["enterprise"], a["description"]) in items for a in added)


def test_year_less_deadlines_read_the_same_in_every_listing(committed_manifest):
    """A spelling without a year ("8月底前", "8.30", "9月中旬") is written only where the contract's
    year rule gives the intended date in every ledger that lists the hazard."""
    periods = committed_manifest["periods"]
    year_less = re.compile(r"^\d{1,2}(\.\d{1,2}|月)")
    checked = 0
    for item in committed_manifest["hazards"]["items"]:
        raw = item["deadline_raw"]
        if not isinstance(raw, str) or not year_less.match(raw):
            continue
        deadline = dt.date.fromisoformat(item["deadline"])
        listed = periods[periods.index(item["first_period"]):periods.index(item["last_period"]) + 1]
        for period in listed:
            year, month = map(int, period.split("-"))
            # The contract's words: the report's year, unless more than two months before the
            # report period; the generator keeps a month's margin on each side of that boundary.
            assert (deadline.year == year and month - deadline.month <= 1) or (
                deadline.year == year + 1 and month - deadline.month >= 3), (raw, period, item["deadline"])
        checked += 1
    assert checked >= 10


def test_gap_and_typo_year_leave_the_indicators_as_recorded(committed_manifest):
    gap = committed_manifest["cases"]["gap"]
    by_period = committed_manifest["indicators"][gap["unit"]]
    assert gap["key"] not in by_period[gap["period"]]
    assert gap["key"] in by_period[gap["next_period"]]
    for held in committed_manifest["cases"]["held_aside"]:
        assert held["period_read"] not in committed_manifest["periods"]
        assert held["period_read"] not in committed_manifest["indicators"][held["unit"]]


def test_grouped_ledger_layout(tmp_path):
    workbook = openpyxl.Workbook()
    rows = [{"unit": "章贡区", "enterprise": f"企业{i}", "sector": sector, "description": f"隐患{i}",
             "deadline": "2023.8.30", "progress": "整改中"}
            for i, sector in enumerate(("消防安全", "消防安全", "城镇燃气"))]
    written = writers.write_ledger(workbook.active, rows, header_rows=2, grouped="numbered")
    path = tmp_path / "grouped.xlsx"
    writers.save_workbook(workbook, path)
    sheet = openpyxl.load_workbook(path).active
    values = list(sheet.values)
    header = values[2]
    assert "所属行业领域" not in header and "重大隐患描述" in header
    assert [sheet.cell(r, 1).value for r in written] == [1, 2, 1]  # 序号 restarts
    assert sheet.cell(written[0] - 1, 1).value == "一、消防安全（2条）"
    assert sheet.cell(written[2] - 1, 1).value == "二、城镇燃气（1条）"
    assert f"A{written[0] - 1}:H{written[0] - 1}" in {str(r) for r in sheet.merged_cells.ranges}
    other = openpyxl.Workbook()
    writers.write_ledger(other.active, rows, grouped="bracketed", title=None, filler_line=False)
    assert [row[0] for row in other.active.iter_rows(values_only=True)][1:] == ["（一）消防安全", 1, 2, "（二）城镇燃气", 1]
