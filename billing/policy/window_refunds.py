"""Inside the refund window: the refundable kinds in full, minus the service deduction
schedule (connex §30-Day Refund), implementation fees only for services not rendered."""

from __future__ import annotations

from datetime import datetime

from billing.money import ZERO, round_money

from .calendars import window_closes
from .conditions import first_renewal
from .payment_work import SERVICE_LABELS, PaymentWork, period_of
from .proration import MODE_LABELS, unused_fraction
from .rules import PaymentKind, PolicyRules, RefundWindow, WindowFrom, amount_for
from .snapshot import PaymentSnapshot, SubscriptionSnapshot

_EACH_PAYMENT = WindowFrom.EACH_PAYMENT  # enum members are slow to look up on the hot path


def window_start(counted_from: WindowFrom, snapshot: SubscriptionSnapshot) -> datetime:
    """Signup: the subscription's start. Trial end: the end of the free trial, or the
    signup without one. First payment: the first paid signup (sync: "charged immediately";
    a trial account activated with a paid subscription before its trial ends), i.e. the
    first payment, or the trial end (the signup without a trial) if that comes first: a
    payment recorded later than that is a renewal or a retry, not the signup."""
    after_trial = snapshot.subscribed_at
    if snapshot.trial_end is not None:
        after_trial = max(snapshot.trial_end, snapshot.subscribed_at)
    if counted_from == WindowFrom.TRIAL_END:
        return after_trial
    if counted_from == WindowFrom.FIRST_PAYMENT:
        first = snapshot.index.first_paid_at or after_trial
        return max(min(first, after_trial), snapshot.subscribed_at)
    return snapshot.subscribed_at


def window_closes_at(
    window: RefundWindow,
    snapshot: SubscriptionSnapshot,
    time_zone: str,
    start: datetime | None = None,
) -> datetime:
    """The first instant outside the refund window: `days` after its start (inclusive, as
    the window counts them) or the first renewal if `until_first_renewal`, whichever comes
    first. `start` overrides the window's own (a payment's, for `each_payment`). Worked
    out once per snapshot, window and start; keyed by identity, checked, as hashing the
    rule would cost more than it saves."""
    memo = snapshot.index.by_rule
    key = id(window) if start is None else (id(window), start)
    entry = memo.get(key)
    if entry is None or entry[0] is not window or entry[1] != time_zone:
        begin = window_start(window.counted_from, snapshot) if start is None else start
        closes = []
        if window.days is not None:
            closes.append(window_closes(begin, window.days, window.counted, time_zone))
        if window.until_first_renewal:
            closes.append(first_renewal(snapshot))
        entry = (window, time_zone, min(closes))
        memo[key] = entry
    return entry[2]


def window_open(
    window: RefundWindow, snapshot: SubscriptionSnapshot, at: datetime, time_zone: str
) -> bool:
    """The subscription-wide window (`each_payment` windows are per payment)."""
    if window.counted_from is _EACH_PAYMENT:
        return False
    return at < window_closes_at(window, snapshot, time_zone)


def payment_window_open(
    window: RefundWindow,
    snapshot: SubscriptionSnapshot,
    pay: PaymentSnapshot,
    at: datetime,
    time_zone: str,
) -> bool:
    """An `each_payment` window: open from the payment for `days`."""
    return window.counted_from is _EACH_PAYMENT and at < window_closes_at(
        window, snapshot, time_zone, pay.paid_at
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
            currency = snapshot.currency
            deductions = {
                d: pay.amount
                if d.amount is None
                else amount_for(
                    d.amount,
                    currency,
                    rule=f"service_deductions[{rules.service_deductions.index(d)}].amount",
                    clause=d.clause,
                )
                for d in applicable
            }
            deepest = max(applicable, key=lambda d: deductions[d])
            amount = min(deductions[deepest], pay.amount)
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
