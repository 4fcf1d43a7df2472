"""The subscription snapshot a stored quote was computed from, kept with the quote.

Cancellation requests and refunds store it in their `snapshot` column; plan changes in
their audit record (`after["snapshot"]`, with `after["new_price"]`). Replaying a policy
version on past cases reads these, so a replay needs no history tables. Records stored
before snapshots were kept get one rebuilt by `snapshots_as_they_stood`: payments paid by
then, the refunds committed by then, services completed by then, add-ons started by then,
disputes open then, and the period the subscription was paying for at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing.account_history import snapshot_extras
from billing.models import Dispute, Payment, Refund, Subscription
from billing.policy.codec import from_json, to_json
from billing.policy.rules import Channel, Interval, PaymentKind, PaymentMethod, ServiceKind
from billing.policy.snapshot import (
    AddOnSnapshot,
    PaymentSnapshot,
    ServiceSnapshot,
    SubscriptionSnapshot,
)
from billing.selectors import policy_rules, subscription_for_quote, subscription_snapshot

ZERO = Decimal("0")


def snapshot_json(snapshot: SubscriptionSnapshot) -> dict[str, Any]:
    return to_json(snapshot)


def snapshot_from_json(data: dict[str, Any]) -> SubscriptionSnapshot:
    return from_json(SubscriptionSnapshot, data, "snapshot")


def stored_snapshot(
    subscription: Subscription, *, payments: list[Payment] | None = None
) -> dict[str, Any]:
    """The snapshot `quote_for_subscription` (or a plan-change quote) sees now, as JSON
    (with the seats and changes its policy's rules read)."""
    extras = snapshot_extras(subscription, policy_rules(subscription.policy))
    return snapshot_json(subscription_snapshot(subscription, payments=payments, **extras))


def payment_snapshot(payment: Payment) -> dict[str, Any] | None:
    """The snapshot of the subscription a payment paid for (None: no subscription)."""
    if payment.subscription_id is None:
        return None
    return stored_snapshot(subscription_for_quote(payment.subscription_id))


def snapshots_as_they_stood(
    cases: Iterable[tuple[int, datetime]],
) -> dict[tuple[int, datetime], SubscriptionSnapshot]:
    """Rebuilt snapshots for (subscription id, moment) pairs, in five queries per call
    whatever the number of cases (call it per batch)."""
    cases = list(cases)
    ids = sorted({sub_id for sub_id, _ in cases})
    subscriptions = {
        s.pk: s
        for s in Subscription.objects.filter(pk__in=ids)
        .select_related("plan", "workspace")
        .prefetch_related("services", "addons")
    }
    payments = defaultdict(list)
    for payment in Payment.objects.filter(
        subscription_id__in=ids, status=Payment.Status.SUCCEEDED
    ).order_by("paid_at", "pk"):
        payments[payment.subscription_id].append(payment)
    payment_ids = [p.pk for rows in payments.values() for p in rows]
    refunds = defaultdict(list)
    for refund in Refund.objects.filter(
        payment_id__in=payment_ids, status__in=Refund.COMMITTED_STATUSES
    ).only("payment_id", "amount", "created_at"):
        refunds[refund.payment_id].append(refund)
    disputes = defaultdict(list)
    for dispute in Dispute.objects.filter(payment_id__in=payment_ids).only(
        "payment_id", "opened_at", "closed_at"
    ):
        disputes[dispute.payment_id].append(dispute)
    return {
        (sub_id, at): _as_it_stood(subscriptions[sub_id], payments[sub_id], refunds, disputes, at)
        for sub_id, at in cases
        if sub_id in subscriptions
    }


def _as_it_stood(subscription, payments, refunds, disputes, at: datetime) -> SubscriptionSnapshot:
    plan = subscription.plan
    paid = [p for p in payments if p.paid_at <= at]
    covering = [
        p
        for p in paid
        if p.kind == Payment.Kind.SUBSCRIPTION
        and p.period_start is not None
        and p.period_end is not None
        and p.period_start <= at
    ]
    period = covering[-1] if covering else None
    trialing = subscription.trial_end is not None and at < subscription.trial_end
    return SubscriptionSnapshot(
        currency=plan.currency,
        interval=Interval.YEAR if plan.interval == Interval.YEAR else Interval.MONTH,
        price=plan.price,
        subscribed_at=subscription.started_at,
        trial_end=subscription.trial_end,
        period_start=period.period_start if period else subscription.current_period_start,
        period_end=period.period_end if period else subscription.current_period_end,
        payments=tuple(
            PaymentSnapshot(
                ref=str(p.pk),
                kind=PaymentKind(p.kind),
                amount=p.amount,
                paid_at=p.paid_at,
                tax=p.tax,
                refunded=sum((r.amount for r in refunds[p.pk] if r.created_at < at), ZERO),
                disputed=any(
                    d.opened_at <= at and (d.closed_at is None or d.closed_at > at)
                    for d in disputes[p.pk]
                ),
                period_start=p.period_start,
                period_end=p.period_end,
            )
            for p in paid
        ),
        services=tuple(
            ServiceSnapshot(
                ServiceKind(s.kind),
                s.completed_at if s.completed_at and s.completed_at <= at else None,
                s.price,
            )
            for s in subscription.services.all()
        ),
        addons=tuple(
            AddOnSnapshot(a.kind, a.quantity, a.price, a.started_at, a.ends_at)
            for a in subscription.addons.all()
            if a.started_at <= at
        ),
        discount_percent=(
            ZERO if subscription.discount_void else Decimal(subscription.discount_percent)
        ),
        status="trialing" if trialing else "active",
        suspended_for_misuse=subscription.workspace.suspension_reason == "misuse",
        channel=Channel(subscription.purchase_channel),
        payment_method=PaymentMethod(subscription.payment_method),
        country=subscription.workspace.country.upper(),
        plan_code=plan.code,
        commitment_end=subscription.commitment_end,
        # Only the latest activity is kept: a workspace used after the moment is taken as
        # used up to it, so a rebuilt case never looks unused when it may not have been.
        last_used_at=(
            min(subscription.workspace.last_activity_at, at)
            if subscription.workspace.last_activity_at
            else None
        ),
    )


def plan_change_snapshot(subscription: Subscription, plan) -> dict[str, Any]:
    """What a plan-change audit record keeps to replay its quote: the snapshot the quote
    saw (plan-change quotes read no payments) and the new plan's price."""
    return {
        "snapshot": stored_snapshot(subscription, payments=[]),
        "new_price": str(plan.price),
    }
