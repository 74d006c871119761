"""The campaign dataset as built at a data revision, kept in the store for every process and machine.

Building the campaign from every stored result takes ~14 s at province scale (95,000 hazards); a
server starting, or a process catching up with a change another process made, loads the built
frames instead (~1 s). One process builds per change: it first claims the revision (a row
without payload), so the others wait for its result rather than building the same thing.

The cache is keyed by the data revision (``Store.data_revision``) and a fingerprint of the code
that builds the dataset (the loaders' and the codec's source, the pandas/pyarrow/numpy and
Python versions): an upgrade, a new parser or any stored change makes it stale, and a stale,
missing or unreadable cache only means building again (the cold path). Only the latest revision
is kept. The payload is a sequence of pickles (compressed with zstd), one per frame column (see
``_write_campaign``): the store is trusted like the code, since whoever can write it can change
every figure anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pickle
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import lru_cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import loaders
from loaders import Campaign

from .codec import CODEC_FORMAT
from .db import Store, campaign_cache

log = logging.getLogger(__name__)

# Bump when what is pickled changes shape in a way the fingerprint cannot see.
# 2: one pickle per frame column (1: the campaign in one pickle).
CACHE_FORMAT = 2
_CODEC = "zstd"
# A claim older than this is taken to be abandoned (its process died while building): build.
CLAIM_TIMEOUT_S = 120


@lru_cache(maxsize=1)
def builder_fingerprint() -> str:
    """What the built frames depend on besides the stored data: the code that builds them and
    the libraries that hold them."""
    import numpy
    import pandas
    import pyarrow

    digest = hashlib.sha256()
    sources = sorted(Path(loaders.__file__).parent.glob("*.py")) + [Path(__file__).with_name("codec.py")]
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    versions = (CACHE_FORMAT, CODEC_FORMAT, loaders.PARSER_VERSION, platform.python_version(),
                pandas.__version__, pyarrow.__version__, numpy.__version__)
    digest.update(repr(versions).encode())
    return digest.hexdigest()[:32]


def cache_key(revision: int) -> str:
    return f"{builder_fingerprint()}:{revision}"


@dataclass
class CacheState:
    """What the store holds for one revision: nothing, a claim (someone is building) or the dataset."""

    revision: int
    claimed_at: dt.datetime | None = None
    built: bool = False

    @property
    def claim_is_live(self) -> bool:
        if self.claimed_at is None or self.built:
            return False
        claimed = self.claimed_at if self.claimed_at.tzinfo else self.claimed_at.replace(tzinfo=dt.timezone.utc)
        return (dt.datetime.now(dt.timezone.utc) - claimed).total_seconds() < CLAIM_TIMEOUT_S


def state_of(store: Store, revision: int) -> CacheState:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(campaign_cache.c.claimed_at, campaign_cache.c.payload.is_not(None).label("built"))
                           .where(campaign_cache.c.key == cache_key(revision))).first()
    if row is None:
        return CacheState(revision)
    return CacheState(revision, row.claimed_at, bool(row.built))


def load(store: Store, revision: int) -> Campaign | None:
    """The campaign built at ``revision`` by this code, or None (not built, or unreadable)."""
    with store.engine.connect() as conn:
        payload = conn.execute(sa.select(campaign_cache.c.payload)
                               .where(campaign_cache.c.key == cache_key(revision))).scalar()
    if payload is None:
        return None
    try:
        import pyarrow

        # Unpickled as it is decompressed: the 227 MB of pickle bytes (province scale) never exist
        # at once beside the campaign (load peak 435 → 247 MB, 0.6 → 0.4 s).
        stream = pyarrow.CompressedInputStream(pyarrow.BufferReader(memoryview(payload)[8:]), _CODEC)
        # (The 8-byte length before the stream is not needed to read it; kept: older entries have it.)
        return _read_campaign(stream)
    except Exception as error:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
        log.warning("campaign cache of revision %s unreadable (%s): building again", revision, error)
        return None


def _write_campaign(campaign: Campaign, stream) -> None:
    """Pickle ``campaign`` into ``stream`` a frame column at a time.

    One pickle of the whole campaign keeps every object it reduced (the copies pyarrow and pandas
    hand it) alive in its memo until the end: +237 MB and 1.7 s at province scale. A pickle per
    column holds one column's at most: +27 MB and 0.2 s.
    """
    names = [field.name for field in dataclass_fields(Campaign)]
    pickle.dump(names, stream, protocol=5)
    for name in names:
        value = getattr(campaign, name)
        if isinstance(value, pd.DataFrame):
            # The empty frame keeps the columns' names, dtypes and the frame's attrs.
            pickle.dump(("frame", value.iloc[:0], value.index), stream, protocol=5)
            for position in range(value.shape[1]):
                pickle.dump(value.iloc[:, position].array, stream, protocol=5)
        else:
            pickle.dump(("value", value), stream, protocol=5)


def _read_campaign(stream) -> Campaign:
    """The campaign ``_write_campaign`` wrote."""
    values = {}
    for name in pickle.load(stream):
        kind, *parts = pickle.load(stream)
        if kind == "frame":
            empty, index = parts
            columns = [pickle.load(stream) for _ in range(empty.shape[1])]
            frame = pd.DataFrame(dict(enumerate(columns)), index=index, copy=False)
            frame.columns = empty.columns
            frame.attrs = empty.attrs
            values[name] = frame
        else:
            values[name] = parts[0]
    return Campaign(**values)


def claim(store: Store, revision: int) -> bool:
    """Say this process builds ``revision``; False when another process holds a live claim or
    the dataset is there already."""
    key, now = cache_key(revision), dt.datetime.now(dt.timezone.utc)
    try:
        with store._write() as conn:
            row = conn.execute(sa.select(campaign_cache.c.claimed_at, campaign_cache.c.payload.is_not(None).label("built"))
                               .where(campaign_cache.c.key == key)).first()
            if row is not None:
                if row.built or CacheState(revision, row.claimed_at).claim_is_live:
                    return False
                conn.execute(campaign_cache.update().where(campaign_cache.c.key == key).values(claimed_at=now))
            else:
                conn.execute(campaign_cache.insert().values(key=key, revision=revision, claimed_at=now))
        return True
    except IntegrityError:  # (not SQLite) another process claimed it at the same moment
        return False


def save(store: Store, revision: int, campaign: Campaign) -> None:
    """Keep ``campaign`` as the dataset of ``revision``; older revisions' entries go."""
    import pyarrow

    # Compressed as it is pickled (as ``load`` reads it): no pickle bytes in memory at once.
    sink = pyarrow.BufferOutputStream()
    with pyarrow.CompressedOutputStream(sink, _CODEC) as stream:
        _write_campaign(campaign, stream)
        size = stream.tell()
    payload = size.to_bytes(8, "little") + sink.getvalue().to_pybytes()
    key, now = cache_key(revision), dt.datetime.now(dt.timezone.utc)
    for attempt in range(2):
        try:
            with store._write() as conn:
                # Older revisions, and this one as another program version built it (or a claim).
                conn.execute(campaign_cache.delete().where(campaign_cache.c.revision <= revision))
                conn.execute(campaign_cache.insert().values(key=key, revision=revision, claimed_at=now, built_at=now,
                                                            payload=payload))
            return
        except IntegrityError:  # (not SQLite) a concurrent save of the same key: once more
            if attempt:
                raise


