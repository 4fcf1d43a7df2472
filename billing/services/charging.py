"""Charging the next billing period of a subscription: shared by the renewal job and the
dunning retries, so a recovered subscription rolls exactly as a renewed one does.

Invariants:
- customer credit is spent before the gateway is charged (`credit_apply`);
- the gateway idempotency key is deterministic per subscription, period and attempt, so
  a re-run after a crash never charges twice;
- a failed charge leaves the subscription, its add-ons and the credit ledger untouched
  (a savepoint is rolled back) and records a failed `Payment` with the provider's message;
- the caller holds the subscription row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum

from accounts.models import Workspace
from accounts.services.audit import audit_entry, audit_records_write
from billing.gateways import GatewayError, PaymentGateway
from billing.models import AddOn, CreditEntry, Payment, Plan, RefundPolicy, Subscription
from billing.money import ZERO
from billing.policy.engine import add_months, interval_months
from billing.policy.lifecycle import Charge, order_packs_carried_over, renewal_charge
from billing.policy.rules import Interval, PolicyRules
from billing.selectors import policy_rules
from billing.services.bulk_copy import rows_copy
from billing.services.credit import credit_apply
from billing.services.subscription_locks import subscription_addons


def customer_reference(workspace: Workspace) -> str:
    """The gateway's customer: one per workspace (its saved payment method)."""
    return workspace_customer_reference(workspace.pk)


def workspace_customer_reference(workspace_id: int) -> str:
    return f"workspace-{workspace_id}"


def next_period_start(subscription: Subscription) -> datetime:
    """A trial's paid period starts when the trial ends; otherwise at the period end."""
    if subscription.status == Subscription.Status.TRIALING and subscription.trial_end:
        return min(subscription.trial_end, subscription.current_period_end)
    return subscription.current_period_end


@dataclass(frozen=True)
class PeriodCharge:
    succeeded: bool
    payment: Payment | None  # None when nothing was due (a 100% discount)
    failure_message: str = ""


def subscription_period_charge(
    *,
    subscription: Subscription,
    rules: PolicyRules,
    now: datetime,
    gateway: PaymentGateway,
    attempt: str,
    policies: dict[str, RefundPolicy] | None = None,
    may_have_credit: bool = True,
) -> PeriodCharge:
    """Charge the period after the current one and, if paid, roll the subscription into it:
    pending downgrade applied, order packs reset (or carried over), usage counter reset,
    a trial converted to active. `attempt` ("renewal", "retry-2", ...) keys the charge.
    A batch passes `policies` (`policies_in_force`) and `may_have_credit` (from
    `workspaces_with_credit`) to spare two lookups per subscription."""
    start = next_period_start(subscription)
    if policies is None:
        policies = policies_in_force(now, slugs=[subscription.policy.slug])
    try:
        with transaction.atomic():
            payment = _charge_and_roll(
                subscription=subscription,
                rules=rules,
                start=start,
                now=now,
                gateway=gateway,
                attempt=attempt,
                policy=renewal_policy_version(subscription, policies),
                may_have_credit=may_have_credit,
            )
    except GatewayError as error:
        subscription.refresh_from_db()
        amount = _price(subscription, start, _plan_billed(subscription, start)).amount
        payment = Payment.objects.create(
            workspace_id=subscription.workspace_id,
            subscription=subscription,
            kind=Payment.Kind.SUBSCRIPTION,
            status=Payment.Status.FAILED,
            amount=amount,
            currency=subscription.plan.currency,
            period_start=start,
            period_end=_period_end(subscription, start),
            paid_at=now,
            provider=gateway.name,
            failure_message=error.message[:300],
        )
        return PeriodCharge(False, payment, error.message)
    return PeriodCharge(True, payment)


def _period_end(subscription: Subscription, start: datetime) -> datetime:
    return add_months(start, interval_months(Interval(subscription.plan.interval)))


def _active_addons(subscription: Subscription, at: datetime) -> list[AddOn]:
    return [
        a
        for a in subscription_addons(subscription)
        if a.started_at <= at and (a.ends_at is None or a.ends_at > at)
    ]


def _plan_billed(subscription: Subscription, start: datetime) -> Plan:
    """The plan of the period starting at `start`: a downgrade due by then applies."""
    if subscription.pending_plan_id and subscription.pending_plan_effective_at <= start:
        return subscription.pending_plan
    return subscription.plan


def _price(subscription: Subscription, start: datetime, plan: Plan) -> Charge:
    addons = tuple(
        (str(a), a.price) for a in _active_addons(subscription, start) if not a.is_one_time
    )
    return renewal_charge(
        plan_name=plan.name,
        plan_price=plan.price,
        discount_percent=Decimal(subscription.discount_percent),
        discount_void=subscription.discount_void,
        addons=addons,
        currency=plan.currency,
    )


