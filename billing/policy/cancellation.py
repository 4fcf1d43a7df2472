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

Before any of it, the policy's variants whose conditions hold replace the rules they set
(`conditions.resolve`); the quote names them. Outside a trial, a cancellation owes the
policy's charges (`charges`); one that refunds unused time is a withdrawal from the
contract, so it owes no early-termination fee (usage already accrued is still due).
Where the policy lets the customer choose the timing, the quote carries the alternative:
the same cancellation run to the period end, with no unused time refunded (worked out when
first read, from the same per-payment work).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.money import MINOR_UNITS, ZERO, round_money

from .change_limits import limit_message, limit_reached
from .charges import cancellation_charges
from .closure import access_until, credit_expiry, retention_dates
from .conditions import resolve
from .payment_refunds import payment_refunds
from .payment_work import KIND_LABELS, PaymentWork, cap
from .quotes import (
    NO_TERMS,
    Alternative,
    PaymentRefund,
    Quote,
    QuoteLine,
    QuoteTerms,
    built,
    quote_line,
)
from .rules import (
    Destination,
    Effective,
    Fallback,
    Initiator,
    LimitedChange,
    PaymentKind,
    PolicyRules,
    Refusal,
    RetentionFrom,
    WindowFrom,
)
from .seats import inactive_seat_credit
from .snapshot import SubscriptionSnapshot
from .timing import cancellation_timing
from .window_refunds import window_closes_at

# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_NO_DESTINATION = Destination.NONE
_CREDIT = Destination.CUSTOMER_CREDIT
_PERIOD_END = Effective.PERIOD_END
_IMMEDIATELY = Effective.IMMEDIATELY
_EACH_PAYMENT = WindowFrom.EACH_PAYMENT
_FROM_END = RetentionFrom.END
_FREE_PLAN = Fallback.FREE_PLAN
_SUBSCRIPTION = PaymentKind.SUBSCRIPTION

# A zero per currency, rounded to its minor unit (one Decimal, shared by every quote).
_ZEROS = {code: round_money(ZERO, code) for code in MINOR_UNITS}

MISUSE = "suspended_for_misuse"
CHARGEBACK = "open_chargeback"


def quote_cancellation(
    *,
    rules: PolicyRules,
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    destination: Destination | None = None,
    timing: Effective | None = None,
    initiated_by: Initiator = Initiator.CUSTOMER,
) -> Quote:
    """Quote a cancellation requested at `at` under `rules`.

    `destination` lets an agent pick customer credit instead of the original payment
    method when the policy allows the choice; otherwise the policy's destination is used.
    `timing=period_end` picks running to the period end where the policy lets the customer
    choose (ignored otherwise, like `destination`). `initiated_by=provider` quotes a
    termination by the company without cause (conditions can single it out).
    """
    if at < snapshot.subscribed_at:
        raise ValueError("the cancellation moment is before the subscription started")
    names: tuple[str, ...] = ()
    notes: list[tuple[str, Decimal, str]] = []
    if rules.variants:
        rules, variants = resolve(rules, snapshot, at, initiated_by)
        if variants:
            names = tuple(v.name for v in variants)
            notes = [(f"Applies: {v.name}", ZERO, v.clause.ref) for v in variants]
    if rules.limits and rules.fallback is _FREE_PLAN:
        reached = limit_reached(rules, LimitedChange.DOWNGRADE_TO_FREE, snapshot.changes, at)
        if reached is not None:
            limit, used = reached
            rules = replace(rules, fallback=limit.otherwise)
            notes = [
                *notes,
                (
                    f"{limit_message(limit, used)} The workspace is "
                    f"{limit.otherwise.value.replace('_', ' ')} instead",
                    ZERO,
                    limit.clause.ref,
                ),
            ]
    in_trial = snapshot.trial_end is not None and at < snapshot.trial_end
    misuse, work = _work(rules, snapshot, at, in_trial)
    head = (rules, names, notes, policy_label, snapshot, at, destination, in_trial, misuse)
    if not rules.timing_choice:
        return _quote(*head, work, False)
    if timing == _PERIOD_END:
        return _quote(*head, work, True)
    # The alternative starts from the same per-payment work (computed once, copied); the
    # quote keeps it unless it already runs to the period end.
    alternative = Alternative(lambda: _quote(*head, work, True))
    return _quote(*head, [pq.copy() for pq in work], False, alternative)


def _work(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime, in_trial: bool
) -> tuple[Refusal | None, list[PaymentWork]]:
    """The refusal for the whole account, if any; otherwise what each payment refunds."""
    misuse = _refusal(rules, MISUSE) if snapshot.suspended_for_misuse else None
    if misuse is not None:
        return misuse, []
    chargeback = _refusal(rules, CHARGEBACK) if snapshot.index.any_disputed else None
    return None, payment_refunds(rules, snapshot, at, in_trial, chargeback)


