"""The hazard filter every page shares, as plain data, and the function that applies it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

import pandas as pd


@dataclass(frozen=True)
class HazardFilter:
    """What an officer narrowed the hazards down to. Empty means "all"."""

    units: tuple[str, ...] = ()
    unit_type: str = ""  # "", "county", "zone", "department"
    sectors: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    supervision_levels: tuple[str, ...] = ()
    overdue_only: bool = False
    period_start: str = ""  # YYYY-MM, first period a hazard was reported
    period_end: str = ""
    deadline_start: dt.date | None = None
    deadline_end: dt.date | None = None
    search: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_mapping(cls, values: dict) -> HazardFilter:
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for name, value in values.items():
            if name not in known or name == "extra":
                continue
            kwargs[name] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    @property
    def is_empty(self) -> bool:
        return self == HazardFilter()


def search_index(unique_hazards: pd.DataFrame) -> pd.Series:
    """Lower-cased enterprise + description + measures, built once per dataset for free-text search."""
    return (
        unique_hazards["enterprise"].fillna("") + "\x1f" + unique_hazards["description"].fillna("") + "\x1f"
        + unique_hazards["measures"].fillna("")
    ).str.lower()


def filter_mask(unique_hazards: pd.DataFrame, spec: HazardFilter, search_text: pd.Series | None = None) -> pd.Series:
    """Boolean mask over unique hazards for ``spec``; ``search_text`` is ``search_index(...)`` if precomputed."""
    frame = unique_hazards
    mask = pd.Series(True, index=frame.index)
    if spec.units:
        mask &= frame["unit"].isin(spec.units)
    if spec.unit_type:
        mask &= frame["unit_type"] == spec.unit_type
    if spec.sectors:
        mask &= frame["sector"].isin(spec.sectors)
    if spec.statuses:
        mask &= frame["status"].isin(spec.statuses)
    if spec.supervision_levels:
        mask &= frame["supervision_level"].isin(spec.supervision_levels)
    if spec.overdue_only:
        mask &= frame["overdue"].astype(bool)
    if spec.period_start:
        mask &= frame["first_period"] >= spec.period_start
    if spec.period_end:
        mask &= frame["first_period"] <= spec.period_end
    if spec.deadline_start:
        mask &= frame["deadline"] >= pd.Timestamp(spec.deadline_start)
    if spec.deadline_end:
        mask &= frame["deadline"] <= pd.Timestamp(spec.deadline_end)
    if spec.search.strip():
        text = search_text if search_text is not None else search_index(frame)
        for word in spec.search.lower().split():
            mask &= text.str.contains(word, regex=False)
    return mask


def filter_hazards(unique_hazards: pd.DataFrame, spec: HazardFilter, search_text: pd.Series | None = None) -> pd.DataFrame:
    return unique_hazards[filter_mask(unique_hazards, spec, search_text)]
