"""What a scenario says about the subscription beyond its payments: what conditions,
charges, seat rules and limits on changes read (where and how it was bought, the
commitment, activity, usage not yet billed, credit on the account, seats, earlier
changes), read strictly, and written back for a subscription (`attributes_json`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .rules import Channel, LimitedChange, PaymentMethod
from .scenario_fields import (
    ScenarioError,
    as_list,
    as_object,
    enum_value,
    known_keys,
    moment,
    money,
    required,
)
from .snapshot import ChangeEvent, SeatSnapshot, SubscriptionSnapshot

# Subscription statuses a scenario may give (conditions read `past_due`).
STATUSES = ("trialing", "active", "past_due", "suspended")
ATTRIBUTE_KEYS = (
    "channel",
    "payment_method",
    "country",
    "status",
    "commitment_end",
    "last_used_at",
    "unbilled_usage",
    "credit_balance",
    "seat_price",
    "seats",
    "changes",
)
SEAT_KEYS = ("ref", "added_at", "removed_at", "last_active_at")
CHANGE_KEYS = ("change", "at")


def _optional_moment(data: dict, key: str, name: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else moment(value, name)


def _seat(item: Any, index: int) -> SeatSnapshot:
    name = f"seats[{index}]"
    data = as_object(item, name)
    known_keys(data, SEAT_KEYS, f"{name}.")
    added_at = moment(required(data, "added_at", f"{name}."), f"{name}.added_at")
    removed_at = _optional_moment(data, "removed_at", f"{name}.removed_at")
    if removed_at is not None and removed_at < added_at:
        raise ScenarioError("the seat is removed before it was added", field=f"{name}.removed_at")
    return SeatSnapshot(
        ref=str(data.get("ref", f"seat-{index + 1}")),
        added_at=added_at,
        removed_at=removed_at,
        last_active_at=_optional_moment(data, "last_active_at", f"{name}.last_active_at"),
    )


def _change(item: Any, index: int) -> ChangeEvent:
    name = f"changes[{index}]"
    data = as_object(item, name)
    known_keys(data, CHANGE_KEYS, f"{name}.")
    return ChangeEvent(
        enum_value(LimitedChange, required(data, "change", f"{name}."), f"{name}.change"),
        moment(required(data, "at", f"{name}."), f"{name}.at"),
    )


def attributes(data: dict, currency: str, subscribed_at: datetime) -> dict[str, Any]:
    """The snapshot's fields these keys give (defaults where a key is absent)."""
    country = data.get("country", "")
    if not isinstance(country, str) or (
        country and not (len(country) == 2 and country.isascii() and country.isalpha())
    ):
        raise ScenarioError("expected an ISO 3166-1 alpha-2 code such as DE", field="country")
    plan_code = data.get("plan", {}).get("code", "")
    if not isinstance(plan_code, str):
        raise ScenarioError("expected a string", field="plan.code")
    status = data.get("status", "active")
    if status not in STATUSES:
        raise ScenarioError(
            f"unknown value {status!r} (expected {', '.join(STATUSES)})", field="status"
        )
    commitment_end = _optional_moment(data, "commitment_end", "commitment_end")
    if commitment_end is not None and commitment_end <= subscribed_at:
        raise ScenarioError("must be after subscribed_at", field="commitment_end")
    return {
        "channel": enum_value(Channel, data.get("channel", "web"), "channel"),
        "payment_method": enum_value(
            PaymentMethod, data.get("payment_method", "card"), "payment_method"
        ),
        "country": country.upper(),
        "plan_code": plan_code,
        "status": status,
        "commitment_end": commitment_end,
        "last_used_at": _optional_moment(data, "last_used_at", "last_used_at"),
        "unbilled_usage": money(data.get("unbilled_usage", "0"), currency, "unbilled_usage"),
        "credit_balance": money(data.get("credit_balance", "0"), currency, "credit_balance"),
        "seat_price": money(data.get("seat_price", "0"), currency, "seat_price"),
        "seats": tuple(_seat(item, i) for i, item in enumerate(as_list(data, "seats"))),
        "changes": tuple(_change(item, i) for i, item in enumerate(as_list(data, "changes"))),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def attributes_json(snapshot: SubscriptionSnapshot) -> dict[str, Any]:
    """The same keys for an existing subscription's snapshot."""
    return {
        "channel": snapshot.channel.value,
        "payment_method": snapshot.payment_method.value,
        "country": snapshot.country,
        "status": snapshot.status if snapshot.status in STATUSES else "active",
        "commitment_end": _iso(snapshot.commitment_end),
        "last_used_at": _iso(snapshot.last_used_at),
        "unbilled_usage": str(snapshot.unbilled_usage),
        "credit_balance": str(snapshot.credit_balance),
        "seat_price": str(snapshot.seat_price),
        "seats": [
            {
                "ref": seat.ref,
                "added_at": seat.added_at.isoformat(),
                "removed_at": _iso(seat.removed_at),
                "last_active_at": _iso(seat.last_active_at),
            }
            for seat in snapshot.seats
        ],
        "changes": [{"change": e.change.value, "at": e.at.isoformat()} for e in snapshot.changes],
    }
