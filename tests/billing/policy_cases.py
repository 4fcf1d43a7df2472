"""Snapshot builders shared by the policy generality and example-policy tests (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from billing.policy.calendars import add_months, interval_months
from billing.policy.engine import quote_cancellation
from billing.policy.rules import Interval, PaymentKind, PolicyRules
from billing.policy.snapshot import PaymentSnapshot, SubscriptionSnapshot

D = Decimal
K = PaymentKind


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


JAN_1_2022 = t(2022, 1, 1)


def pay(amount: str, paid_at: datetime, ref: str = "", kind: PaymentKind = K.SUBSCRIPTION):
    return PaymentSnapshot(ref or f"p-{paid_at:%Y%m%d}", kind, D(amount), paid_at)


def snap(
    *,
    interval: Interval = Interval.MONTH,
    price: str = "100.00",
    start: datetime = JAN_1_2022,
    period_start: datetime | None = None,
    trial_end: datetime | None = None,
    payments: tuple[PaymentSnapshot, ...] | None = None,
    **kw,
) -> SubscriptionSnapshot:
    """A subscription whose current period starts at `period_start` (default: the first
    paid moment), paid by one payment at its start unless `payments` is given."""
    period_start = period_start or trial_end or start
    period_end = add_months(period_start, interval_months(interval))
    if payments is None:
        payments = (pay(price, period_start, "current"),)
    return SubscriptionSnapshot(
        currency=kw.pop("currency", "USD"),
        interval=interval,
        price=D(price),
        subscribed_at=start,
        trial_end=trial_end,
        period_start=period_start,
        period_end=period_end,
        payments=payments,
        **kw,
    )


def monthly_history(start: datetime, months: int, price: str = "100.00"):
    """`months` monthly payments from `start`, the last one paying the current period."""
    return tuple(pay(price, add_months(start, i), f"m{i}") for i in range(months))


def quote(rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime, **kw):
    return quote_cancellation(rules=rules, policy_label="test@1", snapshot=snapshot, at=at, **kw)
