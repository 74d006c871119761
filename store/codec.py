"""WorkbookResult ⇄ plain JSON-able dicts, so a parsed file can be stored and read back unchanged.

The loaders produce pandas frames holding Python scalars of several types (str, int, float,
bool, datetime.date, None). JSON alone would blur them (a date becomes a string, 12.0 becomes
12), so values that JSON cannot carry exactly are tagged, and each frame keeps its column
dtypes. A decoded result builds the same campaign as the original one.

Frames are stored column by column (format 2): a column of JSON-native values, of dates or of a
float dtype is decoded as a whole, and only a column mixing other kinds is tagged value by
value. Format 1 stored a frame row by row with every value decoded on its own (reading back a
province store's 1,604 results took 9.75 s, ~5 s now); it is still read, so a store written
before needs no re-read.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from loaders import Issue, Submission, WorkbookResult

# Bump when the layout of the dicts below changes; stored results of another format are re-read
# (except those of the older formats this module still decodes).
CODEC_FORMAT = 2
READABLE_OLDER_FORMATS = (1,)

_DATE_TAG = "$date"
_DATETIME_TAG = "$datetime"
_FLOAT_TAG = "$float"  # NaN and infinities, which JSON has no literal for


def result_to_dict(result: WorkbookResult) -> dict[str, Any]:
    return {
        "format": CODEC_FORMAT,
        "file": result.file,
        "sha256": result.sha256,
        "sheets_read": result.sheets_read,
        "submissions": [submission_to_dict(sub) for sub in result.submissions],
        "issues": [vars(issue).copy() for issue in result.issues],
    }


def result_from_dict(data: dict[str, Any]) -> WorkbookResult:
    return WorkbookResult(
        file=data["file"],
        sha256=data["sha256"],
        submissions=[submission_from_dict(sub) for sub in data["submissions"]],
        issues=[Issue(**issue) for issue in data["issues"]],
        sheets_read=data["sheets_read"],
    )


def submission_to_dict(sub: Submission) -> dict[str, Any]:
    return {
        "kind": sub.kind,
        "unit": sub.unit,
        "unit_raw": sub.unit_raw,
        "unit_type": sub.unit_type,
        "period": sub.period,
        "source_file": sub.source_file,
        "source_sheet": sub.source_sheet,
        "layout": sub.layout,
        "reported_on": sub.reported_on.isoformat() if sub.reported_on else None,
        "file_sha256": sub.file_sha256,
        "correction": sub.correction,
        "supplement": sub.supplement,
        "records": frame_to_dict(sub.records),
    }


def submission_from_dict(data: dict[str, Any]) -> Submission:
    reported_on = data["reported_on"]
    return Submission(
        kind=data["kind"],
        unit=data["unit"],
        unit_raw=data["unit_raw"],
        unit_type=data["unit_type"],
        period=data["period"],
        source_file=data["source_file"],
        source_sheet=data["source_sheet"],
        records=frame_from_dict(data["records"]),
        layout=data["layout"],
        reported_on=dt.date.fromisoformat(reported_on) if reported_on else None,
        file_sha256=data["file_sha256"],
        # Absent from results stored before the resend rules (re-read on the parser-version bump).
        correction=data.get("correction", False),
        supplement=data.get("supplement", False),
    )


def frame_to_dict(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "length": len(frame),
        "data": [_encode_column(frame.iloc[:, position]) for position in range(frame.shape[1])],
    }


def frame_from_dict(data: dict[str, Any]) -> pd.DataFrame:
    if "rows" in data:  # format 1
        return _frame_from_rows(data)
    columns, dtypes = data["columns"], data["dtypes"]
    # The stored dtype names as pandas wrote them ("str", "object", "int64", ...), read back by pandas.
    series = {position: pd.Series(_decode_column(encoded), dtype=dtype, copy=False)
              for position, (encoded, dtype) in enumerate(zip(data["data"], dtypes))}
    frame = pd.DataFrame(series, index=pd.RangeIndex(data["length"]), copy=False)
    frame.columns = columns
    return frame


# A column's encoding: one key naming how its values are kept.
_PLAIN, _FLOATS, _DATES, _TAGGED = "plain", "floats", "dates", "tagged"
_JSON_NATIVE = (str, int, bool)


def _encode_column(column: pd.Series) -> dict[str, list]:
    values = column.tolist()
    if isinstance(column.dtype, pd.StringDtype):  # strings, and NaN or NA where missing
        return {_PLAIN: [v if type(v) is str else None for v in values]}
    if column.dtype.kind == "f":
        finite = [None if v != v else v for v in values]  # NaN is missing in a float column
        if all(v is None or math.isfinite(v) for v in finite):
            return {_FLOATS: finite}
    elif all(v is None or type(v) in _JSON_NATIVE or (type(v) is float and math.isfinite(v)) for v in values):
        return {_PLAIN: values}
    elif all(v is None or type(v) is dt.date for v in values):
        return {_DATES: [None if v is None else v.isoformat() for v in values]}
    return {_TAGGED: [encode_value(v) for v in values]}


def _decode_column(encoded: dict[str, list]) -> list:
    (kind, values), = encoded.items()
    if kind == _PLAIN:
        return values
    if kind == _FLOATS:
        return [np.nan if v is None else v for v in values]
    if kind == _DATES:
        return [None if v is None else dt.date.fromisoformat(v) for v in values]
    if kind == _TAGGED:
        return [decode_value(v) for v in values]
    raise ValueError(f"unknown column encoding: {kind!r}")


def _frame_from_rows(data: dict[str, Any]) -> pd.DataFrame:
    rows = [[decode_value(v) for v in row] for row in data["rows"]]
    frame = pd.DataFrame(rows, columns=data["columns"])
    for column, dtype in zip(data["columns"], data["dtypes"]):
        # Inference from the rows usually restores the dtype; an empty frame or a column
        # of all-missing values needs the stored one.
        if str(frame[column].dtype) != dtype:
            frame[column] = frame[column].astype(dtype)
    return frame


def encode_value(value: object) -> object:
    """One cell value as JSON, tagging what JSON would otherwise change."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):  # before int: bool is an int subclass
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {_FLOAT_TAG: repr(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):  # before date: datetime is a date subclass
        return {_DATETIME_TAG: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE_TAG: value.isoformat()}
    raise TypeError(f"cannot store a value of type {type(value).__name__}: {value!r}")


def decode_value(value: object) -> object:
    if isinstance(value, dict):
        if _DATE_TAG in value:
            return dt.date.fromisoformat(value[_DATE_TAG])
        if _DATETIME_TAG in value:
            return pd.Timestamp(value[_DATETIME_TAG])
        if _FLOAT_TAG in value:
            return float(value[_FLOAT_TAG])
        raise ValueError(f"unknown tagged value: {value!r}")
    return value
