"""The working lines of one payment while a cancellation is quoted, and what every rule
needs to know about a payment: which period it pays for and how it is named."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from billing.money import ZERO

from .rules import PaymentKind, PolicyRules, ServiceKind
from .snapshot import PaymentSnapshot, SubscriptionSnapshot

KIND_LABELS = {
    PaymentKind.SUBSCRIPTION: "Subscription payment",
    PaymentKind.IMPLEMENTATION_FEE: "Implementation fee",
    PaymentKind.ACTIVATION_FEE: "Activation fee",
    PaymentKind.ADD_ON: "Add-on",
    PaymentKind.ONE_TIME_PURCHASE: "One-time purchase",
    PaymentKind.UPGRADE_PRORATION: "Plan upgrade charge",
    PaymentKind.INTERNAL_MEMBERSHIP: "Internal membership payment",
}
SERVICE_LABELS = {
    ServiceKind.PRELIMINARY_CALL: "30-minute preliminary call",
    ServiceKind.ONBOARDING: "60-minute onboarding",
    ServiceKind.FOLLOW_UP_CALL: "30-minute follow-up call",
    ServiceKind.CUSTOMIZATION: "Paid customization",
}
# Which entry of `PolicyRules.clauses` explains why a never-refunded kind is never refunded.
NEVER_CLAUSE_KEYS = {
    PaymentKind.ADD_ON: "addons",
    PaymentKind.INTERNAL_MEMBERSHIP: "internal",
    PaymentKind.ACTIVATION_FEE: "activation_fee",
}


class PaymentWork:
    """Working lines for one payment, before rounding (a plain slotted class: one is made
    per payment per quote, on the engine's hot path)."""

    __slots__ = ("lines", "payment", "remainder", "time_based")

    def __init__(self, payment: PaymentSnapshot, remainder: Decimal) -> None:
        self.payment = payment
        self.remainder = remainder
        self.lines: list[tuple[str, Decimal, str]] = []
        self.time_based = False  # a prorated or window refund of the current period

    def copy(self) -> PaymentWork:
        """The same work, with its own lines (a quote and its alternative share the start)."""
        twin = PaymentWork(self.payment, self.remainder)
        twin.lines = list(self.lines)
        twin.time_based = self.time_based
        return twin


def covers(pay: PaymentSnapshot, snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    """Does this payment pay for the period containing `at`?"""
    if pay.period_start is not None and pay.period_end is not None:
        return pay.period_start <= at < pay.period_end
    return pay.paid_at >= snapshot.period_start


def period_of(pay: PaymentSnapshot, snapshot: SubscriptionSnapshot) -> tuple[datetime, datetime]:
    if pay.period_start is not None and pay.period_end is not None:
        return pay.period_start, pay.period_end
    return snapshot.period_start, snapshot.period_end


def never_clause(rules: PolicyRules, kind: PaymentKind) -> str:
    key = NEVER_CLAUSE_KEYS.get(kind, "never_refunded")
    clause = rules.clauses.get(key) or rules.clauses.get("never_refunded")
    return clause.ref if clause is not None else ""


def cap(pq: PaymentWork) -> None:
    """Never negative, never above what is left of the payment after earlier refunds."""
    total = sum((amount for _, amount, _ in pq.lines), ZERO)
    if total > pq.remainder:
        pq.lines.append(("Already refunded", pq.remainder - total, ""))
    elif total < 0:
        pq.lines.append(("A refund cannot be negative", -total, ""))
