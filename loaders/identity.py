"""Hazard identity across months: reworded descriptions and hazards that vanish from a ledger.

Data contract, "Hazard identity across rewording". Clerks reword descriptions from month to
month; ``hazard_id`` hashes the normalised text, so a reworded hazard would count twice. When a
unit's ledger for a period lacks a hazard it listed before and brings a new one at the same
enterprise and sector whose description is nearly the same, the two are one hazard: the new rows
take the old ``hazard_id`` (the new text is kept) and an info finding names both texts.

What "nearly the same" means here (docs/RULES.md):
- similarity is difflib's ratio on the normalised descriptions (whitespace and punctuation
  removed, half-width): at least ``SAME_RATIO`` is the same hazard, at least ``POSSIBLE_RATIO``
  is possibly the same — a finding for a person to confirm, not merged;
- the numbers in both texts must match ("1号厂房" is not "2号厂房"), else it is only possible;
- only a hazard not rectified when last listed can be reworded: a rectified one may leave the
  ledger (销号), and a similar new one at that enterprise is a new hazard;
- each old hazard pairs with at most one new one, the most similar pairs first.

A hazard not rectified when last listed that is missing from a unit's next ledger, while that
ledger is a full one (it lists at least half of the previous ledger's hazards again), is a
finding (未整改隐患从台账中消失); the hazard keeps its last status.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Issue
from .values import normalize_text

SAME_RATIO = 0.8
POSSIBLE_RATIO = 0.6
FULL_LEDGER_SHARE = 0.5

_DIGITS = re.compile(r"\d+")


@dataclass
class _Listed:
    """What is known of a hazard from its latest listing."""

    hazard_id: str
    group: tuple  # (unit, normalised enterprise, sector)
    text: str  # normalised description
    description: str
    status: str
    period: str
    source_file: str
    source_sheet: str
    source_row: int


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def shared_values(column: pd.Series) -> list:
    """``column.to_numpy(dtype=object).tolist()`` with one Python object per distinct value.

    A text column (Arrow-backed) makes a new ``str`` for every row; a hazard is listed again every
    month, so at province scale (≈400,000 rows) each text column as a list held some 50 MB of
    repeated strings while the campaign was built. Other dtypes are converted as they are."""
    if not isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy(dtype=object).tolist()
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = uniques.to_numpy(dtype=object)
    values[-1] = column.dtype.na_value  # code -1: missing, as ``to_numpy(dtype=object)`` gives it
    return values[codes].tolist()


class _Rows:
    """The hazard rows as plain lists, with the normalised texts worked out on first use: most
    rows repeat a hazard already known and need neither."""

    def __init__(self, hazards: pd.DataFrame):
        for name in ("unit", "period", "enterprise", "description", "status", "source_file", "source_sheet", "source_row"):
            setattr(self, name, shared_values(hazards[name]))
        self.sector = hazards["sector"].astype(object).where(hazards["sector"].notna(), "").to_numpy(dtype=object).tolist()
        self._texts: dict[int, str] = {}
        self._enterprises: dict[int, str] = {}

    def text(self, pos: int) -> str:
        """The normalised description."""
        if (text := self._texts.get(pos)) is None:
            d = self.description[pos]
            text = self._texts[pos] = normalize_text(str(d) if isinstance(d, str) else "")
        return text

    def group(self, pos: int) -> tuple[str, str]:
        """(normalised enterprise, sector)."""
        if (enterprise := self._enterprises.get(pos)) is None:
            e = self.enterprise[pos]
            enterprise = self._enterprises[pos] = normalize_text(str(e) if isinstance(e, str) else "")
        return enterprise, self.sector[pos]

    def listed(self, pos: int, hazard_id: str) -> _Listed:
        return _Listed(hazard_id, (self.unit[pos], *self.group(pos)), self.text(pos), self.description[pos], self.status[pos],
                       self.period[pos], self.source_file[pos], self.source_sheet[pos], self.source_row[pos])


def link_rewordings(hazards: pd.DataFrame, issues: list[Issue]) -> pd.DataFrame:
    """``hazards`` (one row per hazard per period, sorted by period) with reworded hazards'
    ids joined, plus the rewording and vanishing findings appended to ``issues``."""
    if hazards.empty:
        return hazards
    ids = hazards["hazard_id"].to_numpy(dtype=object).copy()
    rows = _Rows(hazards)
    rows_of: dict[tuple[str, str], list[int]] = {}
    for pos, key in enumerate(zip(rows.unit, rows.period)):
        rows_of.setdefault(key, []).append(pos)
    id_list = ids.tolist()  # read and written per row below (a list is faster than the array); back in ``ids`` at the end
    alias: dict[str, str] = {}
    for unit in dict.fromkeys(rows.unit):
        # Every hazard this unit listed so far, by its (final) id: the row of its latest listing.
        known: dict[str, int] = {}
        by_group: dict[tuple, list[str]] = {}
        previous_ids: set[str] | None = None
        previous_period = ""
        for period in sorted(p for u, p in rows_of if u == unit):
            positions = rows_of[(unit, period)]
            if alias:
                for pos in positions:
                    id_list[pos] = alias.get(id_list[pos], id_list[pos])
            current = {id_list[pos] for pos in positions}
            new_positions = [pos for pos in positions if id_list[pos] not in known]
            if new_positions and known:
                _match_new(rows, id_list, new_positions, current, known, by_group, alias, issues)
                for pos in positions:  # a reworded text listed twice in the period joins too
                    id_list[pos] = alias.get(id_list[pos], id_list[pos])
                current = {id_list[pos] for pos in positions}
            if previous_ids:
                _vanished(rows, known, previous_ids, current, previous_period, period, issues)
            for pos in positions:
                hazard = id_list[pos]
                if hazard not in known:
                    by_group.setdefault(rows.group(pos), []).append(hazard)
                known[hazard] = pos
            previous_ids, previous_period = current, period
    if alias:
        ids[:] = id_list
        hazards = hazards.copy()
        hazards["hazard_id"] = ids
    return hazards


def _match_new(rows: _Rows, ids: list[str], new_positions: list[int], current: set[str], known: dict[str, int],
               by_group: dict[tuple, list[str]], alias: dict[str, str], issues: list[Issue]) -> None:
    """Pair this period's new hazards with open hazards of the same group that it no longer lists."""
    pairs = []
    for pos in new_positions:
        for old_id in by_group.get(rows.group(pos), ()):
            old_pos = known[old_id]
            if old_id in current or rows.status[old_pos] == "rectified":
                continue
            old_text, text = rows.text(old_pos), rows.text(pos)
            ratio = _similarity(old_text, text)
            if ratio >= POSSIBLE_RATIO:
                same_numbers = _DIGITS.findall(old_text) == _DIGITS.findall(text)
                pairs.append((ratio >= SAME_RATIO and same_numbers, ratio, pos, rows.listed(old_pos, old_id)))
    pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
    taken_new: set[int] = set()
    taken_old: set[str] = set()
    for same, ratio, pos, old in pairs:
        if pos in taken_new or old.hazard_id in taken_old:
            continue
        cell = f"第{rows.source_row[pos]}行"
        where = (f"{old.period}“{old.description}”与{rows.period[pos]}“{rows.description[pos]}”"
                 f"（{rows.enterprise[pos]}，相似度{ratio:.0%}）")
        if same:
            taken_new.add(pos)
            taken_old.add(old.hazard_id)
            alias[ids[pos]] = old.hazard_id
            ids[pos] = old.hazard_id
            issues.append(Issue(rows.source_file[pos], rows.source_sheet[pos], cell, "info",
                                f"隐患描述有改动，按同一条隐患统计：{where}。", "hazard_reworded"))
        else:
            issues.append(Issue(rows.source_file[pos], rows.source_sheet[pos], cell, "warning",
                                f"可能是同一条隐患改了描述，请人工确认：{where}。目前按两条隐患统计。", "hazard_possibly_reworded"))


def _vanished(rows: _Rows, known: dict[str, int], previous_ids: set[str], current: set[str], previous_period: str,
              period: str, issues: list[Issue]) -> None:
    if len(previous_ids & current) < FULL_LEDGER_SHARE * len(previous_ids):
        return  # a ledger of new hazards only: the earlier ones are not expected again
    for hazard_id in sorted(previous_ids - current):
        if rows.status[known[hazard_id]] == "rectified":
            continue
        old = rows.listed(known[hazard_id], hazard_id)
        status = {"in_progress": "整改中", "not_started": "未整改"}.get(old.status, old.status)
        issues.append(Issue(old.source_file, old.source_sheet, f"第{old.source_row}行", "warning",
                            f"未整改隐患从台账中消失：{old.description}（{old.group[0]}，{previous_period}为“{status}”）"
                            f"未出现在{period}台账中，仍按“{status}”统计。请核实是否已整改或漏报。", "hazard_vanished"))
