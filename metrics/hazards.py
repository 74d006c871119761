"""Hazard figures for the hazards page: counts by unit and sector, status over time, one hazard's record.

Pure pandas and numpy. ``HazardIndex.build`` does the costly work once per dataset
(units, sectors, periods and statuses as integer codes, the per-period status table
keyed by the hazard's row in ``unique_hazards``, the history sorted by hazard, the
registry keyed by normalised enterprise name); the functions below then answer each
filter change from it with vectorised lookups and bincounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loaders import Campaign
from loaders.values import normalize_text

STATUSES = ("rectified", "in_progress", "not_started")
MISSING_SECTOR = "unknown"  # the key of hazards whose ledger row gave no sector
HISTORY_COLUMNS = ("period", "progress_raw", "status", "deadline_raw", "source_file", "source_sheet", "source_row")
REGISTRY_COLUMNS = ("enterprise", "responsible_unit", "head", "head_phone", "leader", "leader_phone", "cadre", "cadre_phone")


@dataclass(frozen=True)
class HazardIndex:
    """What the hazard views look up on every filter change, built once per dataset."""

    unique: pd.DataFrame
    # Each unique hazard's unit and sector as positions in ``units`` / ``sectors`` (no sector:
    # MISSING_SECTOR), so a filter's counts are a bincount instead of a grouping of strings.
    units: tuple[str, ...]
    unit_codes: np.ndarray
    sectors: tuple[str, ...]
    sector_codes: np.ndarray
    # One row per hazard and period: position (row of the hazard in ``unique``), the period as a
    # position in ``periods``, the status as a position in STATUSES (-1: none of them).
    period_statuses: pd.DataFrame
    periods: tuple[str, ...]
    # ``hazards`` sorted by hazard_id (periods in order within one hazard), indexed by hazard_id.
    history: pd.DataFrame
    # The registry indexed by normalised enterprise name (the latest entry of a name wins, whoever sent it).
    registry: pd.DataFrame
    # The registry indexed by (unit that sent the board, normalised enterprise name).
    unit_registry: pd.DataFrame

    @classmethod
    def build(cls, campaign: Campaign) -> HazardIndex:
        hazards, unique = campaign.hazards, campaign.unique_hazards
        # Within one period a hazard listed twice keeps its last row, as in unique_hazards.
        per_period = hazards.drop_duplicates(["hazard_id", "period"], keep="last")
        periods = tuple(sorted(set(per_period["period"])))
        period_statuses = pd.DataFrame({
            "position": pd.Index(unique["hazard_id"]).get_indexer(per_period["hazard_id"]),
            "period": pd.Categorical(per_period["period"], categories=periods).codes,
            "status": pd.Categorical(per_period["status"], categories=STATUSES).codes,
        })
        unit_codes, units = pd.factorize(unique["unit"])
        sector_codes, sectors = pd.factorize(unique["sector"].fillna(MISSING_SECTOR))
        # Only the columns a hazard's history shows: a full copy of ``hazards`` is the largest
        # frame of the dataset (~270 MB at province scale). Its texts repeat from period to
        # period (file names, statuses, deadlines, progress notes), so they are kept as categories.
        history = (hazards[["hazard_id", *HISTORY_COLUMNS]]
                   .sort_values(["hazard_id", "period", "source_row"], kind="stable").set_index("hazard_id"))
        history = history.astype({column: "category" for column in HISTORY_COLUMNS if column != "source_row"})
        registry = campaign.registry.copy()
        registry["enterprise_key"] = registry["enterprise"].fillna("").astype(str).map(normalize_text)
        if "unit" not in registry.columns:
            registry["unit"] = ""
        registry["unit"] = registry["unit"].fillna("").astype(str)
        unit_registry = registry.drop_duplicates(["unit", "enterprise_key"], keep="last").set_index(["unit", "enterprise_key"])
        registry = registry.drop_duplicates("enterprise_key", keep="last").set_index("enterprise_key")
        return cls(unique, tuple(units), unit_codes, tuple(sectors), sector_codes, period_statuses, periods,
                   history, registry, unit_registry)


def unit_sector_counts(hazards: pd.DataFrame, unit_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Hazards per unit and sector (columns unit, sector, count): the units with most hazards first,
    or in ``unit_order`` when given (units it does not list go last)."""
    sectors = hazards["sector"].fillna(MISSING_SECTOR)
    counts = hazards.groupby([hazards["unit"], sectors], sort=False).size().rename("count").reset_index()
    return _units_ordered(counts, unit_order)


