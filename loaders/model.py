"""The objects the loaders pass around: issues, sheet grids, submissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import pyarrow as pa

SEVERITIES = ("error", "warning", "info")
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

KIND_LABELS = {
    "ledger": "隐患台账（附件2）",
    "county_form": "县市区调度表（附件3）",
    "department_form": "市直部门调度表（附件4）",
    "registry": "责任公示牌（附件1）",
}


@dataclass(frozen=True)
class Issue:
    """One problem an officer must see: which file, sheet and cell, and what to do."""

    file: str
    sheet: str
    cell: str
    severity: str
    message: str
    code: str = ""  # stable machine tag, e.g. "cumulative_decrease"

    def as_contract(self) -> dict:
        """The five keys of the data contract's summary."""
        return {"file": self.file, "sheet": self.sheet, "cell": self.cell, "severity": self.severity, "message": self.message}


@lru_cache(maxsize=4096)
def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """0-based (row, col) → "C7"."""
    return f"{column_letter(col)}{row + 1}"


@dataclass
class SheetGrid:
    """A sheet's values with merged ranges filled from their top-left cell.

    ``origin[(r, c)]`` is the top-left cell of the merged range covering (r, c), for
    merged cells only, so a parser can tell a repeated merged value from a new one.
    """

    file: str
    name: str
    rows: list[list[object]]
    origin: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> object:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def text(self, row: int, col: int) -> str:
        value = self.value(row, col)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    def same_cell(self, a: tuple[int, int], b: tuple[int, int]) -> bool:
        """True when a and b belong to the same merged range (or are the same cell)."""
        return self.origin.get(a, a) == self.origin.get(b, b)

    def is_merge_copy(self, row: int, col: int) -> bool:
        """True for a merged cell that is not its range's top-left cell."""
        return self.origin.get((row, col), (row, col)) != (row, col)

    def issue(self, row: int | None, col: int | None, severity: str, message: str, code: str = "") -> Issue:
        ref = cell_ref(row, col) if row is not None and col is not None else (f"第{row + 1}行" if row is not None else "")
        return Issue(self.file, self.name, ref, severity, message, code)


class RecordRows:
    """A submission's records as the parser wrote them: plain row tuples under fixed columns.

    The DataFrame is built only when someone asks for ``Submission.records``; the merge
    (``campaign._stack``) stacks the rows of all submissions into one frame instead, and rows
    cross a process boundary several times faster than frames. ``frame()`` is exactly
    ``pd.DataFrame(rows, columns=columns)``, the frame the parsers built before.
    Each column holds values of one type, or None (the merge relies on it).

    ``pack()`` keeps the values by column instead, the texts in Arrow arrays: what a worker
    process sends back is then a fraction of the size, and the merge stacks those columns
    without converting each text again.
    """

    __slots__ = ("columns", "_rows", "_data", "_length")

    def __init__(self, columns: tuple[str, ...], rows: list[tuple]):
        self.columns = columns
        self._rows: list[tuple] | None = rows
        self._data: list[pa.Array | list] | None = None
        self._length = len(rows)

    @property
    def rows(self) -> list[tuple]:
        """The rows (of packed values: made again, not kept)."""
        if self._rows is None:
            return list(zip(*(c.to_pylist() if isinstance(c, pa.Array) else c for c in self._data)))
        return self._rows

    @property
    def packed(self) -> bool:
        return self._data is not None

    def __len__(self) -> int:
        return self._length

    def pack(self) -> None:
        """Keep the values by column: a column of texts (each value a text or None, at least one
        text) as an Arrow array, any other as a list."""
        if self._data is not None:
            return
        data: list[pa.Array | list] = []
        for i in range(len(self.columns)):
            values = [row[i] for row in self._rows]
            types = set(map(type, values))
            data.append(pa.array(values, type=pa.large_string()) if str in types and types <= _TEXT_TYPES else values)
        self._data, self._rows = data, None

    def column(self, i: int) -> pa.Array | list:
        """Column ``i`` of packed rows: an Arrow array of texts, or a list of values."""
        return self._data[i]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def __getstate__(self) -> tuple:
        return self.columns, self._rows, self._data, self._length

    def __setstate__(self, state: tuple) -> None:
        self.columns, self._rows, self._data, self._length = state


_TEXT_TYPES = frozenset((str, type(None)))


class _Records:
    """``Submission.records``: a DataFrame, built from ``RecordRows`` on first access."""

    def __get__(self, obj: object, owner: type | None = None) -> pd.DataFrame:
        if obj is None:
            raise AttributeError("records")  # no default: the dataclass field stays required
        value = obj.__dict__["_records"]
        if isinstance(value, RecordRows):
            value = obj.__dict__["_records"] = value.frame()
        return value

    def __set__(self, obj: object, value: pd.DataFrame | RecordRows) -> None:
        obj.__dict__["_records"] = value


@dataclass
class Submission:
    """What one unit reported for one period in one form, from one sheet.

    ``records`` is a DataFrame whose columns depend on ``kind``:
    ledger → hazard columns of the contract (without hazard_id/period/unit_type);
    county_form/department_form → key, value, cell;
    registry → the registry fields plus source_row.
    A parser may pass ``RecordRows``: the frame is then built when first read.
    """

    kind: str
    unit: str
    unit_raw: str
    unit_type: str
    period: str | None
    source_file: str
    source_sheet: str
    records: pd.DataFrame = _Records()
    layout: str = "form"
    reported_on: dt.date | None = None
    file_sha256: str = ""
    # The title or file name says 更正/修改/修订: within one batch this resend wins.
    correction: bool = False
    # The title or file name says 补报/补充 (ledgers): its hazards add to the period's ledger.
    supplement: bool = False

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.unit, self.period)

    @property
    def record_rows(self) -> RecordRows | None:
        """The parser's rows while no frame has been built from them, else None."""
        value = self.__dict__.get("_records")
        return value if isinstance(value, RecordRows) else None

    @property
    def record_count(self) -> int:
        """``len(records)``, without building the frame."""
        return len(self.__dict__["_records"])


@dataclass
class WorkbookResult:
    """Everything read from one file: its submissions and its issues."""

    file: str
    sha256: str
    submissions: list[Submission] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    sheets_read: int = 0
    # Files ingested together share a batch; a later batch's resend replaces an earlier one's.
    batch: int = 0

    @property
    def accepted(self) -> bool:
        return bool(self.submissions)
