"""Quote a plan change, as Kill Bill invoices one: a credit for the unused part of the old
plan (negative, its REPAIR_ADJ) and a charge for the new plan over the same remainder
(positive, its RECURRING item), each with its period and clause; `net` is their sum
(positive: charged now, negative: credited).

An upgrade takes effect now (or at period end) and is prorated per
`changes.upgrade_proration` (`none`: the full difference). A downgrade takes effect at
period end, a cycle later inside the downgrade notice, with nothing moved; or, where the
policy says so, now, crediting the difference per `changes.downgrade_proration`. A change
of interval starts the new plan's own period at the change: its full price is charged;
where the policy times interval switches (`to_longer_interval`, `to_shorter_interval`),
that timing decides instead (Google: Annual to Flexible only at renewal).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from billing.money import ZERO, round_money

from .calendars import add_months, interval_months
from .proration import unused_fraction
from .quotes import PlanChangeLine, PlanChangeQuote, QuoteLine
from .rules import ChangeRule, Effective, Interval, PolicyRules, Proration
from .snapshot import SubscriptionSnapshot


def quote_plan_change(
    *,
    rules: PolicyRules,
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    new_price: Decimal,
    at: datetime,
    new_interval: Interval | None = None,
    new_plan: str = "",
    old_plan: str = "",
) -> PlanChangeQuote:
    changes = rules.changes
    ref = changes.clause.ref
    currency = snapshot.currency
    keep = 1 - snapshot.discount_percent / 100
    interval = new_interval or snapshot.interval
    old_yearly = snapshot.price * 12 / interval_months(snapshot.interval)
    new_yearly = new_price * 12 / interval_months(interval)
    start, end = snapshot.period_start, snapshot.period_end
    old_name = old_plan or "the current plan"
    new_name = new_plan or "the new plan"
    lines: list[QuoteLine] = []
    notice_applied = False
    if new_yearly > old_yearly:
        direction = "upgrade"
        now = changes.upgrade_effective == Effective.IMMEDIATELY
        mode, moves = changes.upgrade_proration, True
    elif new_yearly < old_yearly:
        direction = "downgrade"
        now = changes.downgrade_effective == Effective.IMMEDIATELY
        mode, moves = changes.downgrade_proration, changes.downgrade_refunds_current_period
    else:
        direction, now, mode, moves = "same", True, Proration.NONE, False
    switch = _interval_switch(changes, snapshot.interval, interval)
    if switch is not None:
        now = switch == Effective.IMMEDIATELY
    if now:
        effective_at = at
        if moves:
            fraction = (
                Decimal(1) if mode == Proration.NONE else unused_fraction(mode, start, end, at)
            )
            new_end = (
                end if interval == snapshot.interval else add_months(at, interval_months(interval))
            )
            new_fraction = fraction if interval == snapshot.interval else Decimal(1)
            # The net is rounded once, as one price difference; the charge line takes
            # the rounding so the two lines always add up to it.
            credit = -round_money(snapshot.price * keep * fraction, currency)
            net = round_money(
                (new_price * new_fraction - snapshot.price * fraction) * keep, currency
            )
            lines.append(
                PlanChangeLine(
                    f"Unused time on {old_name} ({_span(max(at, start), end)})",
                    credit,
                    ref,
                    period_start=max(at, start),
                    period_end=end,
                )
            )
            lines.append(
                PlanChangeLine(
                    f"{new_name[0].upper()}{new_name[1:]} from the change "
                    f"({_span(max(at, start), new_end)})",
                    net - credit,
                    ref,
                    period_start=max(at, start),
                    period_end=new_end,
                )
            )
        elif direction == "downgrade":
            lines.append(QuoteLine("No refund or credit for the current period", ZERO, ref))
    else:
        effective_at = end
        if switch == Effective.PERIOD_END:
            if snapshot.commitment_end is not None and snapshot.commitment_end > end:
                effective_at = snapshot.commitment_end
            longer = "longer" if _longer(snapshot.interval, interval) else "shorter"
            lines.append(
                QuoteLine(
                    f"A switch to a {longer} billing interval waits for the renewal "
                    f"({effective_at:%d %B %Y})",
                    ZERO,
                    ref,
                )
            )
        elif direction == "downgrade":
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
            lines.append(QuoteLine("No refund or credit for the current period", ZERO, ref))
        else:
            lines.append(QuoteLine("New price from the next period", ZERO, ref))
    net = sum((line.amount for line in lines), ZERO)
    return PlanChangeQuote(
        policy=policy_label,
        currency=currency,
        direction=direction,
        charge_now=net if net > 0 else ZERO,
        refund=-net if net < 0 else ZERO,
        effective_at=effective_at,
        notice_applied=notice_applied,
        lines=tuple(lines),
    )


def _longer(old: Interval, new: Interval) -> bool:
    return interval_months(new) > interval_months(old)


def _interval_switch(changes: ChangeRule, old: Interval, new: Interval) -> Effective | None:
    """When a change of billing interval takes effect, if the policy says (else None)."""
    if old == new:
        return None
    return changes.to_longer_interval if _longer(old, new) else changes.to_shorter_interval


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%d %B %Y} to {end:%d %B %Y}"
