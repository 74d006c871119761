"""The campaign dataset of this server process, loaded once and shared by every session.

Sessions hold only their filter state. An upload in one session ingests into the
store and rebuilds the dataset once; every session sees the new ``revision`` on
its next poll and redraws.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders import Campaign
from loaders.resends import statistics_date
from metrics.filters import search_index


def received_periods(campaign: Campaign) -> list[str]:
    """The periods (YYYY-MM) in the campaign window that any counted submission covers, oldest first."""
    return campaign.received_periods


def default_as_of(campaign: Campaign, today: dt.date | None = None, periods: list[str] | None = None) -> dt.date:
    """The statistics date (统计日期, ``loaders.resends.statistics_date``); ``periods`` may pass
    ``received_periods(campaign)`` already computed."""
    if periods is None:
        return campaign.statistics_date(today)
    return statistics_date(periods, today or dt.date.today())


@dataclass
class CampaignSnapshot:
    """One built dataset plus what every view derives from it, computed once."""

    campaign: Campaign
    as_of: dt.date
    revision: int
    search_text: pd.Series = field(repr=False)
    periods: list[str]
    units: list[str]
    _derived: dict = field(default_factory=dict, repr=False)
    _derived_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def derived(self, key: Hashable, build: Callable[[], object]) -> object:
        """``build()`` once per snapshot and key, shared by every session; dropped with the snapshot.

        Building holds the lock, so sessions asking at once compute it once (and a builder
        may itself ask for another derived value)."""
        with self._derived_lock:
            if key not in self._derived:
                self._derived[key] = build()
                _return_freed_memory(collect=False)  # rare builds with large intermediates
            return self._derived[key]

    @classmethod
    def build(cls, campaign: Campaign, revision: int) -> CampaignSnapshot:
        periods = received_periods(campaign)
        submissions = campaign.submissions
        # Units of the campaign: a unit whose only submission was held aside is not one yet.
        units = sorted(set(submissions.loc[~submissions["held_aside"].astype(bool), "unit"])) if not submissions.empty else []
        return cls(campaign, campaign.as_of, revision, search_index(campaign.unique_hazards), periods, units)

    @property
    def is_empty(self) -> bool:
        return self.campaign.submissions.empty

    @property
    def latest_period(self) -> str | None:
        return self.periods[-1] if self.periods else None


class SharedCampaign:
    """Owns the store of this process and the current snapshot; thread-safe.

    Without a fixed as-of date the statistics date follows the calendar while the server
    runs: the first ``snapshot`` read on a new day re-dates the dataset (``Campaign.at``,
    only the deadline columns change; nothing is re-read from the store) and bumps the
    revision, so sessions redraw on their next poll. Only the current day's snapshot is kept.
    """

    def __init__(self, store_location: str | Path | None = None, as_of: dt.date | None = None,
                 today: Callable[[], dt.date] = dt.date.today):
        from store import Store  # imported here so components can be used on a bare Campaign too

        self._store = Store(store_location)
        self._fixed_as_of = as_of
        self._today = today
        self._lock = threading.RLock()
        self._revision = 0
        self._set(self._build())

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> SharedCampaign:
        """A read-only shared dataset over an already built campaign (notebooks, tests)."""
        shared = cls.__new__(cls)
        shared._store = None
        shared._fixed_as_of = campaign.as_of
        shared._today = dt.date.today
        shared._lock = threading.RLock()
        shared._revision = 0
        shared._set(CampaignSnapshot.build(campaign, 0))
        return shared

    @property
    def store(self):
        return self._store

    @property
    def snapshot(self) -> CampaignSnapshot:
        """The current snapshot, re-dated when the calendar day changed (see the class docstring)."""
        if self._fixed_as_of is None and self._today() != self._checked_on:
            with self._lock:
                today = self._today()
                if today != self._checked_on:
                    as_of = default_as_of(self._snapshot.campaign, today, self._snapshot.periods)
                    if as_of != self._snapshot.as_of:
                        self._revision += 1
                        self._snapshot = CampaignSnapshot.build(self._snapshot.campaign.at(as_of), self._revision)
                    self._checked_on = today
        return self._snapshot

    def _set(self, snapshot: CampaignSnapshot) -> None:
        self._snapshot = snapshot
        self._checked_on = self._today() if self._fixed_as_of is None else None

    def _build(self) -> CampaignSnapshot:
        campaign = self._store.campaign(self._fixed_as_of)  # without a date: the statistics date of the calendar's today
        if self._fixed_as_of is None and (as_of := default_as_of(campaign, self._today())) != campaign.as_of:
            campaign = campaign.at(as_of)  # a test's own "today"
        snapshot = CampaignSnapshot.build(campaign, self._revision)
        _return_freed_memory()
        return snapshot

    def ingest(self, files: list[tuple[str, bytes]], progress=None) -> list:
        """Store uploaded files and rebuild the shared dataset once; returns the ingest outcomes."""
        if self._store is None:
            raise RuntimeError("this dataset is read-only")
        outcomes = []
        with self._lock:
            batch = self._store.new_batch()  # one upload is one batch (the contract's resend rules)
            for index, (name, data) in enumerate(files):
                if progress:
                    progress(index, len(files), name)
                outcomes.append(self._store.ingest_bytes(data, name, batch=batch))
            if progress:
                progress(len(files), len(files), "重新计算汇总数据…")
            self._revision += 1
            self._set(self._build())
        return outcomes


def _return_freed_memory(collect: bool = True) -> None:
    """Give the memory freed after a build (decoded files, intermediate frames) back to the OS.

    A long-running server builds the dataset rarely; without this, glibc keeps the freed
    arenas and the process stays at its build-time peak (about 200 MB more at province scale).
    ``collect`` runs the cycle collector first (~0.3 s on the province dataset's heap)."""
    if collect:
        gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


_SHARED: dict[tuple[str, dt.date | None], SharedCampaign] = {}
_SHARED_LOCK = threading.Lock()


def get_shared_campaign(store_location: str | Path | None = None, as_of: dt.date | None = None) -> SharedCampaign:
    """The process-wide dataset for a store, built on first use."""
    key = (str(store_location), as_of)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = SharedCampaign(store_location, as_of)
        return _SHARED[key]
