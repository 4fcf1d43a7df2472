import datetime as dt

import pytest

from accounts.demo import SeedSummary, seed_demo

DEMO_NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo_data(db) -> SeedSummary:
    """A small demo data set: 30 workspaces cover every status on every policy's plans."""
    return seed_demo(workspaces=30, seed=7, now=DEMO_NOW)
