"""Inside the refund window: the refundable kinds in full, minus the service deduction
schedule (connex §30-Day Refund), implementation fees only for services not rendered."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing.money import ZERO

from .payment_work import SERVICE_LABELS, PaymentWork
from .rules import PaymentKind, PolicyRules, RefundWindow, WindowFrom
from .snapshot import SubscriptionSnapshot


def window_start(counted_from: WindowFrom, snapshot: SubscriptionSnapshot) -> datetime:
    """Signup is the start of the subscription; the purchase is the first paid moment,
    the end of the trial if there was one."""
    if counted_from == WindowFrom.PURCHASE and snapshot.trial_end is not None:
        return max(snapshot.trial_end, snapshot.subscribed_at)
    return snapshot.subscribed_at


def window_open(window: RefundWindow, snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    return at < window_start(window.counted_from, snapshot) + timedelta(days=window.days)


def inside_window(
    pq: PaymentWork,
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    label: str,
    is_first_subscription: bool,
) -> None:
    window = rules.refund_window
    assert window is not None
    pay = pq.payment
    ref = window.clause.ref
    if pay.kind not in window.refundable_kinds:
        pq.lines.append((f"{label}: not refundable", ZERO, ref))
        return
    if pay.kind == PaymentKind.IMPLEMENTATION_FEE:
        _implementation_fee(pq, snapshot, at, label, ref)
        return
    pq.time_based = pay.kind == PaymentKind.SUBSCRIPTION
    pq.lines.append((f"{label}: cancelled within {window.days} days", pay.amount, ref))
    if pay.kind == PaymentKind.SUBSCRIPTION and is_first_subscription:
        done = {s.kind for s in snapshot.services if s.completed_at and s.completed_at <= at}
        applicable = [d for d in rules.service_deductions if d.service in done]
        if applicable:
            # The schedule is cumulative: the deepest service reached decides.
            deepest = max(applicable, key=lambda d: pay.amount if d.amount is None else d.amount)
            amount = pay.amount if deepest.amount is None else min(deepest.amount, pay.amount)
            what = "no refund" if deepest.amount is None else "deduction"
            pq.lines.append(
                (
                    f"{SERVICE_LABELS[deepest.service]} completed: {what}",
                    -amount,
                    deepest.clause.ref,
                )
            )


def _implementation_fee(
    pq: PaymentWork, snapshot: SubscriptionSnapshot, at: datetime, label: str, ref: str
) -> None:
    """Only services not yet rendered are refunded; without a service list, the whole fee."""
    pay = pq.payment
    if not snapshot.services:
        pq.lines.append((f"{label}: services not yet rendered", pay.amount, ref))
        return
    for service in snapshot.services:
        name = SERVICE_LABELS[service.kind]
        if service.completed_at is not None and service.completed_at <= at:
            pq.lines.append((f"{label}: {name} already rendered", ZERO, ref))
        elif service.price > 0:
            pq.lines.append((f"{label}: {name} not yet rendered", service.price, ref))
