"""Figures of the county map (挂图作战): per county and functional zone, what the map colours by.

Pure pandas. The map always shows every county and zone, so its hazards are those of
the session's filter without the unit part (``map_filter``); the selected county is
highlighted on the map instead of hiding the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from metrics.filters import HazardFilter

# What the map can colour by; ``DashboardState.measure`` holds one of these.
COUNT_MEASURES = ("hazards", "unrectified", "overdue", "supervised")
PER_100_ENTERPRISES = "per_100_enterprises"
MEASURES = (*COUNT_MEASURES, PER_100_ENTERPRISES)
ENTERPRISES_KEY = "enterprises"


def map_filter(spec: HazardFilter) -> HazardFilter:
    """``spec`` without units and unit type: the map shows all counties and highlights the chosen one."""
    return replace(spec, units=(), unit_type="")


def enterprises_by_unit(latest: pd.DataFrame) -> pd.Series:
    """Enterprises per unit (辖区企业数) from ``metrics.overview.latest_cumulative`` rows, indexed by unit."""
    rows = latest[latest["key"] == ENTERPRISES_KEY]
    return rows.set_index("unit")["cumulative"].astype(float)


def unit_figures(hazards: pd.DataFrame, enterprises: pd.Series, units: Sequence[str],
                 scope_unit: str | None = None) -> pd.DataFrame:
    """One row per unit of ``units`` (index, in that order): the four hazard counts, enterprises and
    hazards per 100 enterprises.

    ``hazards`` are unique hazards (one row per hazard_id); a unit without hazards counts 0.
    Hazards per 100 enterprises is missing where the unit reported no (or zero) enterprises.
    ``scope_unit``: ``hazards`` hold that unit's only (a unit officer's data): every other unit's
    hazard figures are missing, not 0.
    """
    flags = pd.DataFrame({
        "hazards": 1,
        "unrectified": hazards["status"] != "rectified",
        "overdue": hazards["overdue"].astype(bool),
        "supervised": hazards["supervision_level"].fillna("none") != "none",
    }, index=hazards.index)
    counts = flags.groupby(hazards["unit"], sort=False).sum()
    figures = counts.reindex(list(units), fill_value=0).astype(int)
    figures.index.name = "unit"
    figures[ENTERPRISES_KEY] = enterprises.reindex(figures.index)
    figures[PER_100_ENTERPRISES] = figures["hazards"] / figures[ENTERPRISES_KEY].where(figures[ENTERPRISES_KEY] > 0) * 100
    if scope_unit is not None:
        hidden = figures.index != scope_unit
        counted = ["hazards", "unrectified", "overdue", "supervised", PER_100_ENTERPRISES]
        figures = figures.astype({column: float for column in counted})
        figures.loc[hidden, counted] = float("nan")
    return figures
