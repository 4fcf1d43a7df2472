"""The dunning steps (retry, suspend, expire; described in `dunning`), one implementation
for the daily job's batches (`dunning_job`) and for an agent's or a customer's retry now
(`dunning.dunning_retry_now`).

Invariants:
- `dunning_steps_apply` runs the due steps of locked subscriptions with a constant number
  of queries whatever their number: the retries charged with one gateway call each and
  written in bulk (`subscriptions_period_charge_batch`), one UPDATE for the recovered, one
  bulk UPDATE for the others, the workspaces' statuses, the Free-plan or disabled
  fallbacks of expiries, and one INSERT of audit records;
- `DunningSteps` keeps a step's changes in memory until `write`: a step refused (a status
  that cannot move, no Free plan to fall back to) has changed nothing;
- e-mails are queued after commit, one task for a batch, a task each for one retry now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accounts.models import AuditRecord, User, Workspace
from accounts.services.audit import audit_entry, audit_records_write, snapshot_fields
from accounts.services.workspaces import StatusChange, workspaces_set_status
from billing.errors import DomainError
from billing.gateways import PaymentGateway
from billing.models import Subscription
from billing.policy.lifecycle import DunningStep, dunning_steps_due, grace_end, next_retry_at
from billing.policy.rules import Fallback, PolicyRules
from billing.selectors import policy_rules
from billing.services.charging import (
    PeriodCharge,
    policies_in_force,
    subscriptions_period_charge_batch,
    workspaces_with_credit,
)
from billing.services.fallback import Ending, subscriptions_fall_back_batch
from billing.services.job_emails import JobEmails
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition
from billing.usage import free_plans_for

S = Subscription.Status
IN_DUNNING = (S.PAST_DUE, S.SUSPENDED)
DUNNING_FIELDS = ("status", "past_due_since", "dunning_attempts", "next_retry_at", "grace_until")
# What the failed retries, suspensions and expiries change, in one bulk UPDATE.
STEP_FIELDS = ("status", "dunning_attempts", "next_retry_at", "ended_at", "discount_void")


@dataclass
class DunningSummary:
    examined: int = 0
    retried: int = 0
    recovered: int = 0
    suspended: int = 0
    expired: int = 0
    skipped_locked: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DunningSummary) -> None:
        self.examined += other.examined
        self.retried += other.retried
        self.recovered += other.recovered
        self.suspended += other.suspended
        self.expired += other.expired
        self.skipped_locked += other.skipped_locked
        self.errors.extend(other.errors)

    def as_line(self) -> str:
        return (
            f"examined={self.examined} retried={self.retried} recovered={self.recovered} "
            f"suspended={self.suspended} expired={self.expired} "
            f"skipped_locked={self.skipped_locked}"
        )


def dunning_grace_until(subscription: Subscription, rules: PolicyRules) -> datetime:
    """When the grace period ends: as stored, or from the first failure by the policy."""
    since = subscription.past_due_since or subscription.current_period_end
    return subscription.grace_until or grace_end(rules.dunning, past_due_since=since)


def dunning_steps_apply(
    *, subscriptions: list[Subscription], now: datetime, gateway: PaymentGateway
) -> DunningSummary:
    """The due steps of these locked subscriptions in dunning (loaded with workspace and
    policy rules), one after the other for each. Call inside `transaction.atomic()`."""
    summary = DunningSummary(examined=len(subscriptions))
    steps, before = {}, {}
    for subscription in subscriptions:
        rules = policy_rules(subscription.policy)
        before[subscription.pk] = snapshot_fields(subscription, *DUNNING_FIELDS)
        steps[subscription.pk] = dunning_steps_due(
            rules.dunning,
            status=subscription.status,
            grace_until=dunning_grace_until(subscription, rules),
            next_retry=subscription.next_retry_at,
            now=now,
        )
    retrying = [s for s in subscriptions if DunningStep.RETRY in steps[s.pk]]
    charges = subscriptions_period_charge_batch(
        subscriptions=retrying,
        now=now,
        gateway=gateway,
        attempt={s.pk: f"retry-{s.dunning_attempts}" for s in retrying},
        policies=policies_in_force(now),
        with_credit=workspaces_with_credit([s.workspace_id for s in retrying]),
    )
    changes = DunningSteps(
        now=now, free_plans=free_plans_for(s.plan.policy_slug for s in subscriptions)
    )
    for subscription in subscriptions:
        try:
            _steps(changes, subscription, steps[subscription.pk], charges, before, summary)
        except DomainError as error:  # refused before anything of this step changed
            summary.errors.append(f"subscription {subscription.pk}: {error.message}")
    changes.write()
    return summary


def _steps(changes, subscription, steps, charges, before, summary: DunningSummary) -> None:
    rules = policy_rules(subscription.policy)
    for step in steps:
        if step == DunningStep.RETRY:
            summary.retried += 1
            if changes.retried(
                subscription, rules, charges[subscription.pk], before[subscription.pk]
            ):
                summary.recovered += 1
                return
        elif step == DunningStep.SUSPEND:
            changes.suspend(subscription)
            summary.suspended += 1
        elif step == DunningStep.EXPIRE:
            changes.expire(subscription, rules)
            summary.expired += 1


class DunningSteps:
    """The dunning steps of some locked subscriptions, kept in memory and written together
    (`write`, inside the transaction that holds the locks)."""

    def __init__(
        self,
        *,
        now: datetime,
        free_plans: dict,
        actor: User | None = None,
        emails: JobEmails | None = None,
    ):
        self.now = now
        self.free_plans = free_plans  # `free_plans_for` the families that may expire
        self.actor = actor
        self.recovered: list[Subscription] = []
        self.changed: dict[int, Subscription] = {}
        self.audits: list[AuditRecord] = []
        self.statuses: list[StatusChange] = []
        self.endings: list[Ending] = []
        self.emails = emails or JobEmails()

    def _audit(self, subscription, action: str, before: dict, note: str = "", extra=()):
        self.audits.append(
            audit_entry(
                actor=self.actor,
                action=action,
                target=subscription,
                now=self.now,
                before=before,
                after=snapshot_fields(subscription, *DUNNING_FIELDS, *extra),
                note=note,
            )
        )

    def retried(self, subscription, rules, charge: PeriodCharge, before: dict) -> bool:
        """The outcome of a retry charged (`charging`: a paid one has rolled the
        subscription into the next period and written it); True if it recovered."""
        if charge.succeeded:
            subscription.status = S.ACTIVE
            subscription.past_due_since = subscription.next_retry_at = None
            subscription.grace_until = None
            subscription.dunning_attempts = 0
            self.recovered.append(subscription)
            self._audit(subscription, "subscription.recovered", before)
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
        self._audit(subscription, "subscription.retry_failed", before, note=charge.failure_message)
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
        workspaces_set_status(changes=self.statuses, actor=self.actor, now=self.now)
        notes = subscriptions_fall_back_batch(
            endings=self.endings, free_plans=self.free_plans, actor=self.actor, now=self.now
        )
        for ending in self.endings:
            note = notes[ending.subscription.pk]
            self.emails.add("dunning_expired", ending.subscription.pk, fallback_note=note)
        self.emails.send_on_commit()
