"""Outside the refund window: the first matching proration rule refunds the unused part of
the payment covering the current period, minus its fixed deduction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from billing.money import ZERO, round_money

from .calendars import add_months
from .payment_work import PaymentWork, period_of
from .proration import MODE_LABELS, unused_fraction
from .rules import PaymentKind, PolicyRules, Proration, ProrationRule, amount_for
from .snapshot import SubscriptionSnapshot

# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_NONE, _SUBSCRIPTION = Proration.NONE, PaymentKind.SUBSCRIPTION


def proration_rule(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime
) -> ProrationRule | None:
    memo = snapshot.index.memo
    if "first_anniversary" not in memo:
        memo["first_anniversary"] = add_months(snapshot.subscribed_at, 12)
    first_year = at < memo["first_anniversary"]
    # Two answers per snapshot and rule list (in or after the first year), kept by identity.
    chosen = snapshot.index.by_rule
    entry = chosen.get(id(rules.proration))
    if entry is None or entry[0] is not rules.proration:
        entry = (rules.proration, {})
        chosen[id(rules.proration)] = entry
    if first_year not in entry[1]:
        entry[1][first_year] = _first_matching(rules, snapshot, first_year)
    return entry[1][first_year]


def _first_matching(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, first_year: bool
) -> ProrationRule | None:
    for rule in rules.proration:
        if rule.interval is not None and rule.interval != snapshot.interval:
            continue
        if rule.phase == "first_year" and not first_year:
            continue
        if rule.phase == "after_first_year" and first_year:
            continue
        return rule
    return None


def prorate(
    pq: PaymentWork,
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    label: str,
) -> None:
    pay = pq.payment
    rule = proration_rule(rules, snapshot, at)
    if rule is None or pay.kind not in rule.kinds or rule.mode == _NONE:
        ref = rule.clause.ref if rule is not None else ""
        pq.lines.append((f"{label}: no refund for the current period", ZERO, ref))
        return
    start, end = period_of(pay, snapshot)
    fraction = unused_fraction(rule.mode, start, end, at)
    prorated = round_money(pay.amount * fraction, snapshot.currency)
    pq.time_based = True
    pq.lines.append((f"{label}: {MODE_LABELS[rule.mode]}", prorated, rule.clause.ref))
    if rule.fixed_deduction and pay.kind == _SUBSCRIPTION:
        _fixed_deduction(pq, rules, rule, snapshot, at, prorated)


def _fixed_deduction(
    pq: PaymentWork,
    rules: PolicyRules,
    rule: ProrationRule,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    prorated: Decimal,
) -> None:
    """The fee is taken once: where it was charged as its own payment, that payment is
    kept (never refunded) and nothing more is deducted from the proration."""
    ref = rule.clause.ref
    kind = rule.fixed_deduction_kind
    separate = snapshot.index.first_paid_by_kind.get(kind) if kind is not None else None
    if separate is not None and separate <= at:
        pq.lines.append(
            (f"{rule.fixed_deduction_label}: charged separately, not deducted again", ZERO, ref)
        )
        return
    index = rules.proration.index(rule)
    fee = amount_for(
        rule.fixed_deduction,
        snapshot.currency,
        rule=f"proration[{index}].fixed_deduction",
        clause=rule.clause,
    )
    pq.lines.append((rule.fixed_deduction_label, -min(fee, prorated), ref))
