"""The state a session holds: which page, which filters, which hazard. Views depend on it.

One ``DashboardState`` per browser session; the campaign data itself is shared by
all sessions of the process (see ``components.data``). Every parameter here is
mirrored in the URL so a view can be bookmarked and sent to a colleague.
"""

from __future__ import annotations

import re

import param

from loaders.reference import SECTOR_KEYS, STATUS_LABELS
from metrics.filters import HazardFilter

PAGES = ("overview", "hazards", "map", "enforcement", "training", "dispatch", "annotations", "data")

# Parameters that make up the hazard filter (names match HazardFilter's fields).
FILTER_PARAMS = (
    "units", "unit_type", "sectors", "statuses", "supervision_levels", "overdue_only",
    "period_start", "period_end", "deadline_start", "deadline_end", "search",
)
# Everything that goes into the URL query string.
URL_PARAMS = ("page", *FILTER_PARAMS, "hazard", "lang", "measure")


class DashboardState(param.Parameterized):
    page = param.Selector(default="overview", objects=list(PAGES))
    lang = param.Selector(default="zh", objects=["zh", "en"])

    units = param.List(default=[], item_type=str, doc="Selected unit names (empty: all)")
    unit_type = param.Selector(default="", objects=["", "county", "zone", "department"])
    sectors = param.List(default=[], item_type=str)
    statuses = param.List(default=[], item_type=str)
    supervision_levels = param.List(default=[], item_type=str)
    overdue_only = param.Boolean(default=False)
    period_start = param.String(default="", doc="YYYY-MM")
    period_end = param.String(default="", doc="YYYY-MM")
    deadline_start = param.CalendarDate(default=None, allow_None=True)
    deadline_end = param.CalendarDate(default=None, allow_None=True)
    search = param.String(default="")

    hazard = param.String(default="", doc="hazard_id of the hazard whose detail is open")
    data_revision = param.Integer(default=0, doc="Revision of the shared dataset this session shows")
    measure = param.Selector(default="hazards", objects=["hazards", "unrectified", "overdue", "supervised", "per_100_enterprises"],
                             doc="What the county map colours by")

    @property
    def hazard_filter(self) -> HazardFilter:
        return HazardFilter.from_mapping({name: getattr(self, name) for name in FILTER_PARAMS})

    @param.depends(*FILTER_PARAMS)
    def filter_token(self) -> HazardFilter:
        """Depend on this to be re-run whenever any filter changes."""
        return self.hazard_filter

    def reset_filters(self) -> None:
        self.param.update({name: self.param[name].default for name in FILTER_PARAMS})

    def toggle_unit(self, unit: str) -> None:
        """A click on a county (bar, heatmap cell, map) filters to it; a second click clears it."""
        self.units = [] if self.units == [unit] else [unit]


SUPERVISION_LEVELS = ("city", "county", "province", "none")
_PERIOD = re.compile(r"^20\d{2}-(0[1-9]|1[0-2])$")
_HAZARD_ID = re.compile(r"^[0-9a-f]{16}$")
SEARCH_MAX_CHARS = 100


def drop_unknown_values(state: DashboardState, units: list[str], periods: list[str]) -> list[str]:
    """Keep only values the dataset knows in the state a URL set: units and periods of the
    dataset, the contract's sectors, statuses and supervision levels, a well-formed hazard id and a
    search of at most ``SEARCH_MAX_CHARS``. Returns the dropped values (to tell the user), as text."""
    dropped: list[str] = []
    allowed_lists = {"units": set(units), "sectors": set(SECTOR_KEYS), "statuses": set(STATUS_LABELS),
                     "supervision_levels": set(SUPERVISION_LEVELS)}
    updates: dict[str, object] = {}
    for name, allowed in allowed_lists.items():
        values = getattr(state, name)
        kept = [v for v in values if v in allowed]
        if kept != values:
            dropped += [v for v in values if v not in allowed]
            updates[name] = kept
    for name in ("period_start", "period_end"):
        value = getattr(state, name)
        if value and not (_PERIOD.match(value) and (not periods or value in periods)):
            dropped.append(value)
            updates[name] = ""
    if state.hazard and not _HAZARD_ID.match(state.hazard):
        dropped.append(state.hazard)
        updates["hazard"] = ""
    if len(state.search) > SEARCH_MAX_CHARS:
        dropped.append(state.search)
        updates["search"] = state.search[:SEARCH_MAX_CHARS]
    if updates:
        state.param.update(updates)
    return dropped
