"""Quote a plan change: an upgrade charges the prorated difference now, a downgrade waits
for the period end (a cycle later inside the downgrade notice)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from billing.money import ZERO, round_money

from .calendars import add_months, interval_months
from .proration import unused_fraction
from .quotes import PlanChangeQuote, QuoteLine
from .rules import Effective, PolicyRules, Proration
from .snapshot import SubscriptionSnapshot


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
