"""Inside the refund window: the refundable kinds in full, minus the service deduction
schedule (connex §30-Day Refund), implementation fees only for services not rendered."""

from __future__ import annotations

from datetime import datetime

from billing.money import ZERO

from .calendars import window_closes
from .payment_work import SERVICE_LABELS, PaymentWork
from .rules import PaymentKind, PolicyRules, RefundWindow, WindowFrom, amount_for
from .snapshot import SubscriptionSnapshot


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
    window: RefundWindow, snapshot: SubscriptionSnapshot, time_zone: str
) -> datetime:
    """The first instant outside the refund window (worked out once per snapshot)."""
    key = ("window", window.counted_from, window.days, window.counted, time_zone)
    memo = snapshot.index.memo
    if key not in memo:
        start = window_start(window.counted_from, snapshot)
        memo[key] = window_closes(start, window.days, window.counted, time_zone)
    return memo[key]


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
