"""When a cancellation takes effect, how long access lasts, and what is still due."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from billing.money import ZERO

from .calendars import add_months, end_of_day, interval_months
from .rules import AccessEnd, Effective, PolicyRules
from .snapshot import SubscriptionSnapshot

# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_IMMEDIATELY, _END_OF_DAY = Effective.IMMEDIATELY, AccessEnd.END_OF_DAY


class Timing(NamedTuple):
    """Internal to the engine, made once per quote (a named tuple: cheap to build)."""

    effective: Effective
    ends_at: datetime
    access_until: datetime
    notice_applied: bool
    amount_due: Decimal
    # What is due and why: (label, amount due, clause); shown as 0.00 lines of the refund.
    due: tuple[tuple[str, Decimal, str], ...]


def cancellation_timing(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    time_refund: bool,
) -> Timing:
    """The end, access and amount due (notice periods, an unpaid current period) of a
    cancellation at `at`."""
    effective = (
        rules.cancellation_effective_with_refund if time_refund else rules.cancellation_effective
    )
    currency = snapshot.currency
    net_price = snapshot.index.net_price
    notice_applied = False
    due: list[tuple[str, Decimal, str]] = []
    if effective == _IMMEDIATELY:
        ends_at = at
    elif in_trial:
        ends_at = snapshot.trial_end or snapshot.period_end
    else:
        # A period already over (a renewal not yet recorded) ends now, not in the past.
        ends_at = max(snapshot.period_end, at)
        notice = rules.cancellation_notice
        if notice is not None and (snapshot.period_end - at).days < notice.days:
            ends_at = add_months(snapshot.period_end, interval_months(snapshot.interval))
            notice_applied = True
            due.append(
                (
                    f"Requested less than {notice.days} days before renewal: the next period "
                    f"({net_price} {currency}) is due",
                    net_price,
                    notice.clause.ref,
                )
            )
        if rules.access_ends == _END_OF_DAY and ends_at > at:
            # "the 15th is the last day": the whole day the period ends on.
            key = ("end_of_day", ends_at, rules.time_zone)
            memo = snapshot.index.memo
            if key not in memo:
                memo[key] = end_of_day(ends_at, rules.time_zone)
            ends_at = memo[key]
    unpaid = rules.unpaid_period_due
    if (
        unpaid is not None
        and not in_trial
        and not time_refund
        and snapshot.period_start <= at < snapshot.period_end
        and not snapshot.index.current_period_paid(at)
    ):
        due.insert(
            0,
            (
                f"The current period ({snapshot.period_start:%d %B %Y} to "
                f"{snapshot.period_end:%d %B %Y}) is unpaid: "
                f"{net_price} {currency} is due",
                net_price,
                unpaid.ref,
            ),
        )
    access_until = at if rules.access_until == _IMMEDIATELY else ends_at
    return Timing(
        effective,
        ends_at,
        min(access_until, ends_at),
        notice_applied,
        sum((amount for _, amount, _ in due), ZERO),
        tuple(due),
    )
