"""external.md §4 GitHub: the current text and the older one (two versions)."""

from dataclasses import replace

from ..rules import (
    ChangeRule,
    Clause,
    Effective,
    Fallback,
    Proration,
)
from .base import BASE, prorate

GITHUB = replace(
    BASE,
    name="GitHub",
    cancellation_effective_with_refund=Effective.PERIOD_END,
    fallback=Fallback.FREE_PLAN,
    proration=prorate(
        Proration.NONE, "external.md §4 GitHub: downgrades and cancellations at the cycle end"
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause(
            "external.md §4 GitHub: upgrades now and prorated, downgrades at the cycle end",
            "The text names no unit; by day is our reading.",
        ),
    ),
)


# Also the older GitHub text, as an example of policy versioning (version 2 is current).
GITHUB_OLDER = replace(
    GITHUB,
    cancellation_effective=Effective.IMMEDIATELY,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    proration=prorate(
        Proration.BY_DAY,
        "external.md §4 GitHub (older text): downgrade to Free at once, prorated refund",
    ),
)
