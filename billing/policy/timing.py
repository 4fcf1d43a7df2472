"""When a cancellation takes effect, how long access lasts, and what is still due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from billing.money import ZERO

from .calendars import add_months, interval_months
from .rules import Effective, PolicyRules
from .snapshot import SubscriptionSnapshot


@dataclass(frozen=True)
class Timing:
    effective: Effective
    ends_at: datetime
    access_until: datetime
    notice_applied: bool
    amount_due: Decimal


def cancellation_timing(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    time_refund: bool,
) -> Timing:
    """The end, access and amount due (notice periods) of a cancellation at `at`."""
    effective = (
        rules.cancellation_effective_with_refund if time_refund else rules.cancellation_effective
    )
    notice_applied = False
    amount_due = ZERO
    if effective == Effective.IMMEDIATELY:
        ends_at = at
    elif in_trial:
        ends_at = snapshot.trial_end or snapshot.period_end
    else:
        # A period already over (a renewal not yet recorded) ends now, not in the past.
        ends_at = max(snapshot.period_end, at)
        notice = rules.cancellation_notice
        if notice is not None and at > snapshot.period_end - timedelta(days=notice.days):
            ends_at = add_months(snapshot.period_end, interval_months(snapshot.interval))
            notice_applied = True
            amount_due = snapshot.price * (1 - snapshot.discount_percent / 100)
    access_until = at if rules.access_until == Effective.IMMEDIATELY else ends_at
    return Timing(effective, ends_at, min(access_until, ends_at), notice_applied, amount_due)