def _charge_and_roll(
    *,
    subscription: Subscription,
    rules: PolicyRules,
    start: datetime,
    now: datetime,
    gateway: PaymentGateway,
    attempt: str,
    policy: RefundPolicy,
    may_have_credit: bool,
) -> Payment | None:
    before = {"plan": subscription.plan_id, "period_end": subscription.current_period_end}
    _order_packs_renew(subscription, rules, start)
    if subscription.pending_plan_id and subscription.pending_plan_effective_at <= start:
        subscription.plan = _plan_billed(subscription, start)
        subscription.pending_plan = None
        subscription.pending_plan_effective_at = None
    end = _period_end(subscription, start)
    charge = _price(subscription, start, subscription.plan)
    currency = subscription.plan.currency
    payment = None
    if charge.amount > 0:
        payment = Payment.objects.create(
            workspace_id=subscription.workspace_id,
            subscription=subscription,
            kind=Payment.Kind.SUBSCRIPTION,
            amount=charge.amount,
            currency=currency,
            period_start=start,
            period_end=end,
            paid_at=now,
            provider=Payment.Provider.CREDIT,
        )
        applied = ZERO
        if may_have_credit:
            applied = credit_apply(
                workspace=subscription.workspace,
                amount_due=charge.amount,
                currency=currency,
                now=now,
                payment=payment,
                memo=f"Renewal {start:%Y-%m-%d}",
            )
        payment.credit_applied = applied
        if charge.amount - applied > ZERO:
            result = gateway.charge(
                customer_reference=customer_reference(subscription.workspace),
                amount=charge.amount - applied,
                currency=currency,
                idempotency_key=_charge_key(subscription, start, attempt),
                description=f"{subscription.plan.name} {start:%Y-%m-%d} to {end:%Y-%m-%d}",
            )
            payment.provider = gateway.name
            payment.provider_reference = result.reference
        payment.save(update_fields=["credit_applied", "provider", "provider_reference"])
    _roll(subscription, start=start, end=end, policy=policy)
    subscription.save()
    _renewal_audit(subscription, before=before, charge=charge, payment=payment, now=now).save()
    return payment


ROLLED_FIELDS = (
    "status",
    "current_period_start",
    "current_period_end",
    "orders_used_this_period",
    "policy",
)


def _roll(subscription: Subscription, *, start: datetime, end: datetime, policy) -> None:
    """Into the paid period `start`..`end`, under `policy` (the version in force)."""
    subscription.status = Subscription.Status.ACTIVE
    subscription.current_period_start = start
    subscription.current_period_end = end
    subscription.orders_used_this_period = 0
    subscription.policy = policy  # the version in force (orgix §19)


def _renewal_audit(subscription, *, before: dict, charge: Charge, payment, now: datetime):
    return audit_entry(
        actor=None,
        action="subscription.renew",
        target=subscription,
        now=now,
        before=before,
        after={
            "plan": subscription.plan_id,
            "period_end": subscription.current_period_end,
            "amount": charge.amount,
            "credit_applied": payment.credit_applied if payment else ZERO,
        },
    )


def renewal_policy_version(
    subscription: Subscription, policies: dict[str, RefundPolicy]
) -> RefundPolicy:
    """The policy version the next period is bought under (orgix §19): the one
    `policies_in_force` moves renewals to, never an older one than the current."""
    current = subscription.policy
    moved = policies.get(current.slug)
    return moved if moved is not None and moved.version > current.version else current


def _needs_own_queries(subscription: Subscription, start: datetime, with_credit: set[int]) -> bool:
    """Credit to spend (the ledger), order packs to end or carry over (add-on rows) or a
    downgrade due (the plan): the few renewals whose roll reads or writes other rows."""
    return (
        subscription.workspace_id in with_credit
        or any(a.is_one_time for a in _active_addons(subscription, start))
        or bool(subscription.pending_plan_id and subscription.pending_plan_effective_at <= start)
    )


