"""Add-ons and order packs.

Recurring add-ons are charged now for the rest of the period (prorated like an upgrade)
and renew with the plan at full price; removing one ends it with the period, without
refund (orgix §7). Order packs are one-time purchases, paid in full; they end at the next
renewal where the policy resets them (sync-with-connex), else their unused orders carry.
Purchases are charged and checked against the plan's limits as plan changes are
(`billing.services.plan_changes`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from accounts.services.audit import audit_record
from billing.errors import DomainError, InvalidTransition
from billing.gateways import PaymentGateway, get_gateway
from billing.models import AddOn, Payment, Subscription
from billing.policy.lifecycle import (
    ADDON_PRICES,
    ORDER_PACK_SIZE,
    Charge,
    addon_period_price,
    quote_addon,
)
from billing.policy.limits import Action
from billing.policy.rules import Interval, PolicyRules
from billing.selectors import policy_rules
from billing.services.plan_changes import (
    charge_now,
    check_changeable,
    workspace_limits_enforce,
)
from billing.services.restrictions import workspace_ensure_allowed
from billing.services.subscription_locks import subscription_lock

S = Subscription.Status
RECURRING_ADDONS = (AddOn.Kind.EXTRA_SEATS, AddOn.Kind.EXTRA_STORAGE, AddOn.Kind.EXTRA_MODULES)


def _addon_charge(
    subscription: Subscription, kind: str, quantity: int, rules: PolicyRules, now: datetime
) -> tuple[Decimal, Charge]:
    if kind not in ADDON_PRICES:
        raise DomainError("Unknown add-on.", field="kind")
    try:
        price = addon_period_price(
            kind, quantity, Interval(subscription.plan.interval), subscription.plan.currency
        )
    except ValueError as error:
        raise DomainError(
            f"The quantity must be a positive multiple of {ADDON_PRICES[kind].unit}.",
            field="quantity",
        ) from error
    charge = quote_addon(
        changes=rules.changes,
        period_price=price,
        one_time=ADDON_PRICES[kind].one_time,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        currency=subscription.plan.currency,
        at=now,
    )
    return price, charge


def _check_addons_allowed(subscription: Subscription, now: datetime) -> None:
    check_changeable(subscription)
    if subscription.status == S.TRIALING:
        raise InvalidTransition(
            "Add-ons can be bought once the trial has converted to a paid plan.", field="status"
        )
    workspace_ensure_allowed(
        workspace=subscription.workspace, action=Action.ADD_PAID_ADDON, now=now
    )


def addon_preview(*, subscription: Subscription, kind: str, quantity: int, now: datetime) -> Charge:
    """What buying the add-on (or order pack) would charge now, explained."""
    _check_addons_allowed(subscription, now)
    return _addon_charge(subscription, kind, quantity, policy_rules(subscription.policy), now)[1]


def addon_add(
    *,
    subscription: Subscription,
    kind: str,
    quantity: int,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> tuple[AddOn, Payment | None]:
    """Buy a recurring add-on: charged now for the rest of the period, then renewed with
    the plan. Raises the limits at once (and may lift a limits restriction)."""
    if kind not in RECURRING_ADDONS:
        raise DomainError("Choose extra seats, storage or modules.", field="kind")
    return _purchase(subscription, kind, quantity, actor, now, gateway)


def order_pack_buy(
    *,
    subscription: Subscription,
    packs: int,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None = None,
) -> tuple[AddOn, Payment | None]:
    """Buy `packs` one-time packs of orders (a `one_time_purchase`, never prorated)."""
    if packs < 1:
        raise DomainError("Buy at least one order pack.", field="packs")
    return _purchase(
        subscription, AddOn.Kind.ORDER_PACK, packs * ORDER_PACK_SIZE, actor, now, gateway
    )


def _purchase(
    subscription: Subscription,
    kind: str,
    quantity: int,
    actor: User | None,
    now: datetime,
    gateway: PaymentGateway | None,
) -> tuple[AddOn, Payment | None]:
    with transaction.atomic():
        locked = subscription_lock(subscription.pk, skip_locked=False)
        _check_addons_allowed(locked, now)
        rules = policy_rules(locked.policy)
        price, charge = _addon_charge(locked, kind, quantity, rules, now)
        one_time = ADDON_PRICES[kind].one_time
        addon = AddOn.objects.create(
            subscription=locked,
            kind=kind,
            quantity=quantity,
            price=price,
            currency=locked.plan.currency,
            started_at=now,
            ends_at=locked.current_period_end
            if one_time and rules.order_packs_reset_at_renewal
            else None,
        )
        payment = None
        if charge.amount > 0:
            payment = charge_now(
                subscription=locked,
                kind=Payment.Kind.ONE_TIME_PURCHASE if one_time else Payment.Kind.ADD_ON,
                amount=charge.amount,
                key=f"addon-{addon.pk}",
                description=str(addon),
                now=now,
                gateway=gateway or get_gateway(),
                period_end=addon.ends_at if one_time else None,
            )
        audit_record(
            actor=actor,
            action="addon.add",
            target=addon,
            now=now,
            after={"kind": kind, "quantity": quantity, "charged": charge.amount},
            workspace_id=locked.workspace_id,
        )
        workspace_limits_enforce(subscription=locked, now=now, actor=actor)
    return addon, payment


def addon_remove(*, addon: AddOn, actor: User | None, now: datetime) -> AddOn:
    """End a recurring add-on with the current period; no refund (orgix §7)."""
    with transaction.atomic():
        locked_subscription = subscription_lock(addon.subscription_id, skip_locked=False)
        addon = AddOn.objects.select_for_update().get(pk=addon.pk)
        if addon.is_one_time:
            raise DomainError("Order packs are used up or reset at renewal.", field="addon")
        if addon.ends_at is not None:
            raise DomainError(
                f"This add-on already ends on {addon.ends_at:%Y-%m-%d}.", field="addon"
            )
        addon.ends_at = locked_subscription.current_period_end
        addon.save(update_fields=["ends_at"])
        audit_record(
            actor=actor,
            action="addon.remove",
            target=addon,
            now=now,
            after={"ends_at": addon.ends_at},
            workspace_id=locked_subscription.workspace_id,
        )
    return addon
