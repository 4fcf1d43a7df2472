"""Reading one field of a scenario file strictly: each reader raises `ScenarioError`
naming the field (`payments[1].kind`), so the simulator says which value is wrong."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from backoffice.bounds import amount_out_of_range, date_out_of_range
from billing.errors import DomainError
from billing.money import MINOR_UNITS


class ScenarioError(DomainError):
    """A scenario field is missing or malformed; `field` names it."""


def known_keys(data: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
    """Reject the first key not in `allowed`, suggesting the closest known one."""
    for key in data:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ScenarioError(
            f"unknown field{hint}; expected one of {', '.join(allowed)}", field=f"{prefix}{key}"
        )


def text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError("expected a string", field=name)
    return value.strip()


def required(data: dict, key: str, prefix: str = "") -> Any:
    if key not in data:
        raise ScenarioError("this field is required", field=f"{prefix}{key}")
    return data[key]


def as_list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError("expected a list", field=key)
    return value


def moment(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ScenarioError("expected an ISO 8601 date-time string", field=name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"not an ISO 8601 date-time: {value!r}", field=name) from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if problem := date_out_of_range(parsed):
        raise ScenarioError(f"{problem}: {value!r}", field=name)
    return parsed


def decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScenarioError("expected a number or a decimal string", field=name)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(f"not a number: {value!r}", field=name) from None
    if problem := amount_out_of_range(amount):
        raise ScenarioError(f"{problem}: {value!r}", field=name)
    return amount


def money(value: Any, currency: str, name: str) -> Decimal:
    amount = decimal(value, name)
    if amount < 0:
        raise ScenarioError("cannot be negative", field=name)
    places = MINOR_UNITS[currency]
    if amount.as_tuple().exponent < -places:  # type: ignore[operator]
        raise ScenarioError(f"{currency} amounts have {places} decimal places", field=name)
    return amount


def enum_value(enum: type[StrEnum], value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        expected = ", ".join(member.value for member in enum)
        raise ScenarioError(f"unknown value {value!r} (expected {expected})", field=name) from None


def as_object(item: Any, name: str) -> dict:
    if not isinstance(item, dict):
        raise ScenarioError("expected an object", field=name)
    return item