def _quote(
    rules: PolicyRules,
    variants: tuple[str, ...],
    variant_notes: list[tuple[str, Decimal, str]],
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    destination: Destination | None,
    in_trial: bool,
    misuse: Refusal | None,
    work: list[PaymentWork],
    run_to_end: bool,
    alternative: Alternative | None = None,
) -> Quote:
    notes: list[tuple[str, Decimal, str]] = list(variant_notes) if variant_notes else []
    if misuse is not None:
        notes.append((f"No refund: {misuse.message}", ZERO, misuse.clause.ref))
    else:
        if run_to_end:
            _keep_time(work, rules)
            rules = _run_to_end(rules, snapshot)
        if rules.seats is not None and not in_trial:
            _credit_inactive_seats(work, rules, snapshot, at, run_to_end)
        if rules.case_by_case_review:
            notes.append(
                (
                    "Any further refund is only by case-by-case review",
                    ZERO,
                    rules.clauses["review"].ref if "review" in rules.clauses else "",
                )
            )

    currency = snapshot.currency
    # Each line is rounded once; sums of rounded amounts need no rounding again.
    zero = _ZEROS.get(currency)
    if zero is None:  # an unknown currency: refused as ever
        zero = round_money(ZERO, currency)
    lines: list[QuoteLine] = []
    refunds: list[PaymentRefund] = []
    refund_total = tax_total = zero
    time_refund = False
    for pq in work:
        pay = pq.payment
        refund = zero
        for label, amount, clause in pq.lines:
            amount = round_money(amount, currency)
            lines.append(quote_line(label, amount, clause, pay.ref))
            refund += amount
        if refund > 0:
            tax = round_money(pay.tax * refund / pay.amount, currency) if pay.tax else zero
            refunds.append(built(PaymentRefund, payment_ref=pay.ref, amount=refund, tax=tax))
            refund_total += refund
            tax_total += tax
            time_refund = time_refund or pq.time_based
    lines.extend(quote_line(label, zero, clause) for label, _, clause in notes)

    timing = cancellation_timing(rules, snapshot, at, in_trial, time_refund)
    due_lines: list[QuoteLine] = []
    if timing.due:
        lines.extend(quote_line(label, zero, ref) for label, _, ref in timing.due)
        due_lines = [quote_line(label, amount, ref) for label, amount, ref in timing.due]
    if rules.charges and not in_trial and misuse is None:
        due_lines.extend(_charge_lines(rules, snapshot, timing.ends_at, time_refund))
    amount_due = sum((line.amount for line in due_lines), zero) if due_lines else zero
    if refund_total > 0:
        chosen = rules.refund_destination
        if destination is not None and rules.destination_choice_allowed:
            chosen = destination
    else:
        chosen = _NO_DESTINATION
    payout = zero
    credit = rules.credit
    if credit is not None and credit.paid_out_at_closure and snapshot.credit_balance > 0:
        payout = round_money(snapshot.credit_balance, currency)
        lines.append(
            quote_line(
                f"Customer credit balance paid out at closure ({payout} {currency})",
                zero,
                credit.clause.ref,
            )
        )
    expires = credit_expiry(credit, chosen, at, timing.ends_at) if credit else None
    if credit is not None and chosen is _CREDIT and not credit.cash_value:
        lines.append(_no_cash_value(snapshot, credit.clause.ref, expires, zero))
    retention = rules.retention
    if retention.partial or retention.counted_from is not _FROM_END:
        retained_until, parts = retention_dates(rules, at, timing.ends_at)
    else:  # the common case, inline: quotes are built by the ten thousand
        days = retention.after_end_days
        retained_until = None if days is None else timing.ends_at + timedelta(days=days)
        parts = ()
    return built(
        Quote,
        policy=policy_label,
        currency=currency,
        refund=refund_total,
        tax_refund=tax_total,
        destination=chosen,
        amount_due=amount_due,
        effective=timing.effective,
        ends_at=timing.ends_at,
        access_until=(
            access_until(rules, timing.access_until)
            if rules.access_grace_days
            else timing.access_until
        ),
        data_retained_until=retained_until,
        fallback=rules.fallback,
        notice_applied=timing.notice_applied,
        refusal=misuse.message if misuse is not None else None,
        lines=tuple(lines),
        payment_refunds=tuple(refunds),
        refund_window_until=_window_until(rules, snapshot, at),
        terms=(
            built(
                QuoteTerms,
                due_lines=tuple(due_lines),
                variants=variants,
                credit_expires_at=expires,
                credit_payout=payout,
                data_kept=parts,
                timing_choice=rules.timing_choice,
                alternative=alternative if timing.effective is not _PERIOD_END else None,
            )
            if due_lines or variants or expires or payout or parts or rules.timing_choice
            else NO_TERMS
        ),
    )


