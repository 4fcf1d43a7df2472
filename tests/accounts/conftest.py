import datetime as dt

import pytest

from accounts.demo import SeedSummary, seed_demo

DEMO_NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The demo logins are hashed on every seed; PBKDF2 would dominate the test time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_data(db) -> SeedSummary:
    """A small demo data set: 30 workspaces cover every status on every policy's plans."""
    return seed_demo(workspaces=30, seed=7, now=DEMO_NOW)
