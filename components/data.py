"""The campaign dataset of this server process, loaded once and shared by every session.

Sessions hold only their filter state. An upload in one session ingests into the
store and rebuilds the dataset once; every session sees the new ``revision`` on
its next poll and redraws.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auth.access import LOCAL_ACCESS, Access, AccessDenied
from loaders import Campaign
from loaders.resends import statistics_date
from metrics.filters import search_index

# Bounds of ``CampaignSnapshot.derived``: its keys carry user input (dates, periods, filters),
# so an unbounded cache grows with every distinct value anyone asks for.
DERIVED_MAX_ENTRIES = 128
DERIVED_MAX_BYTES = 512 * 1024 * 1024


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
    _derived: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _derived_sizes: dict = field(default_factory=dict, repr=False)
    _derived_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    max_entries: int = field(default=DERIVED_MAX_ENTRIES, repr=False)
    max_bytes: int = field(default=DERIVED_MAX_BYTES, repr=False)
    # The unit a unit officer's snapshot is restricted to (``auth.access.Access.scope``); None: every unit.
    scope_unit: str | None = None
    # hazard_id → unit over the whole dataset (for a restricted snapshot only): which unit a hazard
    # annotation belongs to, when the hazard itself is not in this snapshot.
    hazard_units: pd.Series | None = field(default=None, repr=False)

    def derived(self, key: Hashable, build: Callable[[], object]) -> object:
        """``build()`` once per snapshot and key, shared by every session; dropped with the snapshot.

        Building holds the lock, so sessions asking at once compute it once (and a builder
        may itself ask for another derived value). The cache is bounded: at most
        ``max_entries`` values and roughly ``max_bytes``; the least recently used go first
        (the value just built always stays)."""
        with self._derived_lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
            value = build()
            self._derived[key] = value
            self._derived_sizes[key] = approximate_size(value)
            self._evict(keep=key)
            _return_freed_memory(collect=False)  # rare builds with large intermediates
            return value

    @property
    def derived_bytes(self) -> int:
        """The approximate memory held by the derived values."""
        with self._derived_lock:
            return sum(self._derived_sizes.values())

    def _evict(self, keep: Hashable) -> None:
        total = sum(self._derived_sizes.values())
        while len(self._derived) > 1 and (len(self._derived) > self.max_entries or total > self.max_bytes):
            oldest = next(iter(self._derived))
            if oldest == keep:  # only when the newest alone is over the byte budget
                break
            del self._derived[oldest]
            total -= self._derived_sizes.pop(oldest)

    @classmethod
    def build(cls, campaign: Campaign, revision: int) -> CampaignSnapshot:
        periods = received_periods(campaign)
        submissions = campaign.submissions
        # Units of the campaign: a unit whose only submission was held aside is not one yet.
        units = sorted(set(submissions.loc[~submissions["held_aside"].astype(bool), "unit"])) if not submissions.empty else []
        return cls(campaign, campaign.as_of, revision, search_index(campaign.unique_hazards), periods, units)

    def restricted_to(self, access: Access) -> CampaignSnapshot:
        """This snapshot as ``access`` may see it (itself for the committee and viewers)."""
        if access.sees_every_unit:
            return self
        campaign = access.scope(self.campaign)
        hazards = self.campaign.unique_hazards
        # One lookup for every unit's restricted snapshot (95,000 hazards: ~10 MB each otherwise).
        hazard_units = self.derived("hazard_units", lambda: pd.Series(hazards["unit"].to_numpy(),
                                                                      index=hazards["hazard_id"].to_numpy()))
        # Periods and the as-of date stay the city's: a unit officer's month list is the campaign's.
        return CampaignSnapshot(campaign, self.as_of, self.revision, search_index(campaign.unique_hazards), self.periods,
                                [access.unit], scope_unit=access.unit, hazard_units=hazard_units)

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

    # The officer of the process's own dataset: a session gets ``for_access`` with its own.
    access: Access = LOCAL_ACCESS

    def __init__(self, store_location: str | Path | None = None, as_of: dt.date | None = None,
                 today: Callable[[], dt.date] = dt.date.today):
        from store import Store  # imported here so components can be used on a bare Campaign too

        self._store = Store(store_location)
        self._fixed_as_of = as_of
        self._today = today
        self._lock = threading.RLock()
        # True from a store write until the snapshot built after it: a failed build leaves the
        # files stored but not shown, and the next upload must build even if it adds nothing.
        self._behind_store = False
        self._revision = 0
        self._restricted: dict = {}  # (revision, snapshot id, unit) → restricted snapshot, current revision only
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
        shared._restricted = {}
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
                        snapshot = CampaignSnapshot.build(self._snapshot.campaign.at(as_of), self._revision + 1)
                        self._revision, self._snapshot = snapshot.revision, snapshot
                    self._checked_on = today
        return self._snapshot

    def _set(self, snapshot: CampaignSnapshot) -> None:
        self._snapshot = snapshot
        self._checked_on = self._today() if self._fixed_as_of is None else None

    def _build(self, revision: int | None = None) -> CampaignSnapshot:
        campaign = self._store.campaign(self._fixed_as_of)  # without a date: the statistics date of the calendar's today
        if self._fixed_as_of is None and (as_of := default_as_of(campaign, self._today())) != campaign.as_of:
            campaign = campaign.at(as_of)  # a test's own "today"
        snapshot = CampaignSnapshot.build(campaign, self._revision if revision is None else revision)
        _return_freed_memory()
        return snapshot

    def check_export(self, unit: str | None, what: str) -> None:
        """An export of ``unit`` (None: the city) by this officer, or ``AccessDenied`` (recorded)."""
        try:
            self.access.check_unit(unit, "export", what)
        except AccessDenied as error:
            denied(self.store, self.access, "export", what, error.message)

    def record_export(self, file_name: str, what: str) -> None:
        """An export handed to the officer, in the audit log."""
        if self.store is not None:
            from store.audit import record

            record(self.store, self.access.actor, "export", target=file_name, detail=what)

    def for_access(self, access: Access, signed_in_at: float | None = None) -> SessionCampaign:
        """This dataset as one session's officer (signed in at ``signed_in_at``, epoch seconds) may see and change it."""
        return SessionCampaign(self, access, signed_in_at)

    def restricted_snapshot(self, access: Access) -> CampaignSnapshot:
        """The current snapshot as ``access`` may see it; restricted snapshots are built once per
        revision and unit for every session of that unit (only the current revision's are kept)."""
        snapshot = self.snapshot
        if access.sees_every_unit:
            return snapshot
        with self._lock:
            cache = self._restricted
            key = (snapshot.revision, id(snapshot), access.unit)
            if key not in cache:
                for old in [k for k in cache if k[:2] != key[:2]]:
                    del cache[old]
                cache[key] = snapshot.restricted_to(access)
            return cache[key]

    def ingest(self, files: list[tuple[str, bytes]], progress=None, parse=None, access: Access = LOCAL_ACCESS) -> list:
        """Store uploaded files and rebuild the shared dataset once; returns the ingest outcomes.

        One upload is all in or all out (``Store.ingest_upload``: one transaction, one batch, with
        its audit entries). ``access`` decides which files this officer may upload: a file of
        another unit is refused by name and not stored (``Access.upload_refusal``); a viewer's
        upload raises ``AccessDenied``. ``parse`` parses one new file; the server passes
        ``store.isolation.parse_isolated`` so a hostile file costs a child process, not the server.
        When every file was stored before, nothing changed: no rebuild, no new revision.

        The new snapshot is built first; only then are the revision and the snapshot swapped,
        together. If building fails, the exception propagates and sessions keep the previous
        snapshot with its revision (the stored files are part of the next successful build)."""
        if self._store is None:
            raise RuntimeError("this dataset is read-only")
        if not access.can_write:
            denied(self._store, access, "upload", "、".join(name for name, _ in files))
        with self._lock:
            outcomes = self._store.ingest_upload(files, parse=parse, authorize=access.upload_refusal,
                                                 actor=access.actor, progress=progress)
            self._behind_store |= any(outcome.status in ("accepted", "rejected") for outcome in outcomes)
            if not self._behind_store:
                return outcomes
            if progress:
                progress(len(files), len(files), "重新计算汇总数据…")
            snapshot = self._build(self._revision + 1)
            self._revision = snapshot.revision
            self._set(snapshot)
            self._behind_store = False
        return outcomes