def subscriptions_period_charge_batch(
    *,
    subscriptions: list[Subscription],
    now: datetime,
    gateway: PaymentGateway,
    attempt: str | dict[int, str],
    policies: dict[str, RefundPolicy],
    with_credit: set[int],
) -> dict[int, PeriodCharge]:
    """`subscription_period_charge` for a batch of locked subscriptions, by id; `attempt`
    keys every charge ("renewal") or each by subscription id (the dunning retries).

    The plain ones are charged with one gateway call each and written with one INSERT of
    payments, one UPDATE of subscriptions and one INSERT of audit records (each INSERT a
    COPY on PostgreSQL) for the whole batch, so the queries of a batch do not grow with its
    size. The few whose roll touches other rows (`_needs_own_queries`) go through
    `subscription_period_charge` one by one.
    """
    charges: dict[int, PeriodCharge] = {}
    payments, rolled, audits = [], [], []
    for subscription in subscriptions:
        start = next_period_start(subscription)
        key = attempt if isinstance(attempt, str) else attempt[subscription.pk]
        if _needs_own_queries(subscription, start, with_credit):
            charges[subscription.pk] = subscription_period_charge(
                subscription=subscription,
                rules=policy_rules(subscription.policy),
                now=now,
                gateway=gateway,
                attempt=key,
                policies=policies,
                may_have_credit=subscription.workspace_id in with_credit,
            )
            continue
        end = _period_end(subscription, start)
        charge = _price(subscription, start, subscription.plan)
        payment = None
        if charge.amount > 0:
            payment = Payment(
                workspace_id=subscription.workspace_id,
                subscription=subscription,
                kind=Payment.Kind.SUBSCRIPTION,
                amount=charge.amount,
                currency=subscription.plan.currency,
                period_start=start,
                period_end=end,
                paid_at=now,
                provider=gateway.name,
                credit_applied=ZERO,
            )
            payments.append(payment)
            try:
                result = gateway.charge(
                    customer_reference=workspace_customer_reference(subscription.workspace_id),
                    amount=charge.amount,
                    currency=payment.currency,
                    idempotency_key=_charge_key(subscription, start, key),
                    description=f"{subscription.plan.name} {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                )
            except GatewayError as error:
                payment.status = Payment.Status.FAILED
                payment.failure_message = error.message[:300]
                charges[subscription.pk] = PeriodCharge(False, payment, error.message)
                continue
            payment.provider_reference = result.reference
        before = {"plan": subscription.plan_id, "period_end": subscription.current_period_end}
        policy = renewal_policy_version(subscription, policies)
        _roll(subscription, start=start, end=end, policy=policy)
        rolled.append(subscription)
        audits.append(
            _renewal_audit(subscription, before=before, charge=charge, payment=payment, now=now)
        )
        charges[subscription.pk] = PeriodCharge(True, payment)
    rows_copy(Payment, payments)
    _write_rolled(rolled)
    audit_records_write(audits)
    return charges


def _write_rolled(subscriptions: list[Subscription]) -> None:
    """One UPDATE of the rolled fields. On PostgreSQL the new periods and policies travel as
    arrays joined with `unnest`: `bulk_update` would build a CASE with a branch per row for
    every field, which costs more to compile in Python than the update itself."""
    if not subscriptions:
        return
    if connection.vendor != "postgresql":
        Subscription.objects.bulk_update(subscriptions, ROLLED_FIELDS)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Subscription._meta.db_table} AS s SET status = %s, "
            "current_period_start = v.period_start, current_period_end = v.period_end, "
            "orders_used_this_period = 0, policy_id = v.policy_id "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::bigint[]) "
            "AS v(id, period_start, period_end, policy_id) WHERE s.id = v.id",
            [
                Subscription.Status.ACTIVE,
                _array_literal(s.pk for s in subscriptions),
                _array_literal(s.current_period_start.isoformat() for s in subscriptions),
                _array_literal(s.current_period_end.isoformat() for s in subscriptions),
                _array_literal(s.policy_id for s in subscriptions),
            ],
        )


def _array_literal(values) -> str:
    """A PostgreSQL array literal of ids or ISO timestamps (no quoting needed), built once:
    the driver would dump a list element by element in Python."""
    return "{" + ",".join(f'"{value}"' for value in values) + "}"


def _charge_key(subscription: Subscription, start: datetime, attempt: str) -> str:
    return f"subscription-{subscription.pk}-{start:%Y%m%dT%H%M}-{attempt}"


def policies_in_force(now: datetime, *, slugs: list[str] | None = None) -> dict[str, RefundPolicy]:
    """The version a renewal is bought under, per policy (orgix §19): the latest published
    version in force that takes renewals from `renewals_from` (or its effective day) on.
    Drafts and versions for new subscriptions only never move a renewal."""
    today = now.date()
    queryset = (
        RefundPolicy.objects.filter(
            state=RefundPolicy.State.PUBLISHED,
            moves=RefundPolicy.Moves.RENEWALS,
            effective_from__lte=today,
        )
        .filter(Q(renewals_from__isnull=True) | Q(renewals_from__lte=today))
        .order_by("version")
    )
    if slugs is not None:
        queryset = queryset.filter(slug__in=slugs)
    return {policy.slug: policy for policy in queryset}


def workspaces_with_credit(workspace_ids) -> set[int]:
    """Which of these workspaces (ids, or a subquery of ids) have a positive credit balance
    in some currency."""
    rows = (
        CreditEntry.objects.filter(workspace_id__in=workspace_ids)
        .values("workspace_id", "currency")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
    )
    return {row["workspace_id"] for row in rows}


def _order_packs_renew(subscription: Subscription, rules: PolicyRules, start: datetime) -> None:
    """sync-with-connex: packs are reset when the account renews. Otherwise the orders
    left in them carry over as one pack (the exhausted ones end)."""
    packs = [a for a in _active_addons(subscription, start) if a.is_one_time]
    if not packs:
        return
    AddOn.objects.filter(pk__in=[p.pk for p in packs]).update(ends_at=start)
    if rules.order_packs_reset_at_renewal:
        return
    left = order_packs_carried_over(
        pack_orders=sum(p.quantity for p in packs),
        orders_used=subscription.orders_used_this_period,
        plan_limit=subscription.plan.orders_per_month_limit,
    )
    if left:
        AddOn.objects.create(
            subscription=subscription,
            kind=AddOn.Kind.ORDER_PACK,
            quantity=left,
            price=ZERO,
            currency=subscription.plan.currency,
            started_at=start,
        )