def _run_to_end(rules: PolicyRules, snapshot: SubscriptionSnapshot) -> PolicyRules:
    """The rules ending at the period end whatever is refunded (once per snapshot and rules:
    replacing fields of the rules costs more than a quote)."""
    memo = snapshot.index.by_rule
    entry = memo.get(("run_to_end", id(rules)))
    if entry is None or entry[0] is not rules:
        entry = (
            rules,
            replace(
                rules,
                cancellation_effective=Effective.PERIOD_END,
                cancellation_effective_with_refund=Effective.PERIOD_END,
            ),
        )
        memo["run_to_end", id(rules)] = entry
    return entry[1]


def _charge_lines(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, ends_at: datetime, released: bool
) -> tuple[QuoteLine, ...]:
    """The charges' lines, rounded. Ending at the period end, they are the same for every
    moment quoted: worked out once per snapshot and rules (a run to the period end, the
    alternative of a timing choice, ends there on every quote)."""
    if ends_at != snapshot.period_end:
        return _rounded_charges(rules, snapshot, ends_at, released)
    memo = snapshot.index.by_rule
    key = ("charges", id(rules), released)
    entry = memo.get(key)
    if entry is None or entry[0] is not rules:
        entry = (rules, _rounded_charges(rules, snapshot, ends_at, released))
        memo[key] = entry
    return entry[1]


def _rounded_charges(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, ends_at: datetime, released: bool
) -> tuple[QuoteLine, ...]:
    currency = snapshot.currency
    return tuple(
        quote_line(label, round_money(amount, currency), clause)
        for label, amount, clause in cancellation_charges(
            rules, snapshot, ends_at, released=released
        )
    )


def _keep_time(work: list[PaymentWork], rules: PolicyRules) -> None:
    """Running to the period end: refunds of unused time give way to the time itself."""
    clause = rules.clauses.get("timing_choice")
    for pq in work:
        if pq.time_based:
            pq.time_based = False
            pq.lines[:] = [
                (
                    f"{KIND_LABELS[pq.payment.kind]}: runs to the period end, not refunded",
                    ZERO,
                    clause.ref if clause is not None else "",
                )
            ]


def _credit_inactive_seats(
    work: list[PaymentWork],
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    run_to_end: bool,
) -> None:
    """Credit for seats paid with the current period that went inactive, on that period's
    payment, up to when the service ends (now, or the period end)."""
    payments = snapshot.index.payments
    covering = {id(payments[i]) for i in snapshot.index.covering(at)}
    for pq in work:
        pay = pq.payment
        if pay.kind is _SUBSCRIPTION and not pay.disputed and id(pay) in covering:
            break
    else:
        return
    time_refund = not run_to_end and any(p.time_based for p in work)
    effective = (
        rules.cancellation_effective_with_refund if time_refund else rules.cancellation_effective
    )
    end = at if effective == _IMMEDIATELY else snapshot.period_end
    credit = inactive_seat_credit(rules, snapshot, end)
    if credit is not None:
        pq.lines.append(credit)
        cap(pq)


def _no_cash_value(
    snapshot: SubscriptionSnapshot, clause: str, expires: datetime | None, zero: Decimal
) -> QuoteLine:
    """The line saying credit has no cash value, until the day it expires: made once per
    day and snapshot (strftime is slow, and a quote and its alternative share the day)."""
    memo = snapshot.index.memo
    key = ("no_cash_value", expires.date() if expires else None, clause)
    line = memo.get(key)
    if line is None:
        until = f", usable until {expires:%d %B %Y}" if expires else ""
        line = quote_line(
            f"Customer credit has no cash value and is not refundable{until}", zero, clause
        )
        memo[key] = line
    return line


def _refusal(rules: PolicyRules, code: str) -> Refusal | None:
    return next((r for r in rules.refusals if r.code == code), None)


def _window_until(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime
) -> datetime | None:
    """The refund window's last minute, where the window applies to this subscription
    (an `each_payment` window: the latest payment's)."""
    window = rules.refund_window
    if window is None:
        return None
    if (
        rules.trial is not None
        and snapshot.trial_end is not None
        and not window.applies_after_trial
    ):
        return None
    start = None
    if window.counted_from is _EACH_PAYMENT:
        start = snapshot.index.latest_paid_at(at)
        if start is None:
            return None
    closes = window_closes_at(window, snapshot, rules.time_zone, start)
    memo = snapshot.index.memo
    key = (closes, rules.time_zone)
    if key not in memo:
        memo[key] = (closes - timedelta(minutes=1)).astimezone(ZoneInfo(rules.time_zone))
    return memo[key]