def denied(store, access: Access, action: str, target: str = "", message: str | None = None) -> None:
    """Record a refused attempt in the audit log and raise ``AccessDenied``."""
    error = AccessDenied(message or ("只读账号不能修改数据（上传、批注、导出均不可用）。" if not access.can_write
                                     else "您的账号无权进行此操作。"), action, target)
    if store is not None:
        from store.audit import record

        record(store, access.actor, "denied", target=target, detail=f"{action}：{error.message}", outcome="refused")
    raise error


class SessionCampaign(SharedCampaign):
    """The process's shared dataset as one session's officer sees it: the data layer every view,
    export and upload of the session goes through (``auth.access``).

    ``snapshot`` is restricted to the officer's unit (built once per revision and unit, shared by
    that unit's sessions); ``ingest`` checks each file's unit; the annotation book and the export
    check the subject's unit. Everything else is the process's ``SharedCampaign``."""

    def __init__(self, base: SharedCampaign, access: Access, signed_in_at: float | None = None):  # noqa: D107
        # No SharedCampaign.__init__: nothing is built, the base's dataset is used.
        self.base = base
        self.access = access
        self.signed_in_at = signed_in_at

    @property
    def store(self):
        return self.base.store

    @property
    def snapshot(self) -> CampaignSnapshot:
        return self.base.restricted_snapshot(self.access)

    def ingest(self, files: list[tuple[str, bytes]], progress=None, parse=None, access: Access | None = None) -> list:
        return self.base.ingest(files, progress=progress, parse=parse, access=self.access)

    def for_access(self, access: Access, signed_in_at: float | None = None) -> SessionCampaign:
        return self.base.for_access(access, signed_in_at)

    def restricted_snapshot(self, access: Access) -> CampaignSnapshot:
        return self.base.restricted_snapshot(access)


def approximate_size(value: object, _depth: int = 0) -> int:
    """Roughly the bytes ``value`` holds: pandas objects measured deeply, containers summed."""
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        try:
            usage = value.memory_usage(deep=True)
        except Exception:  # noqa: BLE001 - an exotic dtype: a shallow estimate will do
            usage = value.memory_usage()
        return int(usage.sum()) if isinstance(usage, pd.Series) else int(usage)
    if _depth < 4:
        if isinstance(value, dict):
            return sys.getsizeof(value) + sum(approximate_size(k, _depth + 1) + approximate_size(v, _depth + 1)
                                              for k, v in value.items())
        if isinstance(value, (list, tuple, set, frozenset)):
            return sys.getsizeof(value) + sum(approximate_size(v, _depth + 1) for v in value)
        if hasattr(value, "__dict__") and not isinstance(value, type):
            return sys.getsizeof(value) + approximate_size(vars(value), _depth + 1)
    return sys.getsizeof(value)


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
