"""The campaign dataset of this server process, loaded once and shared by every session.

Sessions hold only their filter state. The store carries the data revision: an upload in any
session of any process, ``hazardboard ingest`` from the command line or another machine on the
same database advances it. Sessions poll ``SharedCampaign.refresh`` (a cheap read at most every
``STORE_POLL_S``, in a background thread); when the store moved, the process takes the new
dataset once for all its sessions (from the store's campaign cache when the process that made
the change built it, ``store.campaign_cache``) and every session sees the new ``revision`` on its
next poll, redraws, and says what changed (``describe_change``).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auth.access import LOCAL_ACCESS, Access, AccessDenied
from components.i18n import register_labels, tr
from loaders import Campaign
from loaders.resends import statistics_date
from metrics.filters import search_index

log = logging.getLogger(__name__)

# Bounds of ``CampaignSnapshot.derived``: its keys carry user input (dates, periods, filters),
# so an unbounded cache grows with every distinct value anyone asks for.
DERIVED_MAX_ENTRIES = 128
DERIVED_MAX_BYTES = 512 * 1024 * 1024
# How often a process asks the store whether its data moved (one small read, in a background thread).
STORE_POLL_S = 1.0
# At start-up, how long to wait for another process that is building the store's dataset.
CLAIM_WAIT_AT_START_S = 60
# After a new dataset replaces the old one, when to give the old one's memory back to the OS:
# by then the open sessions (polling every second) have redrawn on the new one and let go of the old.
TRIM_AFTER_SWAP_S = 15.0


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
    # The store's data revision this dataset was built at (None: not from a store).
    store_revision: int | None = None

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
    def build(cls, campaign: Campaign, revision: int, store_revision: int | None = None) -> CampaignSnapshot:
        periods = received_periods(campaign)
        submissions = campaign.submissions
        # Units of the campaign: a unit whose only submission was held aside is not one yet.
        units = sorted(set(submissions.loc[~submissions["held_aside"].astype(bool), "unit"])) if not submissions.empty else []
        return cls(campaign, campaign.as_of, revision, search_index(campaign.unique_hazards), periods, units,
                   store_revision=store_revision)

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
                                [access.unit], scope_unit=access.unit, hazard_units=hazard_units,
                                store_revision=self.store_revision)

    @property
    def is_empty(self) -> bool:
        return self.campaign.submissions.empty

    @property
    def latest_period(self) -> str | None:
        return self.periods[-1] if self.periods else None


class SharedCampaign:
    """Owns the store of this process and the current snapshot; thread-safe.

    The snapshot follows the store (see the module docstring): ``refresh`` is cheap and never
    blocks; ``catch_up`` does the work. Builds are serialised by ``_build_lock``; the swap of
    snapshot and revision happens together under ``_lock``, so a session sees the old dataset or
    the new one, never a half-built one.

    Without a fixed as-of date the statistics date follows the calendar while the server
    runs: the first ``snapshot`` read on a new day re-dates the dataset (``Campaign.at``,
    only the deadline columns change; nothing is re-read from the store) and bumps the
    revision, so sessions redraw on their next poll. Only the current day's snapshot is kept.
    """

    # The officer of the process's own dataset: a session gets ``for_access`` with its own.
    access: Access = LOCAL_ACCESS

    def __init__(self, store_location: str | Path | None = None, as_of: dt.date | None = None,
                 today: Callable[[], dt.date] = dt.date.today, build_in_child: bool = False):
        from store import Store  # imported here so components can be used on a bare Campaign too

        self._store = Store(store_location)
        self._fixed_as_of = as_of
        self._today = today
        # A server builds in a child process (``store.campaign_cache.build_in_child``): its sessions
        # keep the interpreter during a build, and the build's peak memory is given back.
        self.build_in_child = build_in_child
        self._init_state()
        self._swap(self._build(wait_s=CLAIM_WAIT_AT_START_S))

    def _init_state(self) -> None:
        self._lock = threading.RLock()  # the swap; held briefly
        self._build_lock = threading.Lock()  # one build at a time (an upload's, the refresh's)
        self._revision = 0
        self._restricted: dict = {}  # (revision, snapshot id, unit) → restricted snapshot, current revision only
        self._checking = False
        self._last_check = 0.0
        self._pending_revision: int | None = None
        self._snapshot: CampaignSnapshot | None = None
        self._trim_at: float | None = None  # when the replaced dataset's memory is given back

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> SharedCampaign:
        """A read-only shared dataset over an already built campaign (notebooks, tests)."""
        shared = cls.__new__(cls)
        shared._store = None
        shared.build_in_child = False
        shared._fixed_as_of = campaign.as_of
        shared._today = dt.date.today
        shared._init_state()
        shared._swap(CampaignSnapshot.build(campaign, 0))
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
                    current = self._snapshot
                    as_of = default_as_of(current.campaign, today, current.periods)
                    if as_of != current.as_of:
                        self._swap(CampaignSnapshot.build(current.campaign.at(as_of), 0, current.store_revision))
                    self._checked_on = today
        return self._snapshot

    def _swap(self, snapshot: CampaignSnapshot) -> None:
        """Make ``snapshot`` the current one, with the next revision: sessions redraw on their next poll."""
        with self._lock:
            if self._snapshot is not None:
                self._revision += 1
                self._trim_at = time.monotonic() + TRIM_AFTER_SWAP_S
            snapshot.revision = self._revision
            self._snapshot = snapshot
            self._checked_on = self._today() if self._fixed_as_of is None else None

    def _build(self, wait_s: float = 0, yield_to_claim: bool = False) -> CampaignSnapshot:
        from store.campaign_cache import campaign_for

        # Without a date: the statistics date of ``self._today()`` (a test's own "today").
        campaign, store_revision = campaign_for(self._store, self._fixed_as_of, wait_s=wait_s, today=self._today,
                                                in_child=self.build_in_child, yield_to_claim=yield_to_claim)
        snapshot = CampaignSnapshot.build(campaign, self._revision, store_revision)
        # A dataset built in a child (or read from the cache) left only frames here, no reference
        # cycles: the collector found none, and cost a server ~0.2 s of its start-up.
        _return_freed_memory(collect=not self.build_in_child)
        return snapshot

    # --- following the store ----------------------------------------------------------------

    def refresh(self) -> None:
        """Called by every session's poll: at most every ``STORE_POLL_S`` per process, a background
        thread checks the store's revision and catches up (``catch_up``). Never blocks."""
        if self._store is None:
            return
        now = time.monotonic()
        with self._lock:
            if self._checking or now - self._last_check < STORE_POLL_S:
                return
            self._checking, self._last_check = True, now
        threading.Thread(target=self._catch_up_in_background, name="hazardboard-refresh", daemon=True).start()

    def _catch_up_in_background(self) -> None:
        try:
            self.catch_up()
            if self._trim_at is not None and time.monotonic() >= self._trim_at:
                self._trim_at = None
                # Without it the process would keep the old dataset's pages as well as the new one's.
                _return_freed_memory()
        except Exception:  # noqa: BLE001 - the store unreachable for a moment: sessions keep the dataset they have
            log.exception("could not follow the store's data revision")
        finally:
            with self._lock:
                self._checking = False
                self._last_check = time.monotonic()

    def catch_up(self, settle: bool = True) -> bool:
        """Take the store's current dataset if it moved since this one was built; True if it did.

        The dataset built by the process that made the change is loaded from the store's cache.
        Without one, this process builds it, unless another holds a live claim (it is building:
        wait for its result), or, with ``settle``, the revision is new since the last check (the
        store may still be changing: ``hazardboard ingest`` stores file by file)."""
        from store import campaign_cache

        store = self._store
        revision = store.data_revision()
        if revision == self._snapshot.store_revision:
            self._pending_revision = None
            return False
        cached = campaign_cache.state_of(store, revision)
        if not cached.built:
            if cached.claim_is_live:
                return False
            if settle and self._pending_revision != revision:
                self._pending_revision = revision
                return False
        with self._build_lock:
            if store.data_revision() == self._snapshot.store_revision:  # an upload here built it meanwhile
                return False
            try:
                snapshot = self._build(yield_to_claim=True)
            except campaign_cache.ClaimedElsewhere:  # another process claimed it since: its result, next poll
                return False
            self._swap(snapshot)
        self._pending_revision = None
        return True

    # --- the session's officer ----------------------------------------------------------------

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

        The new snapshot is built first (and kept in the store's cache for the other processes);
        only then are the revision and the snapshot swapped, together. If building fails, the
        exception propagates and sessions keep the previous snapshot with its revision (the
        stored files are part of the next successful build: the store's revision has moved)."""
        if self._store is None:
            raise RuntimeError("this dataset is read-only")
        if not access.can_write:
            denied(self._store, access, "upload", "、".join(name for name, _ in files))
        with self._build_lock:
            outcomes = self._store.ingest_upload(files, parse=parse, authorize=access.upload_refusal,
                                                 actor=access.actor, progress=progress)
            if self._store.data_revision() == self._snapshot.store_revision:
                return outcomes
            if progress:
                progress(len(files), len(files), "重新计算汇总数据…")
            self._swap(self._build())
        return outcomes


register_labels({
    "data_updated": ("数据已更新", "Data updated"),
    "change_files": ("新增{count}个文件", "{count} new files"),
    "change_date": ("统计日期{old}→{new}", "statistics date {old} → {new}"),
    "change_hazards": ("重大隐患{old}→{new}条", "major hazards {old} → {new}"),
    "change_none": ("重新计算", "recalculated"),
})


def describe_change(old: CampaignSnapshot, new: CampaignSnapshot, lang: str = "zh") -> str:
    """数据已更新 and what changed, in one line: files added, the statistics date, the hazard count
    (of the snapshots as the session sees them: a unit officer hears of their unit's files only)."""
    parts = []
    added = len(set(new.campaign.files["sha256"]) - set(old.campaign.files["sha256"]))
    if added:
        parts.append(tr("change_files", lang).format(count=f"{added:,}"))
    if new.as_of != old.as_of:
        parts.append(tr("change_date", lang).format(old=old.as_of.isoformat(), new=new.as_of.isoformat()))
    before, after = len(old.campaign.unique_hazards), len(new.campaign.unique_hazards)
    if before != after:
        parts.append(tr("change_hazards", lang).format(old=f"{before:,}", new=f"{after:,}"))
    separator = "；" if lang == "zh" else "; "
    return f"{tr('data_updated', lang)}{'：' if lang == 'zh' else ': '}{separator.join(parts) or tr('change_none', lang)}"


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

    def refresh(self) -> None:
        self.base.refresh()

    def catch_up(self, settle: bool = True) -> bool:
        return self.base.catch_up(settle)


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


def start_loading_shared_campaign(store_location: str | Path, as_of: dt.date | None = None) -> threading.Thread:
    """Build the process-wide dataset of a store (``get_shared_campaign(..., build_in_child=True)``) in a
    thread, while the server imports Panel and its pages: reading the store and decompressing the
    cached dataset let go of the interpreter, so ~0.25 s of a province-scale start-up overlaps the
    imports on the other core. The server's own call waits for it, and raises a failure again itself.
    Not before a fork (``--num-procs``): a thread does not cross it."""

    def load() -> None:
        try:
            get_shared_campaign(store_location, as_of, build_in_child=True)
        except Exception:  # noqa: BLE001 - the server's own call raises it, with the store named
            log.debug("loading the dataset ahead of the server failed", exc_info=True)

    thread = threading.Thread(target=load, name="hazardboard-load", daemon=True)
    thread.start()
    return thread


def get_shared_campaign(store_location: str | Path | None = None, as_of: dt.date | None = None,
                        build_in_child: bool = False) -> SharedCampaign:
    """The process-wide dataset for a store, built on first use."""
    key = (str(store_location), as_of)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = SharedCampaign(store_location, as_of, build_in_child=build_in_child)
        return _SHARED[key]
