"""Inside the refund window: the refundable kinds in full, minus the service deduction
schedule (connex §30-Day Refund), implementation fees only for services not rendered."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing.money import ZERO, round_money

from .conditions import first_renewal
from .payment_work import SERVICE_LABELS, PaymentWork, period_of
from .proration import MODE_LABELS, unused_fraction
from .rules import PaymentKind, PolicyRules, RefundWindow, WindowFrom
from .snapshot import PaymentSnapshot, SubscriptionSnapshot


def window_start(counted_from: WindowFrom, snapshot: SubscriptionSnapshot) -> datetime:
    """Signup is the start of the subscription; the purchase is the first paid moment,
    the end of the trial if there was one."""
    if counted_from == WindowFrom.PURCHASE and snapshot.trial_end is not None:
        return max(snapshot.trial_end, snapshot.subscribed_at)
    return snapshot.subscribed_at


def window_end(window: RefundWindow, snapshot: SubscriptionSnapshot, start: datetime) -> datetime:
    """`days` after `start` or the first renewal, whichever comes first."""
    ends = [] if window.days is None else [start + timedelta(days=window.days)]
    if window.until_first_renewal:
        ends.append(first_renewal(snapshot))
    return min(ends)


def window_open(window: RefundWindow, snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    """The subscription-wide window (`each_payment` windows are per payment)."""
    if window.counted_from == WindowFrom.EACH_PAYMENT:
        return False
    return at < window_end(window, snapshot, window_start(window.counted_from, snapshot))


def payment_window_open(
    window: RefundWindow, snapshot: SubscriptionSnapshot, pay: PaymentSnapshot, at: datetime
) -> bool:
    """An `each_payment` window: open from the payment for `days`."""
    return window.counted_from == WindowFrom.EACH_PAYMENT and at < window_end(
        window, snapshot, pay.paid_at
    )


def window_label(window: RefundWindow) -> str:
    if window.days is None:
        return "cancelled in the first billing period"
    since = "of the payment" if window.counted_from == WindowFrom.EACH_PAYMENT else ""
    label = f"cancelled within {window.days} days {since}".rstrip()
    if window.until_first_renewal:
        label += ", before the first renewal"
    if window.prorated_by is not None:
        label += f", {MODE_LABELS[window.prorated_by]}"
    return label


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
    amount = pay.amount
    if window.prorated_by is not None and pq.time_based:
        start, end = period_of(pay, snapshot)
        amount = round_money(
            pay.amount * unused_fraction(window.prorated_by, start, end, at), snapshot.currency
        )
    pq.lines.append((f"{label}: {window_label(window)}", amount, ref))
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