def selected_unit_sector_counts(index: HazardIndex, selected: np.ndarray,
                                unit_order: Sequence[str] | None = None) -> pd.DataFrame:
    """``unit_sector_counts(index.unique[selected], unit_order)``, counted from the index's codes:
    a few milliseconds at province scale, where grouping the strings takes tens."""
    selected = np.asarray(selected, dtype=bool)
    n_sectors = len(index.sectors)
    cells = np.bincount(index.unit_codes[selected] * n_sectors + index.sector_codes[selected],
                        minlength=len(index.units) * n_sectors)
    present = np.flatnonzero(cells)
    unit_positions, sector_positions = np.divmod(present, n_sectors)
    counts = pd.DataFrame({
        "unit": np.asarray(index.units, dtype=object)[unit_positions],
        "sector": np.asarray(index.sectors, dtype=object)[sector_positions],
        "count": cells[present],
    })
    return _units_ordered(counts, unit_order)


def _units_ordered(counts: pd.DataFrame, unit_order: Sequence[str] | None) -> pd.DataFrame:
    if unit_order is None:
        rank = -counts.groupby("unit")["count"].transform("sum")
    else:
        rank = counts["unit"].map({unit: position for position, unit in enumerate(unit_order)}).fillna(len(unit_order))
    return (counts.assign(rank=rank).sort_values(["rank", "unit", "sector"])
            .drop(columns="rank").reset_index(drop=True))


def status_by_period(index: HazardIndex, selected: np.ndarray) -> pd.DataFrame:
    """How many of the selected hazards were rectified / in progress / not started in each period reported.

    ``selected`` is a boolean mask over ``index.unique`` (the filter applied to unique hazards);
    a hazard counts in every period its unit listed it, with the status it had then.
    Columns: period, status, count; every period and status present, zeros included.
    """
    table = index.period_statuses
    rows = (np.asarray(selected, dtype=bool)[table["position"].to_numpy()]
            & (table["status"].to_numpy() >= 0) & (table["period"].to_numpy() >= 0))
    cells = np.bincount(table["period"].to_numpy()[rows].astype(np.int64) * len(STATUSES) + table["status"].to_numpy()[rows],
                        minlength=len(index.periods) * len(STATUSES))
    return pd.DataFrame({
        "period": np.repeat(index.periods, len(STATUSES)),
        "status": np.tile(STATUSES, len(index.periods)),
        "count": cells,
    })


def hazard_history(index: HazardIndex, hazard_id: str) -> pd.DataFrame:
    """Every period's report of one hazard, oldest first (empty when the hazard is unknown)."""
    if hazard_id not in index.history.index:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    history = index.history.loc[[hazard_id], list(HISTORY_COLUMNS)].reset_index(drop=True)
    # Plain values again: categories are how the index stores them, not what a view works with.
    return history.astype({column: history[column].cat.categories.dtype for column in history
                           if isinstance(history[column].dtype, pd.CategoricalDtype)})


def registry_entry(index: HazardIndex, enterprise: str, unit: str | None = None) -> dict | None:
    """The notice-board entry (leader, head, cadre, responsible unit) of an enterprise, matched on its
    normalised name: the board sent by ``unit`` (the hazard's unit) when that unit sent one naming it,
    else the latest board of any unit naming it (a department's hazard at an enterprise on a county's
    board). None when no board names the enterprise. The entry's ``unit`` is the unit that sent it."""
    key = normalize_text(enterprise or "")
    if not key:
        return None
    if unit and (unit, key) in index.unit_registry.index:
        row = index.unit_registry.loc[(unit, key)]
        return {**{column: row.get(column, "") for column in REGISTRY_COLUMNS}, "unit": unit}
    if key not in index.registry.index:
        return None
    row = index.registry.loc[key]
    return {**{column: row.get(column, "") for column in REGISTRY_COLUMNS}, "unit": row.get("unit", "")}
