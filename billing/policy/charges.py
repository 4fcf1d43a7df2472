"""What a cancellation charges (`ChargeRule`s): a share of the remaining commitment (an
early-termination fee), usage or seat-time billed in arrears. Added to the quote's `amount_due` as
lines naming their clause.

Pure. A commitment is a term separate from the billing interval (annual paid monthly,
multi-year): `snapshot.commitment_end`. What is left of it is the billing periods that
start at or after the subscription's end (the current period is paid, or due on its own)
and before the commitment ends, at the discounted price. A charge with nothing to charge
gives no line.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from billing.money import round_money

from .calendars import add_months, interval_months
from .rules import ChargeKind, PolicyRules
from .seats import seat_time_due
from .snapshot import SubscriptionSnapshot

HUNDRED = Decimal(100)
# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_COMMITMENT, _SEAT_DAYS = ChargeKind.REMAINING_COMMITMENT, ChargeKind.SEAT_DAYS
PERIOD_NAMES = {1: ("month", "months"), 12: ("year", "years")}


def remaining_periods(snapshot: SubscriptionSnapshot, ends_at: datetime) -> int:
    """Billing periods of the commitment that start at or after `ends_at`."""
    if snapshot.commitment_end is None:
        return 0
    months = interval_months(snapshot.interval)
    count = 0
    k = 0
    while True:
        # Counted from the period end each time, so a 31st anchor does not drift to the 28th.
        start = add_months(snapshot.period_end, months * k)
        if start >= snapshot.commitment_end:
            return count
        if start >= ends_at:
            count += 1
        k += 1


def cancellation_charges(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, ends_at: datetime, *, released: bool
) -> list[tuple[str, Decimal, str]]:
    """(label, exact amount, clause) per charge the cancellation owes. `released`: the
    cancellation refunds unused time, which releases the commitment."""
    lines = []
    currency = snapshot.currency
    for charge in rules.charges:
        if charge.kind == _COMMITMENT:
            if released:
                continue
            periods = remaining_periods(snapshot, ends_at)
            base = snapshot.price * (1 - snapshot.discount_percent / HUNDRED) * periods
            one, many = PERIOD_NAMES[interval_months(snapshot.interval)]
            what = f"{periods} remaining {one if periods == 1 else many} of the commitment"
        elif charge.kind == _SEAT_DAYS and rules.seats is not None:
            base, time = seat_time_due(rules.seats, snapshot, ends_at)
            what = f"{time} not yet billed"
        else:
            base = snapshot.unbilled_usage
            what = "usage not yet billed"
        if base <= 0 or charge.percent == 0:
            continue
        share = "" if charge.percent == HUNDRED else f"{charge.percent.normalize():f}% of "
        label = f"{charge.label}: {share}{what} ({round_money(base, currency)} {currency})"
        lines.append((label, base * charge.percent / HUNDRED, charge.clause.ref))
    return lines
