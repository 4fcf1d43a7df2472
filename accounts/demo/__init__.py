"""Demo data for local use and for the admin tests: `python manage.py seed_demo`.

Invariants:
- Deterministic: each workspace is drawn from its own random stream, seeded with the
  `--seed` and its slug, so the same `--seed` and `--now` give the same rows, whatever the
  chunking and whichever workspaces already exist.
- Idempotent: every demo workspace has a fixed slug (`demo-000042`, `acme`, ...); a run
  only creates the workspaces whose slug does not exist yet, so a second run adds nothing
  and a run with a larger `--workspaces` only adds the missing ones.
- Fast at scale: rows are built in memory (factory-boy `.build()` for the main models,
  plain constructors for the high-volume children) and written with `bulk_create`, one
  chunk of workspaces per transaction; the customers' password is hashed once.
- The demo logins (`DEMO_LOGINS`) are fixed and for local use only; their passwords are
  set directly, without the password validators.
"""

from .catalogue import CUSTOMER_PASSWORD, DEMO_LOGINS, DemoLogin
from .seed import SeedSummary, seed_demo

__all__ = ["CUSTOMER_PASSWORD", "DEMO_LOGINS", "DemoLogin", "SeedSummary", "seed_demo"]
