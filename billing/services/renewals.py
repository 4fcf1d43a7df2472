"""The daily renewal job.

Selects live, paid subscriptions whose current period (or trial) has ended and that are
not being cancelled, and charges the next period (`charging.subscription_period_charge`):
credit first, then the gateway. A failed charge starts dunning. Subscriptions being
cancelled are never charged: the cancellation job ends them (a trial cancelled before its
end therefore ends without any charge, prorated-credit §Introduction).

Safe to run twice and concurrently: rows are claimed with SKIP LOCKED and the due
condition is re-checked on the locked row; the gateway key is per subscription and period.
Queries: two per batch (the ids, and which of their workspaces hold credit), then a
constant number per subscription. Credit added after its batch was read is spent at the
next renewal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from billing.gateways import PaymentGateway, get_gateway
from billing.models import Plan, RefundPolicy, Subscription
from billing.selectors import policy_rules
from billing.services.charging import (
    policies_in_force,
    subscription_period_charge,
    workspaces_with_credit,
)
from billing.services.dunning import subscription_charge_failed
from billing.services.pauses import subscriptions_resume_due
from billing.services.plan_changes import workspace_limits_enforce
from billing.services.retention_offers import retention_discount_period_used
from billing.services.subscription_locks import subscription_id_batches, subscription_lock

S = Subscription.Status


def renewal_due(now: datetime) -> Q:
    """Paid subscriptions whose period or trial has ended, not cancelling: a condition on
    the row, so the lock re-checks it (see `subscription_locks`)."""
    ended = Q(current_period_end__lte=now) | Q(status=S.TRIALING, trial_end__lte=now)
    return (
        ended
        & Q(status__in=(S.ACTIVE, S.TRIALING))
        & Q(cancel_at_period_end=False, cancel_effective_at__isnull=True)
        & ~Q(plan__interval=Plan.Interval.NONE)
    )


def renewals_due(now: datetime) -> QuerySet:
    return Subscription.objects.filter(renewal_due(now))


@dataclass
class RenewalSummary:
    renewed: int = 0
    trials_converted: int = 0
    failed: int = 0
    skipped: int = 0  # locked by a concurrent run, or no longer due

    def as_line(self) -> str:
        return (
            f"renewed={self.renewed} trials_converted={self.trials_converted} "
            f"failed={self.failed} skipped={self.skipped}"
        )


def subscriptions_renew_due(
    *, now: datetime, batch_size: int = 500, gateway: PaymentGateway | None = None
) -> RenewalSummary:
    gateway = gateway or get_gateway()
    summary = RenewalSummary()
    # Pauses that ended become active first, so a period that ended meanwhile renews now.
    subscriptions_resume_due(now=now, batch_size=batch_size)
    policies = policies_in_force(now)
    due = renewals_due(now)
    for ids in subscription_id_batches(due, batch_size=batch_size):
        with_credit = workspaces_with_credit(
            Subscription.objects.filter(pk__in=ids).values("workspace_id")
        )
        for pk in ids:
            _renew_one(
                pk,
                now=now,
                gateway=gateway,
                summary=summary,
                policies=policies,
                with_credit=with_credit,
            )
    return summary


def _renew_one(
    pk: int,
    *,
    now: datetime,
    gateway: PaymentGateway,
    summary: RenewalSummary,
    policies: dict[str, RefundPolicy],
    with_credit: set[int],
) -> None:
    with transaction.atomic():
        locked = subscription_lock(pk, renewal_due(now))
        if locked is None:
            summary.skipped += 1
            return
        was_trial = locked.status == S.TRIALING
        plan_before = locked.plan_id
        charge = subscription_period_charge(
            subscription=locked,
            rules=policy_rules(locked.policy),
            now=now,
            gateway=gateway,
            attempt="renewal",
            policies=policies,
            may_have_credit=locked.workspace_id in with_credit,
        )
        if not charge.succeeded:
            summary.failed += 1
            subscription_charge_failed(
                subscription=locked, payment_failure_message=charge.failure_message, now=now
            )
            return
        summary.renewed += 1
        summary.trials_converted += was_trial
        retention_discount_period_used(locked)
        if locked.plan_id != plan_before:
            workspace_limits_enforce(subscription=locked, now=now)
