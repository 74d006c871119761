"""Tests of the sample-data generator (not of the loaders): determinism, the committed
sample, its size, and the ground truth's own consistency."""

from __future__ import annotations

import json
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
