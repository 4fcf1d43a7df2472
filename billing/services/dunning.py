"""Dunning: what happens after a failed charge.

past_due (paid features restricted, retries on the policy's schedule) → suspended after
the grace period (workspace suspended for non-payment) → expired (no refund, discount
void, never reinstated: a new subscription is needed; the workspace falls back per the
policy). A successful retry at any point before expiry makes it active again, rolls it into
the period it failed to pay and restores the workspace.

Entry point for failures reported from outside (the gateway webhook's
`invoice.payment_failed`): `subscription_charge_failed`. It is idempotent: a subscription
already in dunning keeps its schedule.

The owner (and billing e-mail) is e-mailed at each step, after commit
(`templates/emails/dunning_*.txt`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import User, Workspace
from accounts.services.audit import audit_record, snapshot_fields
from accounts.services.workspaces import workspace_set_status
from billing.errors import DomainError, InvalidTransition
from billing.gateways import PaymentGateway, get_gateway
from billing.models import Subscription
from billing.policy.lifecycle import (
    DunningStep,
    dunning_steps_due,
    grace_end,
    next_retry_at,
)
from billing.policy.rules import PolicyRules
from billing.selectors import policy_rules
from billing.services.charging import subscription_period_charge
from billing.services.fallback import subscription_fall_back
from billing.services.lifecycle_emails import email_owners
from billing.services.subscription_locks import subscription_lock
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition

S = Subscription.Status
IN_DUNNING = (S.PAST_DUE, S.SUSPENDED)
MAX_GRACE_EXTENSION_DAYS = 60
DUNNING_FIELDS = ("status", "past_due_since", "dunning_attempts", "next_retry_at", "grace_until")
NOT_REINSTATABLE = (
    "An expired subscription cannot be reinstated (prorated-credit §Troubleshooting). "
    "Buy a new subscription instead."
)


def subscription_charge_failed(
    *,
    subscription: Subscription,
    payment_failure_message: str,
    now: datetime,
    actor: User | None = None,
) -> Subscription:
    """A charge failed (renewal, Stripe's invoice.payment_failed, a lost dispute): past due
    from now, retries scheduled, paid features restricted. A subscription already in
    dunning, or already ended, is left as it is."""
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        if locked.status not in (S.ACTIVE, S.TRIALING):
            return locked
        ensure_transition(
            SUBSCRIPTION_TRANSITIONS, locked.status, S.PAST_DUE, what="The subscription"
        )
        rule = policy_rules(locked.policy).dunning
        before = snapshot_fields(locked, *DUNNING_FIELDS)
        locked.status = S.PAST_DUE
        locked.past_due_since = now
        locked.dunning_attempts = 1
        locked.grace_until = grace_end(rule, past_due_since=now)
        locked.next_retry_at = next_retry_at(rule, past_due_since=now, attempts=1)
        locked.save(update_fields=list(DUNNING_FIELDS))
        audit_record(
            actor=actor,
            action="subscription.past_due",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, *DUNNING_FIELDS),
            note=payment_failure_message,
        )
        workspace = locked.workspace
        if rule.restrict_paid_features and workspace.status in (
            Workspace.Status.ACTIVE,
            Workspace.Status.RESTRICTED,
        ):
            workspace_set_status(
                workspace=workspace,
                status=Workspace.Status.RESTRICTED,
                reason=Workspace.SuspensionReason.NON_PAYMENT,
                actor=None,
                now=now,
                note="Payment failed: paid features restricted until it is paid.",
            )
        email_owners(locked, "dunning_failed", failure=payment_failure_message)
    return locked


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
    subscription: Subscription,
    rules: PolicyRules,
    now: datetime,
    gateway: PaymentGateway,
    summary: DunningSummary,
) -> None:
    """Apply the due steps of one locked subscription in dunning, one after the other (the
    per-item path of `dunning_job`)."""
    steps = dunning_steps_due(
        rules.dunning,
        status=subscription.status,
        grace_until=dunning_grace_until(subscription, rules),
        next_retry=subscription.next_retry_at,
        now=now,
    )
    for step in steps:
        if step == DunningStep.RETRY:
            summary.retried += 1
            if _retry(subscription, rules, now, gateway, actor=None):
                summary.recovered += 1
                return
        elif step == DunningStep.SUSPEND:
            _suspend(subscription, now)
            summary.suspended += 1
        elif step == DunningStep.EXPIRE:
            _expire(subscription, rules, now)
            summary.expired += 1


def _retry(
    subscription: Subscription,
    rules: PolicyRules,
    now: datetime,
    gateway: PaymentGateway,
    *,
    actor: User | None,
) -> bool:
    before = snapshot_fields(subscription, *DUNNING_FIELDS)
    charge = subscription_period_charge(
        subscription=subscription,
        rules=rules,
        now=now,
        gateway=gateway,
        attempt=f"retry-{subscription.dunning_attempts}",
    )
    if charge.succeeded:
        subscription.past_due_since = None
        subscription.dunning_attempts = 0
        subscription.next_retry_at = None
        subscription.grace_until = None
        subscription.save(update_fields=list(DUNNING_FIELDS))
        audit_record(
            actor=actor,
            action="subscription.recovered",
            target=subscription,
            now=now,
            before=before,
            after=snapshot_fields(subscription, *DUNNING_FIELDS),
        )
        workspace = subscription.workspace
        if workspace.suspension_reason == Workspace.SuspensionReason.NON_PAYMENT:
            workspace_set_status(
                workspace=workspace,
                status=Workspace.Status.ACTIVE,
                actor=actor,
                now=now,
                note="Payment received: access restored.",
            )
        email_owners(subscription, "dunning_recovered", payment=charge.payment)
        return True
    since = subscription.past_due_since or now
    subscription.dunning_attempts += 1
    subscription.next_retry_at = next_retry_at(
        rules.dunning, past_due_since=since, attempts=subscription.dunning_attempts
    )
    subscription.save(update_fields=["dunning_attempts", "next_retry_at"])
    audit_record(
        actor=actor,
        action="subscription.retry_failed",
        target=subscription,
        now=now,
        before=before,
        after=snapshot_fields(subscription, *DUNNING_FIELDS),
        note=charge.failure_message,
    )
    email_owners(
        subscription,
        "dunning_retry_failed",
        failure=charge.failure_message,
        grace_until=dunning_grace_until(subscription, rules),
    )
    return False


def _suspend(subscription: Subscription, now: datetime) -> None:
    ensure_transition(
        SUBSCRIPTION_TRANSITIONS, subscription.status, S.SUSPENDED, what="The subscription"
    )
    before = snapshot_fields(subscription, *DUNNING_FIELDS)
    subscription.status = S.SUSPENDED
    subscription.save(update_fields=["status"])
    audit_record(
        actor=None,
        action="subscription.suspend",
        target=subscription,
        now=now,
        before=before,
        after=snapshot_fields(subscription, *DUNNING_FIELDS),
        note="Grace period over without payment.",
    )
    if subscription.workspace.status != Workspace.Status.DISABLED:
        workspace_set_status(
            workspace=subscription.workspace,
            status=Workspace.Status.SUSPENDED,
            reason=Workspace.SuspensionReason.NON_PAYMENT,
            actor=None,
            now=now,
            note="Suspended for non-payment after the grace period.",
        )
    email_owners(subscription, "dunning_suspended")


def _expire(subscription: Subscription, rules: PolicyRules, now: datetime) -> None:
    ensure_transition(
        SUBSCRIPTION_TRANSITIONS, subscription.status, S.EXPIRED, what="The subscription"
    )
    before = snapshot_fields(subscription, *DUNNING_FIELDS, "discount_void")
    subscription.status = S.EXPIRED
    subscription.ended_at = now
    subscription.next_retry_at = None
    subscription.discount_void = subscription.discount_void or rules.dunning.discount_void_on_expiry
    subscription.save(update_fields=["status", "ended_at", "next_retry_at", "discount_void"])
    audit_record(
        actor=None,
        action="subscription.expire",
        target=subscription,
        now=now,
        before=before,
        after=snapshot_fields(subscription, *DUNNING_FIELDS, "discount_void"),
        note=f"Unpaid after the grace period; no refund ({rules.dunning.clause.ref}).",
    )
    note = subscription_fall_back(
        subscription=subscription,
        fallback=rules.fallback,
        actor=None,
        now=now,
        reason=Workspace.SuspensionReason.NON_PAYMENT,
        note="Disabled: the subscription expired unpaid.",
    )
    email_owners(subscription, "dunning_expired", fallback_note=note)


def _locked_in_dunning(subscription: Subscription) -> Subscription:
    locked = subscription_lock(subscription.pk, skip_locked=False)
    if locked.status in (S.EXPIRED, S.CANCELLED):
        raise InvalidTransition(NOT_REINSTATABLE, field="status")
    if locked.status not in IN_DUNNING:
        raise InvalidTransition(
            f"The subscription is {locked.get_status_display().lower()}, not in dunning.",
            field="status",
        )
    return locked


def dunning_retry_now(
    *,
    subscription: Subscription,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> bool:
    """An agent (or the customer, by reinstating) retries the unpaid charge now."""
    with transaction.atomic():
        locked = _locked_in_dunning(subscription)
        rules = policy_rules(locked.policy)
        audit_record(actor=actor, action="subscription.retry_now", target=locked, now=now)
        return _retry(locked, rules, now, gateway or get_gateway(), actor=actor)


def subscription_reinstate(
    *,
    subscription: Subscription,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> bool:
    """Bring a past-due or suspended subscription back by paying it. An expired or
    cancelled one is never reinstated (prorated-credit): a new subscription is needed."""
    if subscription.status in (S.EXPIRED, S.CANCELLED):
        raise InvalidTransition(NOT_REINSTATABLE, field="status")
    return dunning_retry_now(subscription=subscription, actor=actor, now=now, gateway=gateway)


def dunning_extend_grace(
    *, subscription: Subscription, days: int, actor: User | None, now: datetime, reason: str
) -> Subscription:
    """Move suspension and expiry `days` later. A suspended subscription whose new grace
    end is in the future goes back to past due (workspace restricted, not suspended)."""
    if not 1 <= days <= MAX_GRACE_EXTENSION_DAYS:
        raise DomainError(
            f"Extend the grace period by 1 to {MAX_GRACE_EXTENSION_DAYS} days.", field="days"
        )
    if not reason.strip():
        raise DomainError("Say why the grace period is extended.", field="reason")
    with transaction.atomic():
        locked = _locked_in_dunning(subscription)
        rules = policy_rules(locked.policy)
        before = snapshot_fields(locked, *DUNNING_FIELDS)
        locked.grace_until = dunning_grace_until(locked, rules) + timedelta(days=days)
        if locked.status == S.SUSPENDED and locked.grace_until > now:
            ensure_transition(
                SUBSCRIPTION_TRANSITIONS, S.SUSPENDED, S.PAST_DUE, what="The subscription"
            )
            locked.status = S.PAST_DUE
            if locked.workspace.suspension_reason == Workspace.SuspensionReason.NON_PAYMENT:
                workspace_set_status(
                    workspace=locked.workspace,
                    status=Workspace.Status.RESTRICTED,
                    reason=Workspace.SuspensionReason.NON_PAYMENT,
                    actor=actor,
                    now=now,
                    note=f"Grace period extended: {reason}",
                )
        locked.save(update_fields=["grace_until", "status"])
        audit_record(
            actor=actor,
            action="subscription.extend_grace",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, *DUNNING_FIELDS),
            note=reason,
        )
        email_owners(locked, "dunning_grace_extended", days=days)
    return locked
