"""Roles enforced in the data layer every view, export and upload goes through (issue 10, "Roles").

A county officer (会昌县) and a viewer act on a store holding 会昌县's and 章贡区's August
workbooks, through the session dataset (``SharedCampaign.for_access``) the server gives each
session: the same objects the pages, the export dialog and the upload panel call. Values are set
the way a websocket message sets them (parameters changed directly), not through widgets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from auth.access import Access, AccessDenied
from components.data import SharedCampaign
from metrics.filters import HazardFilter, filter_hazards
from store.annotations import get_annotation, hazard_subject, unit_subject
from store.audit import entries

AUGUST = Path(__file__).resolve().parents[1] / "sample_data" / "campaign" / "2023年08月"
OWN, OTHER = "会昌县", "章贡区"
FILES = {OWN: ("会昌县8月台账.xlsx", "会昌县8月调度表.xlsx"), OTHER: ("章贡区_2023年8月_台账.xlsx", "章贡区_2023年8月_调度表.xlsx")}
COUNTY = Access(user="hc01", role="unit", unit=OWN, display_name="会昌张三", origin="10.0.0.7")
VIEWER = Access(user="screen", role="viewer", display_name="大屏", origin="10.0.0.9")
COMMITTEE = Access(user="awh", role="committee", display_name="安委办李四", origin="10.0.0.2")


def _run(coroutine):
    """Run a coroutine to its end in a thread of its own (whatever loop this thread may have running)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _upload(shared: SharedCampaign, names: tuple[str, ...]) -> list:
    return shared.ingest([(name, (AUGUST / name).read_bytes()) for name in names])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SharedCampaign:
    shared = SharedCampaign(tmp_path_factory.mktemp("store"), as_of=dt.date(2023, 9, 23))
    committee = shared.for_access(COMMITTEE)
    outcomes = _upload(committee, FILES[OWN] + FILES[OTHER])
    assert [o.status for o in outcomes] == ["accepted"] * 4
    return shared


def _enterprises(snapshot, unit: str) -> set[str]:
    hazards = snapshot.campaign.unique_hazards
    return set(hazards.loc[hazards["unit"] == unit, "enterprise"])


def test_a_county_officer_reads_only_their_units_hazards_but_every_units_figures(base):
    full = base.snapshot
    county = base.for_access(COUNTY).snapshot
    other_enterprises = _enterprises(full, OTHER)
    assert other_enterprises and _enterprises(full, OWN)
    assert set(county.campaign.unique_hazards["unit"]) == {OWN}
    assert set(county.campaign.hazards["unit"]) == {OWN}
    assert set(county.campaign.registry["unit"]) <= {OWN}
    assert set(county.campaign.submissions["unit"]) == {OWN}
    assert {issue.file for issue in county.campaign.issues} <= set(FILES[OWN])
    assert set(county.campaign.files["file"]) == set(FILES[OWN])
    # No other unit's enterprise anywhere a view reads text from.
    assert not other_enterprises & set(county.search_text.index.map(str))
    assert not any(name in " ".join(county.search_text) for name in other_enterprises)
    # The city-wide dispatch figures (rankings, quotas, the map) stay whole.
    assert set(county.campaign.indicators["unit"]) == {OWN, OTHER}
    assert county.units == [OWN] and county.periods == full.periods and county.as_of == full.as_of
    # A filter naming the other unit, as a websocket message would set it, finds nothing.
    assert filter_hazards(county.campaign.unique_hazards, HazardFilter(units=(OTHER,))).empty
    # Built once per revision and unit: every session of the unit shares it.
    assert base.for_access(COUNTY).snapshot is county
    assert base.for_access(VIEWER).snapshot is full and base.for_access(COMMITTEE).snapshot is full


def test_an_upload_for_another_unit_is_refused_by_name_and_not_stored(base, tmp_path):
    county = base.for_access(COUNTY)
    files_before = len(base.store.files_frame())
    other_ledger = FILES[OTHER][0]
    # The same bytes with a name claiming the officer's own unit: the content decides.
    # Content stored before is refused too (not "already imported": that would hand back its findings).
    renamed = [(f"{OWN}8月台账（更正）.xlsx", (AUGUST / other_ledger).read_bytes())]
    outcomes = county.ingest(renamed)
    assert [o.status for o in outcomes] == ["refused"]
    assert OTHER in outcomes[0].issues[0].message and OWN in outcomes[0].issues[0].message
    assert outcomes[0].stored_as == "" and len(outcomes[0].issues) == 1
    assert len(base.store.files_frame()) == files_before
    log = entries(base.store, actor=COUNTY.user, action="upload")
    assert len(log) == 1 and log.iloc[0]["outcome"] == "refused" and log.iloc[0]["origin"] == COUNTY.origin


