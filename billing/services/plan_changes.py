"""Changes of plan (add-ons are in `billing.services.addons`).

- Upgrades apply now; the prorated price difference for the rest of the period is charged
  through the gateway and recorded as an `upgrade_proration` payment (never refunded where
  the policy says so). During a free trial nothing is charged: the new price applies from
  the first paid period.
- Downgrades wait for the period end in `pending_plan`; inside the policy's downgrade
  notice (connex: 10 days) they wait a cycle more. No refund of the current period unless
  the policy says so. The quote comes from `billing.policy.engine.quote_plan_change`, the
  engine of refund quotes.
- Recurring add-ons are charged now for the rest of the period (prorated like an upgrade)
  and renew with the plan at full price; removing one ends it with the period, without
  refund (orgix §7). Order packs are one-time purchases, paid in full; they end at the next
  renewal where the policy resets them (sync-with-connex), else their unused orders carry.
- A workspace over its limits after a change is restricted, with a message naming each
  limit and how to fix it; back within them, the restriction is lifted.

The period-end job applies due downgrades and re-checks limits of subscriptions whose
add-ons just ended (`billing.services.period_end_plans`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from accounts.models import User, Workspace
from accounts.services.audit import audit_record, snapshot_fields
from accounts.services.workspaces import StatusChange, workspaces_set_status
from billing.errors import DomainError, InvalidTransition
from billing.gateways import GatewayError, PaymentGateway, get_gateway
from billing.models import AddOn, Payment, Plan, Subscription
from billing.money import ZERO
from billing.policy.engine import quote_plan_change
from billing.policy.limits import LimitBreach, exceeded_limits, with_addons
from billing.policy.quotes import PlanChangeQuote, QuoteLine
from billing.policy.rules import Effective, LimitedChange, PolicyRules
from billing.quote_snapshots import plan_change_snapshot
from billing.selectors import policy_rules, subscription_snapshot
from billing.services.change_limits import ensure_change_allowed
from billing.services.charging import customer_reference
from billing.services.credit import credit_add
from billing.services.job_emails import JobEmails
from billing.services.subscription_locks import subscription_lock
from billing.usage import plan_limits, workspace_usage, workspaces_usage

S = Subscription.Status
CHANGEABLE = (S.ACTIVE, S.TRIALING)


# --- limits -----------------------------------------------------------------------------


def workspace_limits_enforce(
    *, subscription: Subscription, now: datetime, actor: User | None = None
) -> tuple[LimitBreach, ...]:
    """One subscription's `workspaces_limits_enforce_batch`: a request (an add-on bought, a
    plan changed, a file removed) and the batch jobs share one implementation."""
    return workspaces_limits_enforce_batch(subscriptions=[subscription], now=now, actor=actor)[
        subscription.pk
    ]


def workspaces_limits_enforce_batch(
    *, subscriptions: list[Subscription], now: datetime, actor: User | None = None
) -> dict[int, tuple[LimitBreach, ...]]:
    """Restrict each workspace that is over its plan and add-on limits (the message names
    each limit and the fix); lift a limits restriction once it is back within them.
    Restrictions for non-payment or suspensions are left alone.

    The subscriptions come with their workspace. One usage query and one add-on query
    for the batch, read now (a purchase may have just added an add-on, a renewal ended
    one), the statuses written by `workspaces_set_status` and brought up to date on the
    workspaces in memory. Returns the breaches by subscription id."""
    usage = workspaces_usage([s.workspace_id for s in subscriptions])
    addons: dict[int, list[tuple[str, int]]] = {s.pk: [] for s in subscriptions}
    for subscription_id, kind, quantity in AddOn.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), subscription_id__in=list(addons)
    ).values_list("subscription_id", "kind", "quantity"):
        addons[subscription_id].append((kind, quantity))
    found, changes, emails = {}, [], JobEmails()
    for subscription in subscriptions:
        workspace = subscription.workspace
        limits = with_addons(plan_limits(subscription.plan), addons[subscription.pk])
        used = dataclasses.replace(
            usage[workspace.pk], orders_this_period=subscription.orders_used_this_period
        )
        breaches = found[subscription.pk] = exceeded_limits(used, limits)
        if breaches and workspace.status == Workspace.Status.ACTIVE:
            note = " ".join(b.message for b in breaches)
            changes.append(StatusChange(workspace.pk, Workspace.Status.RESTRICTED, note=note))
            emails.add("limits_restricted", subscription.pk, breaches=breaches)
        elif (
            not breaches
            and workspace.status == Workspace.Status.RESTRICTED
            and workspace.suspension_reason == ""
        ):
            changes.append(
                StatusChange(
                    workspace.pk, Workspace.Status.ACTIVE, note="Back within the plan limits."
                )
            )
    after = workspaces_set_status(changes=changes, actor=actor, now=now)
    for subscription in subscriptions:
        if subscription.workspace_id in after:
            workspace = subscription.workspace
            workspace.status, workspace.suspension_reason = after[workspace.pk]
    emails.send_on_commit()
    return found


# --- plan changes -----------------------------------------------------------------------


def check_changeable(subscription: Subscription) -> None:
    if subscription.status not in CHANGEABLE:
        raise InvalidTransition(
            f"The subscription is {subscription.get_status_display().lower()}: "
            "settle it before changing plan or add-ons.",
            field="status",
        )


def _check_target(subscription: Subscription, plan: Plan) -> None:
    current = subscription.plan
    if plan.pk == current.pk:
        raise DomainError("This is already the current plan.", field="plan")
    if plan.is_free:
        raise DomainError(
            "Moving to the Free plan is a cancellation: cancel the subscription instead.",
            field="plan",
        )
    if not plan.is_active or plan.policy_slug != current.policy_slug:
        raise DomainError("This plan is not offered to this subscription.", field="plan")
    if plan.interval != current.interval or plan.currency != current.currency:
        raise DomainError(
            f"Choose a {current.get_interval_display().lower()} plan in {current.currency}.",
            field="plan",
        )


def _quote(subscription: Subscription, plan: Plan, rules: PolicyRules, now: datetime):
    quote = quote_plan_change(
        rules=rules,
        policy_label=subscription.policy.label,
        snapshot=subscription_snapshot(subscription, payments=[]),
        new_price=plan.price,
        at=now,
    )
    if subscription.status == S.TRIALING and quote.direction == "upgrade":
        line = QuoteLine(
            "Free trial: nothing is charged now; the new price applies when the trial ends",
            ZERO,
            rules.changes.clause.ref,
        )
        quote = dataclasses.replace(quote, charge_now=ZERO, lines=(line,))
    return quote


def plan_change_preview(*, subscription: Subscription, plan: Plan, now: datetime) -> dict:
    """What changing to `plan` would cost or refund now, when it takes effect, and which
    limits the workspace would exceed on the new plan (with its current add-ons)."""
    check_changeable(subscription)
    _check_target(subscription, plan)
    quote = _quote(subscription, plan, policy_rules(subscription.policy), now)
    if quote.direction == "downgrade":
        ensure_change_allowed(subscription=subscription, change=LimitedChange.DOWNGRADE, now=now)
    addons = subscription.addons.filter(ends_at__isnull=True).values_list("kind", "quantity")
    breaches = exceeded_limits(
        workspace_usage(subscription.workspace, subscription),
        with_addons(plan_limits(plan), addons),
    )
    return {
        **quote.to_dict(),
        "plan": plan.code,
        "limit_warnings": [{"limit": b.limit, "message": b.message} for b in breaches],
    }


def subscription_change_plan(
    *,
    subscription: Subscription,
    plan: Plan,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> str:
    """Change to `plan` whichever way it goes (the engine's quote decides): upgrade now or
    schedule the downgrade. Returns the direction taken."""
    direction = _quote(subscription, plan, policy_rules(subscription.policy), now).direction
    if direction == "upgrade":
        subscription_upgrade(
            subscription=subscription, plan=plan, actor=actor, now=now, gateway=gateway
        )
    else:
        subscription_downgrade(subscription=subscription, plan=plan, actor=actor, now=now)
    return direction


def subscription_upgrade(
    *,
    subscription: Subscription,
    plan: Plan,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> tuple[Subscription, Payment | None]:
    """Switch to a dearer plan now and charge the prorated difference for the rest of
    the period. A declined card changes nothing."""
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        check_changeable(locked)
        _check_target(locked, plan)
        rules = policy_rules(locked.policy)
        quote = _quote(locked, plan, rules, now)
        if quote.direction != "upgrade":
            raise DomainError("This plan is not an upgrade: downgrade to it.", field="plan")
        if rules.changes.upgrade_effective != Effective.IMMEDIATELY:
            raise DomainError(
                "Under this policy upgrades take effect at the period end.", field="plan"
            )
        before = snapshot_fields(locked, "plan", "pending_plan", "pending_plan_effective_at")
        payment = None
        if quote.charge_now > 0:
            payment = charge_now(
                subscription=locked,
                kind=Payment.Kind.UPGRADE_PRORATION,
                amount=quote.charge_now,
                key=f"upgrade-{locked.pk}-{plan.pk}-{locked.current_period_start:%Y%m%dT%H%M}",
                description=f"Upgrade to {plan.name}",
                now=now,
                gateway=gateway or get_gateway(),
            )
        locked.plan = plan
        locked.pending_plan = None
        locked.pending_plan_effective_at = None
        locked.save(update_fields=["plan", "pending_plan", "pending_plan_effective_at"])
        audit_record(
            actor=actor,
            action="subscription.upgrade",
            target=locked,
            now=now,
            before=before,
            after={
                **snapshot_fields(locked, "plan", "pending_plan"),
                "charged": quote.charge_now,
                "quote": quote.to_dict(),
                **plan_change_snapshot(locked, plan),
            },
        )
        workspace_limits_enforce(subscription=locked, now=now, actor=actor)
    return locked, payment


def subscription_downgrade(
    *, subscription: Subscription, plan: Plan, actor: User | None, now: datetime
) -> tuple[Subscription, PlanChangeQuote]:
    """Schedule a cheaper plan from the period end (a cycle later inside the policy's
    downgrade notice). Where a policy makes downgrades immediate, they apply now and any
    refund of the current period becomes customer credit."""
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        check_changeable(locked)
        _check_target(locked, plan)
        quote = _quote(locked, plan, policy_rules(locked.policy), now)
        if quote.direction != "downgrade":
            raise DomainError("This plan is not a downgrade: upgrade to it.", field="plan")
        ensure_change_allowed(subscription=locked, change=LimitedChange.DOWNGRADE, now=now)
        before = snapshot_fields(locked, "plan", "pending_plan", "pending_plan_effective_at")
        if quote.effective_at <= now:
            locked.plan = plan
            locked.save(update_fields=["plan"])
            if quote.refund > 0:
                credit_add(
                    workspace=locked.workspace,
                    amount=quote.refund,
                    currency=quote.currency,
                    now=now,
                    actor=actor,
                    memo=f"Downgrade to {plan.name}: unused difference",
                )
        else:
            locked.pending_plan = plan
            locked.pending_plan_effective_at = quote.effective_at
            locked.save(update_fields=["pending_plan", "pending_plan_effective_at"])
        audit_record(
            actor=actor,
            action="subscription.downgrade",
            target=locked,
            now=now,
            before=before,
            after={
                **snapshot_fields(locked, "plan", "pending_plan", "pending_plan_effective_at"),
                "quote": quote.to_dict(),
                **plan_change_snapshot(locked, plan),
            },
        )
        if quote.effective_at <= now:
            workspace_limits_enforce(subscription=locked, now=now, actor=actor)
    return locked, quote


def charge_now(
    *,
    subscription: Subscription,
    kind: str,
    amount: Decimal,
    key: str,
    description: str,
    now: datetime,
    gateway: PaymentGateway,
    period_end: datetime | None = None,
) -> Payment:
    """Charge the gateway for a purchase made now; a decline is a domain error on `payment`
    (the caller's transaction rolls back, so nothing was bought)."""
    currency = subscription.plan.currency
    try:
        result = gateway.charge(
            customer_reference=customer_reference(subscription.workspace),
            amount=amount,
            currency=currency,
            idempotency_key=key,
            description=description,
        )
    except GatewayError as error:
        raise DomainError(
            f"The payment was declined ({error.message}); nothing was changed.", field="payment"
        ) from error
    return Payment.objects.create(
        workspace_id=subscription.workspace_id,
        subscription=subscription,
        kind=kind,
        amount=amount,
        currency=currency,
        period_start=now,
        period_end=period_end or subscription.current_period_end,
        paid_at=now,
        provider=gateway.name,
        provider_reference=result.reference,
    )
