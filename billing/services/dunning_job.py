"""The daily dunning job, per batch: retry, suspend or expire every subscription in
dunning whose next step is due (the steps themselves are described in `dunning`).

Invariants (the same end state, audit records and e-mails as `dunning_steps_apply` one
subscription at a time; `tests/billing/test_dunning_batches.py` compares the two):
- a batch is one transaction with a constant number of queries: the lock (with plans,
  policies, workspaces and add-ons), the retries charged with one gateway call each and
  written in bulk (`subscriptions_period_charge_batch`), one UPDATE for the recovered,
  one bulk UPDATE for the others, the workspaces' statuses, the Free-plan or disabled
  fallbacks of expiries, and one INSERT of audit records;
- rows are claimed with SKIP LOCKED and re-checked, so concurrent runs split the work
  and a second run the same day finds nothing due;
- a database error rolls the batch back; the batch is then run one subscription per
  transaction, and the retries charged again with the same idempotency keys, so the
  gateway never charges twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Q

from accounts.models import AuditRecord, Workspace
from accounts.services.audit import audit_entry, audit_records_write, snapshot_fields
from accounts.services.workspaces import StatusChange, workspaces_set_status
from billing.errors import DomainError
from billing.gateways import PaymentGateway, get_gateway
from billing.models import Subscription
from billing.policy.lifecycle import DunningStep, dunning_steps_due, next_retry_at
from billing.policy.rules import Fallback
from billing.selectors import policy_rules
from billing.services.charging import (
    PeriodCharge,
    policies_in_force,
    subscriptions_period_charge_batch,
    workspaces_with_credit,
)
from billing.services.dunning import (
    DUNNING_FIELDS,
    IN_DUNNING,
    DunningSummary,
    dunning_grace_until,
    dunning_steps_apply,
)
from billing.services.fallback import Ending, subscriptions_fall_back_batch
from billing.services.job_emails import JobEmails
from billing.services.subscription_locks import (
    subscription_id_batches,
    subscription_lock,
    subscriptions_lock,
)
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition
from billing.usage import free_plans_for

logger = logging.getLogger(__name__)
S = Subscription.Status
# What the failed retries, suspensions and expiries of a batch change, in one bulk UPDATE.
STEP_FIELDS = ("status", "dunning_attempts", "next_retry_at", "ended_at", "discount_void")


def dunning_due_queryset(now: datetime):
    """Subscriptions in dunning with a step possibly due: a retry, or the grace period over
    (expiry always comes after the grace period, so it is covered too)."""
    return Subscription.objects.filter(status__in=IN_DUNNING).filter(
        Q(next_retry_at__lte=now) | Q(grace_until__lte=now) | Q(grace_until__isnull=True)
    )


def dunning_run_due(
    *, now: datetime, gateway: PaymentGateway | None = None, batch_size: int = 500
) -> DunningSummary:
    """Every subscription in dunning whose next step is due, batch after batch (the
    command's path; the daily task fans the same batches out to workers)."""
    gateway = gateway or get_gateway()
    summary = DunningSummary()
    for ids in dunning_batches(now=now, batch_size=batch_size):
        summary.add(dunning_run_batch(subscription_ids=ids, now=now, gateway=gateway))
    return summary


def dunning_batches(*, now: datetime, batch_size: int):
    """Ids of the subscriptions with a dunning step due, in keyset pages of `batch_size`."""
    return subscription_id_batches(dunning_due_queryset(now), batch_size=batch_size)


def dunning_run_batch(
    *, subscription_ids: list[int], now: datetime, gateway: PaymentGateway | None = None
) -> DunningSummary:
    """The due steps of those of these subscriptions still in dunning and not held by
    another run, in one transaction (one by one if the batch hits a database error)."""
    gateway = gateway or get_gateway()
    try:
        with transaction.atomic():
            return _run_batch(subscription_ids, now, gateway)
    except DatabaseError:
        logger.exception("dunning batch of %s failed: running one by one", len(subscription_ids))
        return dunning_run_each(subscription_ids=subscription_ids, now=now, gateway=gateway)


def dunning_run_each(
    *, subscription_ids: list[int], now: datetime, gateway: PaymentGateway | None = None
) -> DunningSummary:
    """The same, one subscription per transaction: the fallback of a failed batch, and
    the per-item baseline of `bench/jobs.py`."""
    gateway = gateway or get_gateway()
    summary = DunningSummary()
    for pk in subscription_ids:
        try:
            with transaction.atomic():
                locked = subscription_lock(pk, status__in=IN_DUNNING)
                if locked is None:
                    summary.skipped_locked += 1
                    continue
                summary.examined += 1
                dunning_steps_apply(locked, policy_rules(locked.policy), now, gateway, summary)
        except DomainError as error:
            summary.errors.append(f"subscription {pk}: {error.message}")
    return summary


def _run_batch(subscription_ids: list[int], now: datetime, gateway) -> DunningSummary:
    summary = DunningSummary()
    locked = subscriptions_lock(
        subscription_ids, Q(status__in=IN_DUNNING), with_workspace=True, with_rules=True
    )
    summary.skipped_locked = len(subscription_ids) - len(locked)
    summary.examined = len(locked)
    steps, before = {}, {}
    for subscription in locked:
        rules = policy_rules(subscription.policy)
        before[subscription.pk] = snapshot_fields(subscription, *DUNNING_FIELDS)
        steps[subscription.pk] = dunning_steps_due(
            rules.dunning,
            status=subscription.status,
            grace_until=dunning_grace_until(subscription, rules),
            next_retry=subscription.next_retry_at,
            now=now,
        )
    free_plans = free_plans_for(s.plan.policy_slug for s in locked)
    retrying = [s for s in locked if DunningStep.RETRY in steps[s.pk]]
    charges = subscriptions_period_charge_batch(
        subscriptions=retrying,
        now=now,
        gateway=gateway,
        attempt={s.pk: f"retry-{s.dunning_attempts}" for s in retrying},
        policies=policies_in_force(now),
        with_credit=workspaces_with_credit([s.workspace_id for s in retrying]),
    )
    batch = _Batch(now, free_plans)
    for subscription in locked:
        try:
            _steps(batch, subscription, steps[subscription.pk], charges, before, summary)
        except DomainError as error:  # refused before anything of this step changed
            summary.errors.append(f"subscription {subscription.pk}: {error.message}")
    batch.write()
    return summary


def _steps(batch, subscription, steps, charges, before, summary: DunningSummary) -> None:
    rules = policy_rules(subscription.policy)
    for step in steps:
        if step == DunningStep.RETRY:
            summary.retried += 1
            if batch.retried(subscription, rules, charges[subscription.pk], before):
                summary.recovered += 1
                return
        elif step == DunningStep.SUSPEND:
            batch.suspend(subscription)
            summary.suspended += 1
        elif step == DunningStep.EXPIRE:
            batch.expire(subscription, rules)
            summary.expired += 1


class _Batch:
    """The changes of one dunning batch, kept in memory and written together."""

    def __init__(self, now: datetime, free_plans: dict):
        self.now = now
        self.free_plans = free_plans
        self.recovered: list[Subscription] = []
        self.changed: dict[int, Subscription] = {}
        self.audits: list[AuditRecord] = []
        self.statuses: list[StatusChange] = []
        self.endings: list[Ending] = []
        self.emails = JobEmails()

    def _audit(self, subscription, action: str, before: dict, note: str = "", extra=()):
        self.audits.append(
            audit_entry(
                actor=None,
                action=action,
                target=subscription,
                now=self.now,
                before=before,
                after=snapshot_fields(subscription, *DUNNING_FIELDS, *extra),
                note=note,
            )
        )

    def retried(self, subscription, rules, charge: PeriodCharge, before: dict) -> bool:
        if charge.succeeded:  # already rolled and written by the charge batch
            subscription.status = S.ACTIVE
            subscription.past_due_since = subscription.next_retry_at = None
            subscription.grace_until = None
            subscription.dunning_attempts = 0
            self.recovered.append(subscription)
            self._audit(subscription, "subscription.recovered", before[subscription.pk])
            workspace = subscription.workspace
            if workspace.suspension_reason == Workspace.SuspensionReason.NON_PAYMENT:
                self.statuses.append(
                    StatusChange(
                        workspace.pk,
                        Workspace.Status.ACTIVE,
                        note="Payment received: access restored.",
                    )
                )
            self.emails.add("dunning_recovered", subscription.pk, payment=charge.payment)
            return True
        since = subscription.past_due_since or self.now
        subscription.dunning_attempts += 1
        subscription.next_retry_at = next_retry_at(
            rules.dunning, past_due_since=since, attempts=subscription.dunning_attempts
        )
        self.changed[subscription.pk] = subscription
        self._audit(
            subscription,
            "subscription.retry_failed",
            before[subscription.pk],
            note=charge.failure_message,
        )
        self.emails.add(
            "dunning_retry_failed",
            subscription.pk,
            failure=charge.failure_message,
            grace_until=dunning_grace_until(subscription, rules),
        )
        return False

    def suspend(self, subscription) -> None:
        ensure_transition(
            SUBSCRIPTION_TRANSITIONS, subscription.status, S.SUSPENDED, what="The subscription"
        )
        before = snapshot_fields(subscription, *DUNNING_FIELDS)
        subscription.status = S.SUSPENDED
        self.changed[subscription.pk] = subscription
        self._audit(
            subscription, "subscription.suspend", before, note="Grace period over without payment."
        )
        if subscription.workspace.status != Workspace.Status.DISABLED:
            self.statuses.append(
                StatusChange(
                    subscription.workspace_id,
                    Workspace.Status.SUSPENDED,
                    Workspace.SuspensionReason.NON_PAYMENT,
                    "Suspended for non-payment after the grace period.",
                )
            )
        self.emails.add("dunning_suspended", subscription.pk)

    def expire(self, subscription, rules) -> None:
        ensure_transition(
            SUBSCRIPTION_TRANSITIONS, subscription.status, S.EXPIRED, what="The subscription"
        )
        slug = subscription.plan.policy_slug
        if rules.fallback == Fallback.FREE_PLAN and slug not in self.free_plans:
            raise DomainError(f"No active Free plan exists for {slug}.", field="plan")
        before = snapshot_fields(subscription, *DUNNING_FIELDS, "discount_void")
        subscription.status = S.EXPIRED
        subscription.ended_at = self.now
        subscription.next_retry_at = None
        subscription.discount_void = (
            subscription.discount_void or rules.dunning.discount_void_on_expiry
        )
        self.changed[subscription.pk] = subscription
        self._audit(
            subscription,
            "subscription.expire",
            before,
            note=f"Unpaid after the grace period; no refund ({rules.dunning.clause.ref}).",
            extra=("discount_void",),
        )
        self.endings.append(
            Ending(
                subscription,
                rules.fallback,
                Workspace.SuspensionReason.NON_PAYMENT,
                "Disabled: the subscription expired unpaid.",
            )
        )

    def write(self) -> None:
        Subscription.objects.filter(pk__in=[s.pk for s in self.recovered]).update(
            past_due_since=None, dunning_attempts=0, next_retry_at=None, grace_until=None
        )
        Subscription.objects.bulk_update(list(self.changed.values()), STEP_FIELDS)
        audit_records_write(self.audits)
        workspaces_set_status(changes=self.statuses, actor=None, now=self.now)
        notes = subscriptions_fall_back_batch(
            endings=self.endings, free_plans=self.free_plans, actor=None, now=self.now
        )
        for ending in self.endings:
            note = notes[ending.subscription.pk]
            self.emails.add("dunning_expired", ending.subscription.pk, fallback_note=note)
        self.emails.send_on_commit()
