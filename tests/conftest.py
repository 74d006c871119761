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
