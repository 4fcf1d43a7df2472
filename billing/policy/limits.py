"""Plan limits and what a workspace over them may not do. Pure: no database.

Orgix §5: over the Free plan's limits a workspace keeps reading its data but can't add
users, upload, enable modules, add paid add-ons or place orders beyond the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum


class Action(StrEnum):
    ADD_USER = "add_user"
    UPLOAD = "upload"
    ENABLE_MODULE = "enable_module"
    ADD_PAID_ADDON = "add_paid_addon"
    PLACE_ORDER = "place_order"


@dataclass(frozen=True)
class Usage:
    seats: int
    storage_mb: int
    modules: int
    orders_this_period: int = 0


@dataclass(frozen=True)
class Limits:
    """None means unlimited."""

    seats: int | None
    storage_mb: int | None
    modules: int | None
    orders: int | None
    plan_name: str = ""
    paid_addons_allowed: bool = True


@dataclass(frozen=True)
class LimitBreach:
    limit: str  # "seats", "storage_mb", "modules", "orders"
    used: int
    allowed: int
    message: str  # which limit and how to fix it


_FIXES = {
    "seats": "remove members or upgrade your plan or buy extra seats",
    "storage_mb": "delete files or upgrade your plan or buy extra storage",
    "modules": "disable modules or upgrade your plan or buy extra modules",
    "orders": "wait for the next period, buy an order pack or upgrade your plan",
}
_LABELS = {
    "seats": "seats",
    "storage_mb": "MB of storage",
    "modules": "modules",
    "orders": "orders",
}
_ACTION_LIMIT = {
    Action.ADD_USER: "seats",
    Action.UPLOAD: "storage_mb",
    Action.ENABLE_MODULE: "modules",
    Action.PLACE_ORDER: "orders",
}
_ADDON_LIMIT = {
    "extra_seats": "seats",
    "extra_storage": "storage_mb",
    "extra_modules": "modules",
    "order_pack": "orders",
}


def with_addons(limits: Limits, addons: Iterable[tuple[str, int]]) -> Limits:
    """Raise limits by active add-ons: (kind, quantity) pairs."""
    raised = {}
    for kind, quantity in addons:
        name = _ADDON_LIMIT[kind]
        current = raised.get(name, getattr(limits, name))
        if current is not None:
            raised[name] = current + quantity
    return replace(limits, **raised)


def _breach(name: str, used: int, allowed: int, plan_name: str) -> LimitBreach:
    plan = f"the {plan_name} plan" if plan_name else "your plan"
    return LimitBreach(
        limit=name,
        used=used,
        allowed=allowed,
        message=(
            f"{plan[0].upper()}{plan[1:]} allows {allowed} {_LABELS[name]}; "
            f"this workspace uses {used}. To fix it, {_FIXES[name]}."
        ),
    )


def exceeded_limits(usage: Usage, limits: Limits) -> tuple[LimitBreach, ...]:
    pairs = (
        ("seats", usage.seats, limits.seats),
        ("storage_mb", usage.storage_mb, limits.storage_mb),
        ("modules", usage.modules, limits.modules),
        ("orders", usage.orders_this_period, limits.orders),
    )
    return tuple(
        _breach(name, used, allowed, limits.plan_name)
        for name, used, allowed in pairs
        if allowed is not None and used > allowed
    )


def check_action(
    action: Action, usage: Usage, limits: Limits, *, amount: int = 1
) -> LimitBreach | None:
    """The breach that forbids `action` (adding `amount` more), or None if allowed."""
    if action == Action.ADD_PAID_ADDON:
        if not limits.paid_addons_allowed:
            return LimitBreach(
                limit="addons",
                used=0,
                allowed=0,
                message=f"Paid add-ons are not available on the {limits.plan_name or 'current'} "
                "plan. To fix it, upgrade to a paid plan.",
            )
        return None
    name = _ACTION_LIMIT[action]
    used = {
        "seats": usage.seats,
        "storage_mb": usage.storage_mb,
        "modules": usage.modules,
        "orders": usage.orders_this_period,
    }[name]
    allowed = getattr(limits, name)
    if allowed is not None and used + amount > allowed:
        return _breach(name, used + amount, allowed, limits.plan_name)
    return None
