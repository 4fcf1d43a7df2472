"""The daily renewal job.

Selects live, paid subscriptions whose current period (or trial) has ended and that are
not being cancelled, and charges the next period (`charging.subscription_period_charge`):
credit first, then the gateway. A failed charge starts dunning. Subscriptions being
cancelled are never charged: the cancellation job ends them (a trial cancelled before its
end therefore ends without any charge, prorated-credit §Introduction).

Safe to run twice and concurrently: rows are claimed with SKIP LOCKED and the due
condition is re-checked on the locked rows; the gateway key is per subscription and period.
Work is per batch (`subscriptions_renew_batch`, one transaction): the batch's
subscriptions, add-ons, policies and credit are read in a few queries and written with bulk
statements, so a batch costs the same number of queries whatever its size; only renewals
that spend credit, carry order packs, change plan or fail add a few queries each. The
daily task fans the batches out to Celery workers. Credit added after its batch was read
is spent at the next renewal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from billing.gateways import PaymentGateway, get_gateway
from billing.models import Plan, RefundPolicy, Subscription
from billing.services.charging import (
    PeriodCharge,
    policies_in_force,
    subscriptions_period_charge_batch,
    workspaces_with_credit,
)
from billing.services.dunning import subscription_charge_failed
from billing.services.pauses import subscriptions_resume_due
from billing.services.plan_changes import workspace_limits_enforce
from billing.services.retention_offers import retention_discount_period_used
from billing.services.subscription_locks import subscription_id_batches, subscriptions_lock

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

    def add(self, other: RenewalSummary) -> None:
        self.renewed += other.renewed
        self.trials_converted += other.trials_converted
        self.failed += other.failed
        self.skipped += other.skipped

    def as_line(self) -> str:
        return (
            f"renewed={self.renewed} trials_converted={self.trials_converted} "
            f"failed={self.failed} skipped={self.skipped}"
        )


def subscriptions_renew_due(
    *, now: datetime, batch_size: int = 500, gateway: PaymentGateway | None = None
) -> RenewalSummary:
    """Renew every due subscription, batch after batch (the command's path; the daily task
    fans the same batches out to workers instead)."""
    gateway = gateway or get_gateway()
    summary = RenewalSummary()
    policies = policies_in_force(now)
    for ids in renewal_batches(now=now, batch_size=batch_size):
        summary.add(
            subscriptions_renew_batch(
                subscription_ids=ids, now=now, gateway=gateway, policies=policies
            )
        )
    return summary


def renewal_batches(*, now: datetime, batch_size: int) -> Iterator[list[int]]:
    """Start a renewal run: pauses that ended become active first (so a period that ended
    during a pause renews now), then the ids of the due subscriptions in keyset pages of
    `batch_size`. The command's loop and the fanned-out task both start here."""
    subscriptions_resume_due(now=now, batch_size=batch_size)
    return subscription_id_batches(renewals_due(now), batch_size=batch_size)


def subscriptions_renew_batch(
    *,
    subscription_ids: list[int],
    now: datetime,
    gateway: PaymentGateway | None = None,
    policies: dict[str, RefundPolicy] | None = None,
) -> RenewalSummary:
    """Renew those of these subscriptions still due and not taken by another run, in one
    transaction: a constant number of queries for the batch (lock, add-ons, credit, then
    one bulk write per table), plus a few per renewal that spends credit, carries order
    packs, changes plan or fails."""
    gateway = gateway or get_gateway()
    policies = policies_in_force(now) if policies is None else policies
    summary = RenewalSummary()
    with transaction.atomic():
        locked = subscriptions_lock(subscription_ids, renewal_due(now))
        summary.skipped = len(subscription_ids) - len(locked)
        before = {s.pk: (s.status, s.plan_id) for s in locked}
        charges = subscriptions_period_charge_batch(
            subscriptions=locked,
            now=now,
            gateway=gateway,
            attempt="renewal",
            policies=policies,
            with_credit=workspaces_with_credit([s.workspace_id for s in locked]),
        )
        for subscription in locked:
            status_before, plan_before = before[subscription.pk]
            _after_charge(
                subscription,
                charges[subscription.pk],
                was_trial=status_before == S.TRIALING,
                plan_before=plan_before,
                now=now,
                summary=summary,
            )
    return summary


def _after_charge(
    subscription: Subscription,
    charge: PeriodCharge,
    *,
    was_trial: bool,
    plan_before: int,
    now: datetime,
    summary: RenewalSummary,
) -> None:
    """A failed charge starts dunning; a successful one uses up a period of a retention
    discount; a downgrade taken at the renewal enforces the new plan\x27s limits."""
    if not charge.succeeded:
        summary.failed += 1
        subscription_charge_failed(
            subscription=subscription, payment_failure_message=charge.failure_message, now=now
        )
        return
    summary.renewed += 1
    summary.trials_converted += was_trial
    retention_discount_period_used(subscription)
    if subscription.plan_id != plan_before:
        workspace_limits_enforce(subscription=subscription, now=now)
