"""What the quote engine knows about a subscription: a frozen snapshot, built from the
database by `billing.selectors.subscription_snapshot` or from a scenario file.

`snapshot.index` indexes its payments by kind and period once per snapshot (the simulator,
the live quote panel and the benchmark quote one snapshot at many moments), so a quote
looks only at the payments that can matter at its moment instead of re-walking the history.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from itertools import pairwise

from billing.money import round_money

from .rules import Channel, Interval, LimitedChange, PaymentKind, PaymentMethod, ServiceKind

# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_SUBSCRIPTION = PaymentKind.SUBSCRIPTION

ZERO = Decimal("0")


@dataclass(frozen=True)
class PaymentSnapshot:
    ref: str  # our payment id, or an index in a scenario
    kind: PaymentKind
    amount: Decimal  # tax included
    paid_at: datetime
    tax: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")  # already refunded (approved, processing or succeeded)
    disputed: bool = False  # an open chargeback or dispute
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class ServiceSnapshot:
    kind: ServiceKind
    completed_at: datetime | None
    price: Decimal = Decimal("0")


@dataclass(frozen=True)
class AddOnSnapshot:
    kind: str
    quantity: int
    price: Decimal
    started_at: datetime
    ends_at: datetime | None = None


@dataclass(frozen=True)
class RefundSnapshot:
    amount: Decimal
    payment_ref: str | None = None


@dataclass(frozen=True)
class SeatSnapshot:
    """One seat (a member) of the workspace: when it was added, removed, last used."""

    ref: str
    added_at: datetime
    removed_at: datetime | None = None
    last_active_at: datetime | None = None


@dataclass(frozen=True)
class ChangeEvent:
    """A change the account made that a policy can limit (`ChangeLimit`)."""

    change: LimitedChange
    at: datetime


@dataclass(frozen=True)
class SubscriptionSnapshot:
    currency: str
    interval: Interval
    price: Decimal
    subscribed_at: datetime
    trial_end: datetime | None
    period_start: datetime
    period_end: datetime
    payments: tuple[PaymentSnapshot, ...] = ()
    refunds: tuple[RefundSnapshot, ...] = ()  # refunds not tied to a payment_ref's `refunded`
    services: tuple[ServiceSnapshot, ...] = ()
    addons: tuple[AddOnSnapshot, ...] = ()
    discount_percent: Decimal = Decimal("0")
    status: str = "active"
    suspended_for_misuse: bool = False
    extra: dict = field(default_factory=dict)
    # What conditions on rules read (see rules.Condition).
    channel: Channel = Channel.WEB
    payment_method: PaymentMethod = PaymentMethod.CARD
    country: str = ""  # ISO 3166-1 alpha-2, "" when unknown
    plan_code: str = ""
    commitment_end: datetime | None = None  # a term beyond the billing interval
    last_used_at: datetime | None = None  # latest activity in the workspace
    unbilled_usage: Decimal = Decimal("0")  # accrued in arrears, not yet billed
    credit_balance: Decimal = Decimal("0")  # customer credit in this currency
    # Read by seat rules: the price of one seat for one period, and the seats this period.
    seat_price: Decimal = Decimal("0")
    seats: tuple[SeatSnapshot, ...] = ()
    # Read by change limits: the account's earlier limited changes.
    changes: tuple[ChangeEvent, ...] = ()

    @cached_property
    def index(self) -> PaymentIndex:
        """Built on first use and kept with the (immutable) snapshot."""
        return PaymentIndex(self)


class PaymentIndex:
    """Everything about a snapshot's payments that does not depend on the quoted moment."""

    def __init__(self, snapshot: SubscriptionSnapshot) -> None:
        payments = snapshot.payments
        self.payments = payments
        self.in_paid_order = all(a.paid_at <= b.paid_at for a, b in pairwise(payments))
        self.paid_times = sorted(p.paid_at for p in payments)
        self.remainders = _remainders(snapshot)
        # The plan's price after the discount: what a period still due costs.
        self.net_price = round_money(
            snapshot.price * (1 - snapshot.discount_percent / 100), snapshot.currency
        )
        self.any_disputed = any(p.disputed for p in payments)
        subscriptions = [p for p in payments if p.kind == PaymentKind.SUBSCRIPTION]
        self.first_subscription = min(subscriptions, key=lambda p: p.paid_at, default=None)
        self.first_paid_at = self.paid_times[0] if payments else None
        self.first_paid_by_kind: dict[PaymentKind, datetime] = {}
        for pay in payments:
            known = self.first_paid_by_kind.get(pay.kind)
            if known is None or pay.paid_at < known:
                self.first_paid_by_kind[pay.kind] = pay.paid_at
        # Payments without their own period pay for the snapshot's current period if paid
        # since it started; those with one, for that period (sorted by its end).
        self._always: list[int] = []
        periods: list[tuple[datetime, datetime, int]] = []
        for position, pay in enumerate(payments):
            if pay.period_start is not None and pay.period_end is not None:
                periods.append((pay.period_end, pay.period_start, position))
            elif pay.paid_at >= snapshot.period_start:
                self._always.append(position)
        periods.sort()
        self._period_ends = [end for end, _, _ in periods]
        self._periods = periods
        self._covering: tuple[datetime | None, tuple[int, ...]] = (None, ())
        self.memo: dict[object, datetime] = {}  # per-rules moments derived from the snapshot
        # Per rule object (by identity, checked): its window's end, the proration rule chosen.
        self.by_rule: dict[object, tuple] = {}

    def paid_by(self, at: datetime) -> tuple[PaymentSnapshot, ...]:
        """Payments made by `at`, in snapshot order."""
        if self.in_paid_order:
            return self.payments[: bisect_right(self.paid_times, at)]
        return tuple(p for p in self.payments if p.paid_at <= at)

    def paid_since(self, moment: datetime) -> set[int]:
        """Positions of the payments made at or after `moment`."""
        if self.in_paid_order:
            return set(range(bisect_left(self.paid_times, moment), len(self.payments)))
        return {i for i, p in enumerate(self.payments) if p.paid_at >= moment}

    def latest_paid_at(self, at: datetime) -> datetime | None:
        """When the latest payment made by `at` was made."""
        position = bisect_right(self.paid_times, at)
        return self.paid_times[position - 1] if position else None

    def covering(self, at: datetime) -> tuple[int, ...]:
        """Positions of the payments that pay for the period containing `at`, in order
        (the last answer is kept: a quote asks twice for the same moment)."""
        if self._covering[0] == at:
            return self._covering[1]
        found = list(self._always)
        for _, start, position in self._periods[bisect_right(self._period_ends, at) :]:
            if start <= at:
                found.append(position)
        found.sort()
        self._covering = (at, tuple(found))
        return self._covering[1]

    def current_period_paid(self, at: datetime) -> bool:
        """Has a subscription payment made by `at` paid for the period containing it?"""
        return any(
            self.payments[i].kind == _SUBSCRIPTION and self.payments[i].paid_at <= at
            for i in self.covering(at)
        )


def _remainders(snapshot: SubscriptionSnapshot) -> dict[str, Decimal]:
    """What is left to refund per payment, after refunds already made.

    Refunds tied to a payment reduce that payment; untied refunds reduce the most recent
    payments first.
    """
    left = {p.ref: max(p.amount - p.refunded, ZERO) for p in snapshot.payments}
    untied = ZERO
    for refund in snapshot.refunds:
        if refund.payment_ref in left:
            left[refund.payment_ref] = max(left[refund.payment_ref] - refund.amount, ZERO)
        else:
            untied += refund.amount
    for pay in sorted(snapshot.payments, key=lambda p: p.paid_at, reverse=True):
        if untied <= 0:
            break
        taken = min(untied, left[pay.ref])
        left[pay.ref] -= taken
        untied -= taken
    return left
