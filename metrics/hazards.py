"""Hazard figures for the hazards page: counts by unit and sector, status over time, one hazard's record.

Pure pandas. ``HazardIndex.build`` does the costly work once per dataset (the
per-period status table keyed by the hazard's row in ``unique_hazards``, the
history sorted by hazard, the registry keyed by normalised enterprise name); the
functions below then answer each filter change from it with vectorised lookups.
"""

from __future__ import annotations

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
    # One row per hazard and period: position (row of the hazard in ``unique``), period, status.
    period_statuses: pd.DataFrame
    periods: tuple[str, ...]
    # ``hazards`` sorted by hazard_id (periods in order within one hazard), indexed by hazard_id.
    history: pd.DataFrame
    # The registry indexed by normalised enterprise name (the latest entry of a name wins).
    registry: pd.DataFrame

    @classmethod
    def build(cls, campaign: Campaign) -> HazardIndex:
        hazards, unique = campaign.hazards, campaign.unique_hazards
        # Within one period a hazard listed twice keeps its last row, as in unique_hazards.
        per_period = hazards.drop_duplicates(["hazard_id", "period"], keep="last")
        period_statuses = pd.DataFrame({
            "position": pd.Index(unique["hazard_id"]).get_indexer(per_period["hazard_id"]),
            "period": per_period["period"].to_numpy(),
            "status": per_period["status"].to_numpy(),
        })
        # Only the columns a hazard's history shows: a full copy of ``hazards`` is the largest
        # frame of the dataset (~270 MB at province scale).
        history = (hazards[["hazard_id", *HISTORY_COLUMNS]]
                   .sort_values(["hazard_id", "period", "source_row"], kind="stable").set_index("hazard_id"))
        registry = campaign.registry.copy()
        registry["enterprise_key"] = registry["enterprise"].fillna("").astype(str).map(normalize_text)
        registry = registry.drop_duplicates("enterprise_key", keep="last").set_index("enterprise_key")
        return cls(unique, period_statuses, tuple(sorted(set(per_period["period"]))), history, registry)


def unit_sector_counts(hazards: pd.DataFrame) -> pd.DataFrame:
    """Hazards per unit and sector (columns unit, sector, count), the units with most hazards first."""
    sectors = hazards["sector"].fillna(MISSING_SECTOR)
    counts = hazards.groupby([hazards["unit"], sectors], sort=False).size().rename("count").reset_index()
    totals = counts.groupby("unit")["count"].transform("sum")
    return (counts.assign(total=totals).sort_values(["total", "unit", "sector"], ascending=[False, True, True])
            .drop(columns="total").reset_index(drop=True))


def status_by_period(index: HazardIndex, selected: np.ndarray) -> pd.DataFrame:
    """How many of the selected hazards were rectified / in progress / not started in each period reported.

    ``selected`` is a boolean mask over ``index.unique`` (the filter applied to unique hazards);
    a hazard counts in every period its unit listed it, with the status it had then.
    Columns: period, status, count; every period and status present, zeros included.
    """
    rows = index.period_statuses[np.asarray(selected, dtype=bool)[index.period_statuses["position"].to_numpy()]]
    counts = rows.groupby(["period", "status"]).size()
    full = pd.MultiIndex.from_product([list(index.periods), list(STATUSES)], names=["period", "status"])
    return counts.reindex(full, fill_value=0).rename("count").reset_index()


def hazard_history(index: HazardIndex, hazard_id: str) -> pd.DataFrame:
    """Every period's report of one hazard, oldest first (empty when the hazard is unknown)."""
    if hazard_id not in index.history.index:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    return index.history.loc[[hazard_id], list(HISTORY_COLUMNS)].reset_index(drop=True)


def registry_entry(index: HazardIndex, enterprise: str) -> dict | None:
    """The notice-board entry (leader, head, cadre, responsible unit) of an enterprise, matched on its
    normalised name; None when the enterprise is not in the registry."""
    key = normalize_text(enterprise or "")
    if not key or key not in index.registry.index:
        return None
    row = index.registry.loc[key]
    return {column: row.get(column, "") for column in REGISTRY_COLUMNS}
