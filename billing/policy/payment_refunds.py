"""What each payment refunds when the subscription is cancelled at `at`.

Per payment, in order: an open chargeback excludes it; never-refunded kinds get a 0 line;
during a free trial nothing is charged; after a governing trial the trial rule decides;
inside the refund window the window rule; otherwise the proration rule, for the payment
covering the current period. Each payment is capped at what is left of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from billing.money import ZERO

from .payment_work import KIND_LABELS, PaymentWork, cap, never_clause
from .prorated_refunds import prorate
from .rules import PaymentKind, PolicyRules, Refusal, WindowFrom
from .snapshot import SubscriptionSnapshot
from .trial_refunds import after_trial
from .window_refunds import inside_window, payment_window_open, window_open

_EACH_PAYMENT = WindowFrom.EACH_PAYMENT  # enum members are slow to look up on the hot path


def payment_refunds(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    chargeback: Refusal | None,
) -> list[PaymentWork]:
    index = snapshot.index
    trial = rules.trial if snapshot.trial_end is not None else None
    window = rules.refund_window
    applies = window is not None and (trial is None or window.applies_after_trial)
    is_open = applies and window_open(window, snapshot, at, rules.time_zone)

    first = index.first_subscription
    first_subscription = first if first is not None and first.paid_at <= at else None
    # An each_payment window may be open for a payment that no longer covers `at`.
    per_payment = applies and window.counted_from is _EACH_PAYMENT
    if is_open or in_trial:
        covering = set(index.covering(at))
        candidates = [(pay, position in covering) for position, pay in enumerate(index.paid_by(at))]
    elif per_payment:
        # Only payments recent enough for their own window, and those covering `at`.
        covering = set(index.covering(at))
        recent = index.paid_since(at - timedelta(days=window.days + 2))
        candidates = [
            (index.payments[position], position in covering)
            for position in sorted(covering | recent)
            if index.payments[position].paid_at <= at
        ]
    else:  # earlier periods are never refunded, not worth a line: only what covers `at`
        candidates = [
            (index.payments[position], True)
            for position in index.covering(at)
            if index.payments[position].paid_at <= at
        ]
    out: list[PaymentWork] = []
    for pay, covers_now in candidates:
        pq = PaymentWork(pay, index.remainders[pay.ref])
        label = KIND_LABELS[pay.kind]
        pay_open = is_open or (
            per_payment and payment_window_open(window, snapshot, pay, at, rules.time_zone)
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
