"""Quote a cancellation: what is refunded, to where, when it ends, what is still due.

Which rule decides the refund, in order:
1. a refusal for the whole account (suspended for misuse): nothing;
2. cancelled during a free trial: nothing charged, any payment for the trial refunded;
3. after a trial whose rule `governs_after_trial` (connex): the trial rule;
4. inside the refund window (if it applies after a trial): the refundable kinds, minus
   the service deduction schedule, implementation fees only for services not rendered;
5. otherwise the first matching proration rule, for the payment covering the current period.
Per payment (`payment_refunds`), an open chargeback excludes it and never-refunded kinds
are never refunded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from billing.money import ZERO, round_money

from .payment_refunds import payment_refunds
from .payment_work import PaymentWork
from .quotes import PaymentRefund, Quote, QuoteLine
from .rules import Destination, PolicyRules
from .snapshot import SubscriptionSnapshot
from .timing import cancellation_timing

MISUSE = "suspended_for_misuse"
CHARGEBACK = "open_chargeback"


def quote_cancellation(
    *,
    rules: PolicyRules,
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    destination: Destination | None = None,
) -> Quote:
    """Quote a cancellation requested at `at` under `rules`.

    `destination` lets an agent pick customer credit instead of the original payment
    method when the policy allows the choice; otherwise the policy's destination is used.
    """
    if at < snapshot.subscribed_at:
        raise ValueError("the cancellation moment is before the subscription started")
    refusals = {r.code: r for r in rules.refusals}
    misuse = refusals.get(MISUSE) if snapshot.suspended_for_misuse else None
    in_trial = snapshot.trial_end is not None and at < snapshot.trial_end
    notes: list[tuple[str, Decimal, str]] = []
    work: list[PaymentWork] = []
    if misuse is not None:
        notes.append((f"No refund: {misuse.message}", ZERO, misuse.clause.ref))
    else:
        work = payment_refunds(rules, snapshot, at, in_trial, refusals.get(CHARGEBACK))
        if rules.case_by_case_review:
            notes.append(
                (
                    "Any further refund is only by case-by-case review",
                    ZERO,
                    rules.clauses["review"].ref if "review" in rules.clauses else "",
                )
            )

    currency = snapshot.currency
    lines: list[QuoteLine] = []
    refunds: list[PaymentRefund] = []
    tax_total = ZERO
    time_refund = False
    for pq in work:
        rounded = [
            QuoteLine(label, round_money(amount, currency), clause, pq.payment.ref)
            for label, amount, clause in pq.lines
        ]
        lines.extend(rounded)
        refund = sum((line.amount for line in rounded), ZERO)
        if refund > 0:
            pay = pq.payment
            tax = round_money(pay.tax * refund / pay.amount, currency) if pay.amount else ZERO
            refunds.append(PaymentRefund(pay.ref, refund, tax))
            tax_total += tax
            time_refund = time_refund or pq.time_based
    lines.extend(
        QuoteLine(label, round_money(amount, currency), clause) for label, amount, clause in notes
    )
    refund_total = round_money(sum((p.amount for p in refunds), ZERO), currency)

    timing = cancellation_timing(rules, snapshot, at, in_trial, time_refund)
    if timing.notice_applied and rules.cancellation_notice is not None:
        days = rules.cancellation_notice.days
        label = (
            f"Requested less than {days} days before renewal: the next period "
            f"({round_money(timing.amount_due, currency)} {currency}) is due"
        )
        lines.append(
            QuoteLine(label, round_money(ZERO, currency), rules.cancellation_notice.clause.ref)
        )
    if refund_total > 0:
        chosen = rules.refund_destination
        if destination is not None and rules.destination_choice_allowed:
            chosen = destination
    else:
        chosen = Destination.NONE
    return Quote(
        policy=policy_label,
        currency=currency,
        refund=refund_total,
        tax_refund=round_money(tax_total, currency),
        destination=chosen,
        amount_due=round_money(timing.amount_due, currency),
        effective=timing.effective,
        ends_at=timing.ends_at,
        access_until=timing.access_until,
        data_retained_until=(
            timing.ends_at + timedelta(days=rules.retention.after_end_days)
            if rules.retention.after_end_days is not None
            else None
        ),
        fallback=rules.fallback,
        notice_applied=timing.notice_applied,
        refusal=misuse.message if misuse is not None else None,
        lines=tuple(lines),
        payment_refunds=tuple(refunds),
    )
