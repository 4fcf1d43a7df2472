"""What the quote engine knows about a subscription: a frozen snapshot, built from the
database by `billing.selectors.subscription_snapshot` or from a scenario file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .rules import Channel, Interval, PaymentKind, PaymentMethod, ServiceKind


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
