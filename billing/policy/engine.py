"""The quote engine: what happens if a subscription is cancelled (or changes plan) at `at`.

Pure: no database, no clock; the same inputs always give the same quote.

Invariants (tested with hypothesis in tests/billing/test_quotes.py):
- each line is computed exactly and rounded once, half-up, to the currency's minor unit;
  only prorated amounts and proportional tax involve a division;
- per payment the refund is never negative and never above `amount - refunded`;
- the lines add up to the refund, and the per-payment refunds add up to it too;
- for prorating policies the refund never increases as `at` moves later inside a period.

Which rule decides the refund, in order:
1. a refusal for the whole account (suspended for misuse): nothing;
2. cancelled during a free trial: nothing charged, any payment for the trial refunded;
3. after a trial whose rule `governs_after_trial` (connex): the trial rule;
4. inside the refund window (if it applies after a trial): the refundable kinds, minus
   the service deduction schedule, implementation fees only for services not rendered;
5. otherwise the first matching proration rule, for the payment covering the current period.
Per payment, an open chargeback excludes it and never-refunded kinds are never refunded.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from billing.money import ZERO, round_money

from .quotes import PaymentRefund, Quote, QuoteLine
from .rules import (
    Destination,
    Effective,
    Interval,
    PaymentKind,
    PolicyRules,
    Proration,
    ProrationRule,
    ServiceKind,
    WindowFrom,
)
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
MISUSE = "suspended_for_misuse"
CHARGEBACK = "open_chargeback"


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def interval_months(interval: Interval) -> int:
    return 12 if interval == Interval.YEAR else 1


def unused_fraction(mode: Proration, start: datetime, end: datetime, at: datetime) -> Decimal:
    """The share of [start, end) not yet used at `at`, per proration mode (1 before start)."""
    if at >= end:
        return ZERO
    if at <= start:
        return Decimal(1)
    if mode == Proration.NONE:
        return ZERO
    if mode == Proration.BY_MINUTE:
        total = (end - start) // timedelta(minutes=1)
        left = (end - at) // timedelta(minutes=1)
        return Decimal(left) / Decimal(total)
    if mode == Proration.BY_DAY:
        # The day of the cancellation counts as used: only whole days left are refunded.
        total = round((end - start) / timedelta(days=1))
        left = (end - at) // timedelta(days=1)
        return Decimal(min(left, total)) / Decimal(total)
    total, current = _months(start, end, at)
    left = total - current if mode == Proration.WHOLE_MONTHS else total - current - 1
    return Decimal(max(left, 0)) / Decimal(total)


def _months(start: datetime, end: datetime, at: datetime) -> tuple[int, int]:
    """(months in [start, end), index of the month containing `at`)."""
    total = 0
    while add_months(start, total) < end:
        total += 1
    current = 0
    while current + 1 < total and add_months(start, current + 1) <= at:
        current += 1
    return max(total, 1), current


@dataclass
class _PaymentQuote:
    """Working lines for one payment, before rounding."""

    payment: PaymentSnapshot
    remainder: Decimal
    lines: list[tuple[str, Decimal, str]] = field(default_factory=list)
    time_based: bool = False  # a prorated or window refund of the current period


@dataclass(frozen=True)
class PlanChangeQuote:
    """What a plan change costs or refunds now, and when it takes effect."""

    policy: str
    currency: str
    direction: str  # "upgrade", "downgrade" or "same"
    charge_now: Decimal
    refund: Decimal
    effective_at: datetime
    notice_applied: bool
    lines: tuple[QuoteLine, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "currency": self.currency,
            "direction": self.direction,
            "charge_now": str(self.charge_now),
            "refund": str(self.refund),
            "effective_at": self.effective_at.isoformat(),
            "notice_applied": self.notice_applied,
            "lines": [
                {"label": line.label, "amount": str(line.amount), "clause": line.clause}
                for line in self.lines
            ],
        }


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
    work: list[_PaymentQuote] = []
    if misuse is not None:
        notes.append((f"No refund: {misuse.message}", ZERO, misuse.clause.ref))
    else:
        work = _payment_quotes(rules, snapshot, at, in_trial, refusals.get(CHARGEBACK))
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
    payment_refunds: list[PaymentRefund] = []
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
            payment_refunds.append(PaymentRefund(pay.ref, refund, tax))
            tax_total += tax
            time_refund = time_refund or pq.time_based
    lines.extend(
        QuoteLine(label, round_money(amount, currency), clause) for label, amount, clause in notes
    )
    refund_total = round_money(sum((p.amount for p in payment_refunds), ZERO), currency)

    timing = _timing(rules, snapshot, at, in_trial, time_refund)
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
        payment_refunds=tuple(payment_refunds),
    )


@dataclass(frozen=True)
class _Timing:
    effective: Effective
    ends_at: datetime
    access_until: datetime
    notice_applied: bool
    amount_due: Decimal


def _timing(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    time_refund: bool,
) -> _Timing:
    """When it ends, how long access lasts, and what is still due (notice periods)."""
    effective = (
        rules.cancellation_effective_with_refund if time_refund else rules.cancellation_effective
    )
    notice_applied = False
    amount_due = ZERO
    if effective == Effective.IMMEDIATELY:
        ends_at = at
    elif in_trial:
        ends_at = snapshot.trial_end or snapshot.period_end
    else:
        # A period already over (a renewal not yet recorded) ends now, not in the past.
        ends_at = max(snapshot.period_end, at)
        notice = rules.cancellation_notice
        if notice is not None and at > snapshot.period_end - timedelta(days=notice.days):
            ends_at = add_months(snapshot.period_end, interval_months(snapshot.interval))
            notice_applied = True
            amount_due = snapshot.price * (1 - snapshot.discount_percent / 100)
    access_until = at if rules.access_until == Effective.IMMEDIATELY else ends_at
    return _Timing(effective, ends_at, min(access_until, ends_at), notice_applied, amount_due)


def _remainders(snapshot: SubscriptionSnapshot) -> dict[str, Decimal]:
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


def _payment_quotes(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    in_trial: bool,
    chargeback: Any,
) -> list[_PaymentQuote]:
    remainders = _remainders(snapshot)
    paid = [p for p in snapshot.payments if p.paid_at <= at]
    trial = rules.trial if snapshot.trial_end is not None else None
    window = rules.refund_window
    window_open = False
    if window is not None and (trial is None or window.applies_after_trial):
        window_open = at < _window_start(window.counted_from, snapshot) + timedelta(
            days=window.days
        )

    out: list[_PaymentQuote] = []
    first_subscription = min(
        (p for p in paid if p.kind == PaymentKind.SUBSCRIPTION),
        key=lambda p: p.paid_at,
        default=None,
    )
    for pay in paid:
        pq = _PaymentQuote(pay, remainders[pay.ref])
        label = KIND_LABELS[pay.kind]
        covers_now = _covers(pay, snapshot, at)
        if not (covers_now or window_open or in_trial):
            continue  # earlier periods: never refunded, not worth a line
        if pay.disputed and chargeback is not None:
            pq.lines.append((f"{label}: {chargeback.message}", ZERO, chargeback.clause.ref))
        elif pay.kind in rules.never_refunded_kinds:
            pq.lines.append((f"{label}: never refunded", ZERO, _never_clause(rules, pay.kind)))
        elif in_trial and trial is not None and trial.cancel_during_trial_charges_nothing:
            if pay.kind == PaymentKind.SUBSCRIPTION:
                pq.time_based = True
                pq.lines.append(
                    (f"{label} for the trial: trials are free", pay.amount, trial.clause.ref)
                )
        elif trial is not None and trial.governs_after_trial and snapshot.trial_end is not None:
            _after_trial(pq, rules, snapshot, at, label)
        elif window_open and window is not None:
            _inside_window(pq, rules, snapshot, at, label, pay is first_subscription)
        elif covers_now:
            _prorate(pq, rules, snapshot, at, label)
        _cap(pq)
        out.append(pq)
    return out


def _window_start(counted_from: WindowFrom, snapshot: SubscriptionSnapshot) -> datetime:
    """Signup is the start of the subscription; the purchase is the first paid moment,
    the end of the trial if there was one."""
    if counted_from == WindowFrom.PURCHASE and snapshot.trial_end is not None:
        return max(snapshot.trial_end, snapshot.subscribed_at)
    return snapshot.subscribed_at


def _covers(pay: PaymentSnapshot, snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    """Does this payment pay for the period containing `at`?"""
    if pay.period_start is not None and pay.period_end is not None:
        return pay.period_start <= at < pay.period_end
    return pay.paid_at >= snapshot.period_start


def _never_clause(rules: PolicyRules, kind: PaymentKind) -> str:
    key = NEVER_CLAUSE_KEYS.get(kind, "never_refunded")
    clause = rules.clauses.get(key) or rules.clauses.get("never_refunded")
    return clause.ref if clause is not None else ""


def _after_trial(
    pq: _PaymentQuote,
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    label: str,
) -> None:
    trial = rules.trial
    assert trial is not None and snapshot.trial_end is not None
    pay = pq.payment
    ref = trial.clause.ref
    if pay.kind != PaymentKind.SUBSCRIPTION or not _covers(pay, snapshot, at):
        pq.lines.append((f"{label}: not refundable after a trial", ZERO, ref))
        return
    if snapshot.interval == Interval.MONTH:
        pq.lines.append((f"{label}: the last month after a trial is due in full", ZERO, ref))
        return
    days = trial.annual_prorate_days
    if days is None or at >= snapshot.trial_end + timedelta(days=days):
        pq.lines.append((f"{label}: not refundable after the first {days} days", ZERO, ref))
        return
    start, end = _period_of(pay, snapshot)
    fraction = unused_fraction(Proration.BY_DAY, start, end, at)
    pq.time_based = True
    pq.lines.append((f"{label}: unused days of the year", pay.amount * fraction, ref))


def _inside_window(
    pq: _PaymentQuote,
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
    pq: _PaymentQuote, snapshot: SubscriptionSnapshot, at: datetime, label: str, ref: str
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


def _period_of(pay: PaymentSnapshot, snapshot: SubscriptionSnapshot) -> tuple[datetime, datetime]:
    if pay.period_start is not None and pay.period_end is not None:
        return pay.period_start, pay.period_end
    return snapshot.period_start, snapshot.period_end


def _proration_rule(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime
) -> ProrationRule | None:
    first_year = at < add_months(snapshot.subscribed_at, 12)
    for rule in rules.proration:
        if rule.interval is not None and rule.interval != snapshot.interval:
            continue
        if rule.phase == "first_year" and not first_year:
            continue
        if rule.phase == "after_first_year" and first_year:
            continue
        return rule
    return None


def _prorate(
    pq: _PaymentQuote,
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    label: str,
) -> None:
    pay = pq.payment
    rule = _proration_rule(rules, snapshot, at)
    if rule is None or pay.kind not in rule.kinds or rule.mode == Proration.NONE:
        ref = rule.clause.ref if rule is not None else ""
        pq.lines.append((f"{label}: no refund for the current period", ZERO, ref))
        return
    start, end = _period_of(pay, snapshot)
    fraction = unused_fraction(rule.mode, start, end, at)
    prorated = round_money(pay.amount * fraction, snapshot.currency)
    pq.time_based = True
    pq.lines.append((f"{label}: {_mode_label(rule.mode)}", prorated, rule.clause.ref))
    if rule.fixed_deduction > 0 and pay.kind == PaymentKind.SUBSCRIPTION:
        taken = min(rule.fixed_deduction, prorated)
        pq.lines.append((rule.fixed_deduction_label, -taken, rule.clause.ref))


def _mode_label(mode: Proration) -> str:
    return {
        Proration.BY_MINUTE: "unused time, to the minute",
        Proration.BY_DAY: "unused whole days",
        Proration.WHOLE_MONTHS: "unused months, the current one included",
        Proration.WHOLE_MONTHS_EXCEPT_CURRENT: "months not yet started",
    }[mode]


def _cap(pq: _PaymentQuote) -> None:
    """Never negative, never above what is left of the payment after earlier refunds."""
    total = sum((amount for _, amount, _ in pq.lines), ZERO)
    if total > pq.remainder:
        pq.lines.append(("Already refunded", pq.remainder - total, ""))
    elif total < 0:
        pq.lines.append(("A refund cannot be negative", -total, ""))


def quote_plan_change(
    *,
    rules: PolicyRules,
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    new_price: Decimal,
    at: datetime,
) -> PlanChangeQuote:
    """Upgrade: the prorated price difference for the rest of the period, charged now.
    Downgrade: no charge; effective at period end (a cycle later inside the downgrade
    notice), refunded only if the policy refunds the current period on downgrade."""
    changes = rules.changes
    ref = changes.clause.ref
    currency = snapshot.currency
    keep = 1 - snapshot.discount_percent / 100
    diff = (new_price - snapshot.price) * keep
    start, end = snapshot.period_start, snapshot.period_end
    lines: list[QuoteLine] = []
    charge = refund = ZERO
    notice_applied = False
    if diff > 0:
        direction = "upgrade"
        if changes.upgrade_effective == Effective.IMMEDIATELY:
            effective_at = at
            fraction = (
                Decimal(1)
                if changes.upgrade_proration == Proration.NONE
                else unused_fraction(changes.upgrade_proration, start, end, at)
            )
            charge = round_money(diff * fraction, currency)
            lines.append(QuoteLine("Price difference for the rest of the period", charge, ref))
        else:
            effective_at = end
            lines.append(QuoteLine("New price from the next period", ZERO, ref))
    elif diff < 0:
        direction = "downgrade"
        if changes.downgrade_effective == Effective.IMMEDIATELY:
            effective_at = at
        else:
            effective_at = end
            notice = rules.downgrade_notice
            if notice is not None and at > end - timedelta(days=notice.days):
                effective_at = add_months(end, interval_months(snapshot.interval))
                notice_applied = True
                lines.append(
                    QuoteLine(
                        f"Requested less than {notice.days} days before renewal: "
                        "takes effect a cycle later",
                        ZERO,
                        notice.clause.ref,
                    )
                )
        if changes.downgrade_refunds_current_period and effective_at == at:
            refund = round_money(
                -diff * unused_fraction(Proration.BY_MINUTE, start, end, at), currency
            )
            lines.append(QuoteLine("Unused difference for the current period", refund, ref))
        else:
            lines.append(QuoteLine("No refund or credit for the current period", ZERO, ref))
    else:
        direction = "same"
        effective_at = at
    return PlanChangeQuote(
        policy=policy_label,
        currency=currency,
        direction=direction,
        charge_now=charge,
        refund=refund,
        effective_at=effective_at,
        notice_applied=notice_applied,
        lines=tuple(lines),
    )
