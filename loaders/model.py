"""The objects the loaders pass around: issues, sheet grids, submissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

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


@dataclass
class Submission:
    """What one unit reported for one period in one form, from one sheet.

    ``records`` is a DataFrame whose columns depend on ``kind``:
    ledger → hazard columns of the contract (without hazard_id/period/unit_type);
    county_form/department_form → key, value, cell;
    registry → the registry fields plus source_row.
    """

    kind: str
    unit: str
    unit_raw: str
    unit_type: str
    period: str | None
    source_file: str
    source_sheet: str
    records: pd.DataFrame
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