def release(store: Store, revision: int) -> None:
    """Drop this process's claim on ``revision`` (its build failed): others build instead of waiting."""
    with store._write() as conn:
        conn.execute(campaign_cache.delete().where(campaign_cache.c.key == cache_key(revision),
                                                   campaign_cache.c.payload.is_(None)))


def build_and_save(store: Store, as_of: dt.date | None = None) -> tuple[Campaign, int]:
    """Build the campaign from every stored result (the cold path) and keep it for the others.

    The revision read is claimed (``campaign_for`` claims it first, before the results are read;
    a claim already held is this build's own, or a live one another process will not outrun)."""
    results, revision = store.results_at_revision()
    claimed = claim(store, revision)
    try:
        campaign = loaders.build_campaign(results, as_of)
    except BaseException:
        if claimed:
            release(store, revision)
        raise
    del results
    try:
        save(store, revision, campaign)
    except Exception as error:  # noqa: BLE001 - the dataset is built; only the others lose the shortcut
        log.warning("campaign cache of revision %s not saved: %s", revision, error)
    return campaign, revision


def build_in_child(store: Store, as_of: dt.date | None = None, timeout_s: float = 1800) -> bool:
    """``build_and_save`` in another process, so a server's sessions keep the interpreter (the build
    holds it for the whole of a province-scale build) and its peak memory is the child's, returned
    when it exits. True when the child kept a dataset in the store; the caller then loads it.

    The child comes from the fork server that parses uploads (``store.isolation``), which has the
    loaders imported: a data change reaches the sessions 2–3 s sooner than from a spawned one."""
    from store import isolation

    child = isolation.child_process(_build_and_save_at, (store.url, as_of), name="hazardboard-build")
    child.start()
    child.join(timeout_s)
    if child.is_alive():
        child.kill()
        child.join()
    if child.exitcode != 0:
        log.warning("building the campaign in a child process failed (exit code %s): building here", child.exitcode)
        return False
    return True


