"""The period-end job's changes of plan, per batch: downgrades due at the period end, and
a limits check of subscriptions whose add-ons just ended.

Each batch is one transaction with a constant number of queries (the lock with plans,
workspaces and add-ons; one UPDATE per target plan; one usage query; the workspaces'
statuses; one INSERT of audit records). A subscription whose cancellation is due is never
downgraded (`downgrade_due`): it ends instead, so cancellation and downgrade batches may
run in any order, on any worker. Idempotent: an applied downgrade is no longer pending,
and a limits check of an unchanged workspace changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from accounts.services.audit import audit_entry, audit_records_write
from billing.models import AddOn, Subscription
from billing.services.plan_changes import workspaces_limits_enforce_batch
from billing.services.subscription_locks import subscription_id_batches, subscriptions_lock

# The period-end job looks this far back for ended add-ons, so a missed day is caught up.
ADDON_END_LOOKBACK = timedelta(days=3)


def downgrade_due(now: datetime) -> Q:
    """A condition on the row, so the lock re-checks it (see `subscription_locks`); a
    subscription ending now is left to its cancellation."""
    return Q(
        status__in=Subscription.LIVE_STATUSES,
        pending_plan__isnull=False,
        pending_plan_effective_at__lte=now,
    ) & (Q(cancel_effective_at__isnull=True) | Q(cancel_effective_at__gt=now))


def pending_downgrades_due(now: datetime):
    return Subscription.objects.filter(downgrade_due(now))


def addon_endings_due(now: datetime):
    """Live subscriptions with an add-on that ended in the last few days."""
    ended = AddOn.objects.filter(ends_at__lte=now, ends_at__gt=now - ADDON_END_LOOKBACK)
    return Subscription.objects.filter(
        status__in=Subscription.LIVE_STATUSES, pk__in=ended.values("subscription_id")
    )


@dataclass
class PlanChangeSummary:
    downgrades_applied: int = 0
    limits_checked: int = 0
    over_limits: int = 0

    def add(self, other: PlanChangeSummary) -> None:
        self.downgrades_applied += other.downgrades_applied
        self.limits_checked += other.limits_checked
        self.over_limits += other.over_limits

    def as_line(self) -> str:
        return (
            f"downgrades_applied={self.downgrades_applied} "
            f"limits_checked={self.limits_checked} over_limits={self.over_limits}"
        )


def plan_changes_apply_due(*, now: datetime, batch_size: int = 500) -> PlanChangeSummary:
    """Apply every downgrade due at the period end, then re-check the limits of
    subscriptions whose add-ons ended, batch after batch (the command's path; the task
    fans the same batches out)."""
    summary = PlanChangeSummary()
    for ids in subscription_id_batches(pending_downgrades_due(now), batch_size=batch_size):
        summary.add(downgrades_apply_batch(subscription_ids=ids, now=now))
    for ids in subscription_id_batches(addon_endings_due(now), batch_size=batch_size):
        summary.add(addon_endings_check_batch(subscription_ids=ids, now=now))
    return summary


def downgrades_apply_batch(*, subscription_ids: list[int], now: datetime) -> PlanChangeSummary:
    """Move those of these subscriptions still due to their pending plan, in one
    transaction, then enforce the new plan's limits."""
    summary = PlanChangeSummary()
    with transaction.atomic():
        locked = subscriptions_lock(subscription_ids, downgrade_due(now), with_workspace=True)
        by_plan, audits = defaultdict(list), []
        for subscription in locked:
            before = {"plan": subscription.plan_id, "pending_plan": subscription.pending_plan_id}
            by_plan[subscription.pending_plan_id].append(subscription.pk)
            subscription.plan = subscription.pending_plan
            subscription.pending_plan = None
            subscription.pending_plan_effective_at = None
            audits.append(
                audit_entry(
                    actor=None,
                    action="subscription.downgrade_applied",
                    target=subscription,
                    now=now,
                    before=before,
                    after={"plan": subscription.plan_id, "pending_plan": None},
                )
            )
        for plan_id, ids in by_plan.items():
            Subscription.objects.filter(pk__in=ids).update(
                plan_id=plan_id, pending_plan=None, pending_plan_effective_at=None
            )
        audit_records_write(audits)
        breaches = workspaces_limits_enforce_batch(subscriptions=locked, now=now)
    summary.downgrades_applied = len(locked)
    summary.over_limits = sum(1 for found in breaches.values() if found)
    return summary


def addon_endings_check_batch(*, subscription_ids: list[int], now: datetime) -> PlanChangeSummary:
    """Re-check the limits of these subscriptions (their add-ons ended), in one
    transaction."""
    summary = PlanChangeSummary()
    with transaction.atomic():
        locked = subscriptions_lock(
            subscription_ids, Q(status__in=Subscription.LIVE_STATUSES), with_workspace=True
        )
        breaches = workspaces_limits_enforce_batch(subscriptions=locked, now=now)
    summary.limits_checked = len(locked)
    summary.over_limits = sum(1 for found in breaches.values() if found)
    return summary
