"""Pausing and resuming a subscription (the calculations are in billing/policy/pauses.py).

Invariants:
- only an active subscription that is not being cancelled pauses; billing stops (the
  renewal job only renews active and trialing subscriptions) and the period end, with a
  downgrade due then, moves later by the pause length;
- a paused subscription stays live: the workspace keeps its plan, data and access (no
  preset restricts access during a pause), and is never purged for inactivity meanwhile;
- it resumes early on request, or at `resumes_at` through `subscriptions_resume_due`,
  which the renewal job calls first, so a period that ended during the pause renews in
  the same run;
- the refund window is not restarted (quotes: see billing/policy/pauses.py);
- a policy may limit pauses (`limits`: e.g. two per year): one more is refused, naming
  the limit, and the pause offer is not shown.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from accounts.services.audit import audit_record, snapshot_fields
from billing.errors import DomainError, InvalidTransition
from billing.models import Subscription
from billing.models.retention_offers import MAX_PAUSE_MONTHS
from billing.policy.pauses import pause_window, period_end_on_resume
from billing.policy.rules import LimitedChange
from billing.services.change_limits import ensure_change_allowed
from billing.services.customer_emails import customer_email_on_commit
from billing.services.subscription_locks import subscription_id_batches, subscription_lock
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition

S = Subscription.Status
PAUSE_FIELDS = (
    "status",
    "paused_at",
    "resumes_at",
    "current_period_end",
    "pending_plan_effective_at",
)


def subscription_pause(
    *, subscription: Subscription, months: int, actor: User | None, now: datetime
) -> Subscription:
    if not isinstance(months, int) or not 1 <= months <= MAX_PAUSE_MONTHS:
        raise DomainError(f"Pause for 1 to {MAX_PAUSE_MONTHS} months.", field="months")
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        if locked.status != S.ACTIVE:
            raise InvalidTransition(
                f"The subscription is {locked.get_status_display().lower()}: only an active "
                "subscription can be paused.",
                field="status",
            )
        if locked.cancel_effective_at is not None:
            raise InvalidTransition(
                "The subscription is being cancelled: withdraw the cancellation to pause.",
                field="status",
            )
        if locked.plan.is_free:
            raise DomainError(
                "The Free plan costs nothing: there is nothing to pause.", field="plan"
            )
        ensure_change_allowed(subscription=locked, change=LimitedChange.PAUSE, now=now)
        ensure_transition(
            SUBSCRIPTION_TRANSITIONS, locked.status, S.PAUSED, what="The subscription"
        )
        window = pause_window(period_end=locked.current_period_end, at=now, months=months)
        before = snapshot_fields(locked, *PAUSE_FIELDS)
        if locked.pending_plan_effective_at == locked.current_period_end:
            locked.pending_plan_effective_at = window.period_end
        locked.status = S.PAUSED
        locked.paused_at = now
        locked.resumes_at = window.resumes_at
        locked.current_period_end = window.period_end
        locked.save(update_fields=list(PAUSE_FIELDS))
        audit_record(
            actor=actor,
            action="subscription.pause",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, *PAUSE_FIELDS),
            note=f"{months} month(s)",
        )
        customer_email_on_commit("subscription_paused", object_id=locked.pk)
    return locked


def subscription_resume(
    *, subscription: Subscription, actor: User | None, now: datetime
) -> Subscription:
    """Resume now: early, the period end moves back by the pause left unused."""
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        return _resume(locked, actor=actor, now=now)


def _resume(locked: Subscription, *, actor: User | None, now: datetime) -> Subscription:
    if locked.status != S.PAUSED:
        raise InvalidTransition(
            f"The subscription is {locked.get_status_display().lower()}, not paused.",
            field="status",
        )
    ensure_transition(SUBSCRIPTION_TRANSITIONS, locked.status, S.ACTIVE, what="It")
    before = snapshot_fields(locked, *PAUSE_FIELDS)
    period_end = period_end_on_resume(
        period_end=locked.current_period_end, resumes_at=locked.resumes_at, at=now
    )
    if locked.pending_plan_effective_at == locked.current_period_end:
        locked.pending_plan_effective_at = period_end
    locked.status = S.ACTIVE
    locked.current_period_end = period_end
    locked.paused_at = None
    locked.resumes_at = None
    locked.save(update_fields=list(PAUSE_FIELDS))
    audit_record(
        actor=actor,
        action="subscription.resume",
        target=locked,
        now=now,
        before=before,
        after=snapshot_fields(locked, *PAUSE_FIELDS),
        note="early, on request" if actor else "the pause ended",
    )
    customer_email_on_commit("subscription_resumed", object_id=locked.pk)
    return locked


def resume_due(now: datetime) -> Q:
    """Paused subscriptions whose pause is over: a condition on the row, for the lock."""
    return Q(status=S.PAUSED, resumes_at__lte=now)


def subscriptions_resume_due(*, now: datetime, batch_size: int = 500) -> int:
    """Resume every subscription whose pause has ended; returns how many. Called by the
    renewal job before it renews; safe to run twice and concurrently (SKIP LOCKED and the
    due condition re-checked on the locked row)."""
    resumed = 0
    due = Subscription.objects.filter(resume_due(now))
    for ids in subscription_id_batches(due, batch_size=batch_size):
        for pk in ids:
            with transaction.atomic():
                locked = subscription_lock(pk, resume_due(now))
                if locked is not None:
                    _resume(locked, actor=None, now=now)
                    resumed += 1
    return resumed