def _build_and_save_at(url: str, as_of: dt.date | None) -> None:
    with Store(url) as store:
        build_and_save(store, as_of)


class ClaimedElsewhere(Exception):
    """Another process claimed the revision first and is building it (``campaign_for(yield_to_claim=True)``)."""


def campaign_for(store: Store, as_of: dt.date | None = None, wait_s: float = 0,
                 today: Callable[[], dt.date] = dt.date.today, in_child: bool = False,
                 yield_to_claim: bool = False) -> tuple[Campaign, int]:
    """The campaign of the store now and its data revision: from the cache when this code built
    it at this revision, else built (and cached; ``in_child``: in another process, see
    ``build_in_child``). ``as_of`` None: the statistics date of ``today()``. ``wait_s``: how long
    to wait for another process that claimed the revision; after that this one builds too, or,
    with ``yield_to_claim``, raises ``ClaimedElsewhere`` (a server catching up keeps its dataset
    and looks again on its next poll).

    The revision is claimed before anything is read: reading every stored result, and a child's
    start, take seconds at province scale, and another process that found no claim meanwhile
    would build the same dataset beside this one (twice the memory and the CPU, measured in the
    load benchmark: two servers each building after one upload)."""
    revision = store.data_revision()
    deadline = time.monotonic() + wait_s
    found_built = False
    while True:
        campaign = load(store, revision)
        if campaign is not None:
            return _dated(campaign, as_of, today), revision
        claimed = claim(store, revision)
        if claimed:
            break
        state = state_of(store, revision)
        if state.built:
            if found_built:
                break  # there, but unreadable (``load`` said why): built again and replaced
            found_built = True
            continue  # saved between the load and the claim
        if not state.claim_is_live:
            break  # (a claim made at the same moment, then dropped)
        if time.monotonic() >= deadline:
            if yield_to_claim:
                raise ClaimedElsewhere(revision)
            break
        time.sleep(0.5)
    try:
        if in_child and build_in_child(store, as_of):
            current = store.data_revision()  # (the child built the store as it found it)
            if (campaign := load(store, current)) is not None:
                return _dated(campaign, as_of, today), current
        campaign, built_revision = build_and_save(store, as_of or None)
    except BaseException:
        if claimed:
            release(store, revision)
        raise
    return _dated(campaign, as_of, today), built_revision


def _dated(campaign: Campaign, as_of: dt.date | None, today: Callable[[], dt.date]) -> Campaign:
    target = as_of or campaign.statistics_date(today())
    return campaign if target == campaign.as_of else campaign.at(target)
