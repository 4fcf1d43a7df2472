"""Dunning: what happens after a failed charge.

past_due (paid features restricted, retries on the policy's schedule) → suspended after
the grace period (workspace suspended for non-payment) → expired (no refund, discount
void, never reinstated: a new subscription is needed; the workspace falls back per the
policy). A successful retry at any point before expiry makes it active again, rolls it into
the period it failed to pay and restores the workspace.

Entry point for failures reported from outside (the gateway webhook's
`invoice.payment_failed`): `subscription_charge_failed`. It is idempotent: a subscription
already in dunning keeps its schedule.

The steps (retry, suspend, expire) are `dunning_steps`, one implementation for the daily
job (`dunning_job`) and for `dunning_retry_now`. The owner (and billing e-mail) is
e-mailed at each step, after commit (`templates/emails/dunning_*.txt`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import User, Workspace
from accounts.services.audit import audit_record, snapshot_fields
from accounts.services.workspaces import workspace_set_status
from billing.errors import DomainError, InvalidTransition
from billing.gateways import PaymentGateway, get_gateway
from billing.models import Subscription
from billing.policy.lifecycle import grace_end, next_retry_at
from billing.selectors import policy_rules
from billing.services.charging import subscription_period_charge
from billing.services.dunning_steps import (
    DUNNING_FIELDS,
    IN_DUNNING,
    DunningSteps,
    S,
    dunning_grace_until,
)
from billing.services.job_emails import JobEmails
from billing.services.lifecycle_emails import email_owners
from billing.services.subscription_locks import subscription_lock
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition

MAX_GRACE_EXTENSION_DAYS = 60
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
    """An agent (or the customer, by reinstating) retries the unpaid charge now: the
    job's retry step (`DunningSteps.retried`), due or not, with its e-mail on a task of
    its own. True if the subscription recovered."""
    with transaction.atomic():
        locked = _locked_in_dunning(subscription)
        rules = policy_rules(locked.policy)
        audit_record(actor=actor, action="subscription.retry_now", target=locked, now=now)
        before = snapshot_fields(locked, *DUNNING_FIELDS)
        charge = subscription_period_charge(
            subscription=locked,
            rules=rules,
            now=now,
            gateway=gateway or get_gateway(),
            attempt=f"retry-{locked.dunning_attempts}",
        )
        steps = DunningSteps(
            now=now, free_plans={}, actor=actor, emails=JobEmails(one_task_each=True)
        )
        recovered = steps.retried(locked, rules, charge, before)
        steps.write()
    return recovered


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
