"""The faster paths of issue 11 give what the plain ones give.

The parsers hand their records over as rows (``RecordRows``), packed by column when a worker
process sends them back; the merge stacks the rows of all submissions in one frame. Each path
must build the very frames the per-submission DataFrames and their concatenation built.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import pandas as pd
import pytest

from loaders import build_campaign, find_workbooks, load_paths, load_workbook
from loaders.campaign import _stack
from loaders.model import RecordRows, Submission

CAMPAIGN = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"
AS_OF = dt.date(2023, 12, 31)
FRAMES = ("hazards", "unique_hazards", "indicators", "registry", "submissions", "files")


@pytest.fixture(scope="module")
def in_process():
    return load_paths([CAMPAIGN], AS_OF, workers=1)


def test_worker_processes_and_one_process_give_the_same_campaign(in_process):
    in_workers = load_paths([CAMPAIGN], AS_OF, workers=2)
    assert json.dumps(in_workers.summary(), ensure_ascii=False) == json.dumps(in_process.summary(), ensure_ascii=False)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(in_workers, name), getattr(in_process, name), check_exact=True)
    assert in_workers.issues == in_process.issues


def _with_frames(results):
    """The same results with every submission's records as a DataFrame (as the store decodes them)."""
    results = pickle.loads(pickle.dumps(results))
    for result in results:
        for sub in result.submissions:
            sub.records = sub.records.copy()
    return results


def test_records_as_frames_build_the_same_campaign(in_process):
    files, _ = find_workbooks([CAMPAIGN])
    results = [load_workbook(path.read_bytes(), str(path.relative_to(CAMPAIGN))) for path in files]
    assert any(sub.record_rows is not None for result in results for sub in result.submissions)
    framed = build_campaign(_with_frames(results), AS_OF)
    rows = build_campaign(results, AS_OF)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(rows, name), getattr(framed, name), check_exact=True)
        pd.testing.assert_frame_equal(getattr(rows, name), getattr(in_process, name), check_exact=True)
    assert rows.issues == framed.issues == in_process.issues


def _ledger(unit: str, rows: list[tuple], packed: bool) -> Submission:
    records = RecordRows(("unit", "enterprise", "sector", "deadline", "source_row"), rows)
    if packed:
        records.pack()
    return Submission("ledger", unit, unit, "county", "2023-08", f"{unit}.xlsx", "台账", records, layout="table")


@pytest.mark.parametrize("packed", [False, True])
def test_a_column_empty_in_one_submission_stacks_as_the_frames_concatenate(packed):
    # 会昌县's sector column is all None: its own frame types it object, and so does the concatenation.
    subs = [
        _ledger("瑞金市", [("瑞金市", "甲公司", "消防", dt.date(2023, 9, 30), 5), ("瑞金市", "乙公司", None, None, 6)], packed),
        _ledger("会昌县", [("会昌县", "丙公司", None, dt.date(2023, 8, 31), 5)], packed),
    ]
    expected = pd.concat([pd.DataFrame(sub.record_rows.rows, columns=list(sub.record_rows.columns)) for sub in subs],
                         ignore_index=True)
    stacked = _stack(subs, ("ledger",), frozenset({"unit"}), ("period",), [])
    pd.testing.assert_frame_equal(stacked.drop(columns="period"), expected, check_exact=True)
    assert stacked["sector"].dtype == object


@pytest.mark.parametrize("packed", [False, True])
def test_stacked_rows_type_each_column_as_one_frame_would(packed):
    subs = [
        _ledger("瑞金市", [("瑞金市", "甲公司", "消防", dt.date(2023, 9, 30), 5), ("瑞金市", "乙公司", None, None, 6)], packed),
        _ledger("会昌县", [("会昌县", "丙公司", "矿山", None, 5)], packed),
    ]
    expected = pd.concat([pd.DataFrame(sub.record_rows.rows, columns=list(sub.record_rows.columns)) for sub in subs],
                         ignore_index=True)
    stacked = _stack(subs, ("ledger",), frozenset({"unit"}), ("period",), [])
    pd.testing.assert_frame_equal(stacked.drop(columns="period"), expected, check_exact=True)
    assert str(stacked["sector"].dtype) == "str" and stacked["sector"].isna().tolist() == [False, True, False]
    assert stacked["period"].tolist() == ["2023-08"] * 3


def test_packed_records_read_back_unchanged():
    rows = [("瑞金市", "甲公司", "消防", dt.date(2023, 9, 30), 5), ("瑞金市", "乙公司", None, None, 6)]
    sub = _ledger("瑞金市", list(rows), packed=True)
    sub = pickle.loads(pickle.dumps(sub))
    assert sub.record_rows.rows == rows and sub.record_count == 2
    pd.testing.assert_frame_equal(sub.records, pd.DataFrame(rows, columns=["unit", "enterprise", "sector", "deadline", "source_row"]))
    assert sub.record_rows is None  # the frame, once built, is what the submission keeps
