"""Fixtures shared by the test modules: the bundled sample campaign, loaded once per test session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from components.data import SharedCampaign
from loaders import load_paths

SAMPLE_CAMPAIGN = Path(__file__).resolve().parents[1] / "sample_data" / "campaign"
# The filing deadline of the sample's last period (2023-12): the date the dashboard shows it at.
SAMPLE_AS_OF = dt.date(2024, 1, 23)


@pytest.fixture(scope="session")
def shared() -> SharedCampaign:
    """The sample campaign as the server shares it between sessions (read-only)."""
    return SharedCampaign.from_campaign(load_paths([SAMPLE_CAMPAIGN]).at(SAMPLE_AS_OF))


@pytest.fixture(scope="session")
def campaign(shared):
    return shared.snapshot.campaign


# The briefing pack of August 2023 (issue 9), 全市 and one county, at the sample's pinned as-of date.
BRIEFING_PERIOD = "2023-08"
BRIEFING_UNIT = "会昌县"


@pytest.fixture(scope="session")
def figures(campaign):
    from metrics.briefing import briefing_figures

    return briefing_figures(campaign, BRIEFING_PERIOD)


@pytest.fixture(scope="session")
def unit_figures(campaign):
    from metrics.briefing import briefing_figures

    return briefing_figures(campaign, BRIEFING_PERIOD, BRIEFING_UNIT)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes():
    """Argon2id at the lowest cost in this test process: the tests check what is stored and
    checked, not how long a hash takes (the library's defaults cost ~200 ms a hash, and the users
    tests make dozens). Servers the browser tests start hash at the defaults."""
    from argon2 import PasswordHasher

    import auth.users

    saved = auth.users._HASHER
    auth.users._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth.users._HASHER = saved


# --- PostgreSQL (tests/postgres.py): a throwaway cluster per test process, a database per test ---

@pytest.fixture(scope="session")
def postgresql_cluster():
    """This test process's PostgreSQL cluster, started when a test first needs it. Without
    PostgreSQL installed the test FAILS (CI must prove the PostgreSQL store, not skip it)."""
    from tests import postgres

    try:
        return postgres.cluster()
    except postgres.PostgresUnavailable as error:
        reason = str(error)
    pytest.fail(reason, pytrace=False)


@pytest.fixture
def postgresql_database(postgresql_cluster):
    """A factory of fresh empty databases: each call gives a new one's URL
    (``postgresql://postgres@127.0.0.1:PORT/hb_<uuid>``); they are dropped after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(postgresql_cluster.create_database())
        return made[-1]

    yield make
    for url in made:
        postgresql_cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path) -> str:
    """A ``--store`` value for an empty store, once per backend: a SQLite folder, or a fresh
    PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgresql_database")()


def recording_serve(calls: list[dict]):
    """A stand-in for ``pn.serve`` that records its keyword arguments and returns a server whose
    loop starts at once (``dashboards.app.serve`` schedules its warm-up, then starts it)."""
    from types import SimpleNamespace

    def serve(routes, **kwargs):
        calls.append(kwargs)
        loop = SimpleNamespace(call_later=lambda *args: None, start=lambda: None)
        return SimpleNamespace(io_loop=loop, start=lambda: None)

    return serve