def test_a_changed_other_units_file_is_refused_while_the_own_units_file_goes_in(base):
    from openpyxl import load_workbook
    import io

    def changed(name: str) -> bytes:
        book = load_workbook(AUGUST / name)
        sheet = book.worksheets[0]
        sheet.cell(row=sheet.max_row + 1, column=1, value="备注：重新报送")
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    county = base.for_access(COUNTY)
    files_before = set(base.store.files_frame()["file_name"])
    outcomes = county.ingest([("章贡区8月台账（重报）.xlsx", changed(FILES[OTHER][0])),
                              ("会昌县8月台账（重报）.xlsx", changed(FILES[OWN][0]))])
    assert [o.status for o in outcomes] == ["refused", "accepted"]
    refusal = outcomes[0].issues[0].message
    assert "章贡区8月台账（重报）.xlsx" in refusal and OTHER in refusal and OWN in refusal
    stored = set(base.store.files_frame()["file_name"]) - files_before
    assert stored == {"会昌县8月台账（重报）.xlsx"}
    log = entries(base.store, actor=COUNTY.user, action="upload")
    by_file = dict(zip(log["target"], log["outcome"]))
    assert by_file["章贡区8月台账（重报）.xlsx"] == "refused" and by_file["会昌县8月台账（重报）.xlsx"] == "ok"


def test_a_viewer_cannot_upload_annotate_or_export_and_each_refusal_is_logged(base):
    from components.annotation_panel import book_for

    viewer = base.for_access(VIEWER)
    files_before = len(base.store.files_frame())
    with pytest.raises(AccessDenied):
        _upload(viewer, FILES[OWN][:1])
    assert len(base.store.files_frame()) == files_before
    book = book_for(viewer)
    with pytest.raises(AccessDenied):
        book.add(unit_subject(OWN), "大屏上加的批注", "大屏")
    with pytest.raises(AccessDenied):
        viewer.check_export(None, "简报 2023-08 全市")
    denied = entries(base.store, actor=VIEWER.user, action="denied")
    assert len(denied) == 3 and set(denied["outcome"]) == {"refused"}


def test_annotations_of_another_unit_can_be_neither_read_nor_written(base):
    from components.annotation_panel import book_for

    committee_book = book_for(base.for_access(COMMITTEE))
    full = base.snapshot
    other_hazard = full.campaign.unique_hazards.query("unit == @OTHER")["hazard_id"].iloc[0]
    own_hazard = full.campaign.unique_hazards.query("unit == @OWN")["hazard_id"].iloc[0]
    theirs = committee_book.add(hazard_subject(other_hazard), "章贡区：请核实整改资金", "李四")
    mine = committee_book.add(unit_subject(OWN), "会昌县：本月调度表迟报", "李四")
    assert theirs["author"] == COMMITTEE.name  # signed in: the account's name, not the one typed

    county_session = base.for_access(COUNTY)
    book = book_for(county_session)
    seen = book.frame(county_session.snapshot)
    assert mine["id"] in set(seen["id"]) and theirs["id"] not in set(seen["id"])
    with pytest.raises(AccessDenied):
        book.edit(theirs["id"], theirs["version"], "张三", text="改掉")
    with pytest.raises(AccessDenied):
        book.add(hazard_subject(other_hazard), "越权批注", "张三")
    with pytest.raises(AccessDenied):
        book.add(unit_subject(OTHER), "越权批注", "张三")
    with pytest.raises(AccessDenied):
        book.history(theirs["id"])
    assert get_annotation(base.store, theirs["id"])["text"] == "章贡区：请核实整改资金"
    # Their own subjects: yes, signed with their account's name whatever they typed.
    added = book.add(hazard_subject(own_hazard), "已现场核查", "随便写的名字")
    assert added["author"] == COUNTY.name
    edited = book.edit(mine["id"], mine["version"], "张三", status="resolved")
    assert edited["status"] == "resolved" and edited["updated_by"] == COUNTY.name
    log = entries(base.store, actor=COUNTY.user)
    assert {"annotation_add", "annotation_resolve", "denied"} <= set(log["action"])
    assert (log["action"] == "denied").sum() == 4


def test_the_export_dialog_builds_only_the_officers_own_unit(base):
    from components.export_dialog import ExportDialog
    from components.state import DashboardState

    dialog = ExportDialog(state=DashboardState(), shared=base.for_access(COUNTY))
    assert dialog.scope == OWN
    dialog.parts = ["xlsx"]
    dialog.scope = OTHER  # as a websocket message would set it
    assert _run(dialog.build()) is None
    assert dialog.phase == "failed" and OWN in dialog.error
    dialog.scope = ""  # 全市
    assert _run(dialog.build()) is None and dialog.phase == "failed"
    dialog.scope = OWN
    built = _run(dialog.build())
    assert built is not None and OWN in built.filename
    exports = entries(base.store, actor=COUNTY.user, action="export")
    assert list(exports["target"]) == [built.filename]


def test_the_map_shows_other_units_hazard_figures_as_unknown_not_zero(base):
    from components.county_map import format_figure
    from metrics.map import unit_figures

    county = base.for_access(COUNTY).snapshot
    figures = unit_figures(county.campaign.unique_hazards, pd.Series(dtype=float), [OWN, OTHER], scope_unit=OWN)
    assert figures.loc[OWN, "hazards"] == (base.snapshot.campaign.unique_hazards["unit"] == OWN).sum() > 0
    assert pd.isna(figures.loc[OTHER, "hazards"]) and format_figure(figures.loc[OTHER, "overdue"]) == "—"


def test_restricted_snapshots_share_the_whole_datasets_hazard_lookup(base):
    county = base.for_access(COUNTY).snapshot
    other = base.for_access(Access(user="zg01", role="unit", unit=OTHER)).snapshot
    assert county.hazard_units is other.hazard_units and len(county.hazard_units) == len(base.snapshot.campaign.unique_hazards)
