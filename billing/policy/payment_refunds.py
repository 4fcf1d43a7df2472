"""What each payment refunds when the subscription is cancelled at `at`.

Per payment, in order: an open chargeback excludes it; never-refunded kinds get a 0 line;
during a free trial nothing is charged; after a governing trial the trial rule decides;
inside the refund window the window rule; otherwise the proration rule, for the payment
covering the current period. Each payment is capped at what is left of it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from billing.money import ZERO

from .payment_work import KIND_LABELS, PaymentWork, cap, covers, never_clause
from .prorated_refunds import prorate
from .rules import PaymentKind, PolicyRules, Refusal
from .snapshot import SubscriptionSnapshot
from .trial_refunds import after_trial
from .window_refunds import inside_window, payment_window_open, window_open


def remainders(snapshot: SubscriptionSnapshot) -> dict[str, Decimal]:
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


def payment_refunds(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    chargeback: Refusal | None,
) -> list[PaymentWork]:
    left = remainders(snapshot)
    paid = [p for p in snapshot.payments if p.paid_at <= at]
    trial = rules.trial if snapshot.trial_end is not None else None
    window = rules.refund_window
    applies = window is not None and (trial is None or window.applies_after_trial)
    is_open = applies and window_open(window, snapshot, at, rules.time_zone)

    out: list[PaymentWork] = []
    first_subscription = min(
        (p for p in paid if p.kind == PaymentKind.SUBSCRIPTION),
        key=lambda p: p.paid_at,
        default=None,
    )
    for pay in paid:
        pq = PaymentWork(pay, left[pay.ref])
        label = KIND_LABELS[pay.kind]
        covers_now = covers(pay, snapshot, at)
        pay_open = is_open or (
            applies and payment_window_open(window, snapshot, pay, at, rules.time_zone)
        )
        if not (covers_now or pay_open or in_trial):
            continue  # earlier periods: never refunded, not worth a line
        if pay.disputed and chargeback is not None:
            pq.lines.append((f"{label}: {chargeback.message}", ZERO, chargeback.clause.ref))
        elif pay.kind in rules.never_refunded_kinds:
            pq.lines.append((f"{label}: never refunded", ZERO, never_clause(rules, pay.kind)))
        elif in_trial and trial is not None and trial.cancel_during_trial_charges_nothing:
            if pay.kind == PaymentKind.SUBSCRIPTION:
                pq.time_based = True
                pq.lines.append(
                    (f"{label} for the trial: trials are free", pay.amount, trial.clause.ref)
                )
        elif trial is not None and trial.governs_after_trial and snapshot.trial_end is not None:
            after_trial(pq, rules, snapshot, at, label)
        elif pay_open and window is not None:
            inside_window(pq, rules, snapshot, at, label, pay is first_subscription)
        elif covers_now:
            prorate(pq, rules, snapshot, at, label)
        cap(pq)
        out.append(pq)
    return out
