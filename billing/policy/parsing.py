"""Rules JSON <-> `PolicyRules`, strictly.

Every field is checked against the dataclasses' type hints: unknown keys, missing required
keys, wrong types and unknown enumerated values raise `RulesError`, whose message starts
with the field's path (`variants[0].when.channels[1]: unknown value 'webb' (expected ...)`).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


class RulesError(ValueError):
    """Rules JSON that does not fit `PolicyRules`; the message starts with the field path
    (`variants[0].when.channels[1]: ...`)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path or 'rules'}: {message}")
        self.field = path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def from_jsonable(tp: Any, data: Any, path: str = "", root: Any = None) -> Any:
    """Strict: unknown keys, missing required keys, wrong types and unknown enumerated
    values are refused with a `RulesError` naming the field. A field whose metadata has
    `overrides` holds some fields of `root` (a variant's rules), each parsed as that field;
    `root.FIXED_FIELDS` may not be overridden."""
    root = tp if root is None else root
    hints = _hints(tp) if dataclasses.is_dataclass(tp) else None
    if hints is not None:
        if not isinstance(data, dict):
            raise RulesError(path, f"expected an object ({tp.__name__})")
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise RulesError(_join(path, unknown[0]), f"unknown field of {tp.__name__}")
        kwargs = {}
        for f in dataclasses.fields(tp):
            here = _join(path, f.name)
            if f.name in data:
                if f.metadata.get("overrides"):
                    kwargs[f.name] = _overrides(root, data[f.name], here)
                else:
                    kwargs[f.name] = from_jsonable(hints[f.name], data[f.name], here, root)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RulesError(here, "this field is required")
        try:
            return tp(**kwargs)
        except ValueError as exc:
            if isinstance(exc, RulesError):
                raise
            raise RulesError(path, str(exc)) from None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        return from_jsonable(next(a for a in args if a is not type(None)), data, path, root)
    if origin is tuple:
        if not isinstance(data, list):
            raise RulesError(path, "expected a list")
        return tuple(from_jsonable(args[0], v, f"{path}[{i}]", root) for i, v in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict):
            raise RulesError(path, "expected an object")
        return {k: from_jsonable(args[1], v, _join(path, k), root) for k, v in data.items()}
    if tp is Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            raise RulesError(path, "expected a decimal number")
        try:
            amount = Decimal(str(data))
        except ArithmeticError:
            raise RulesError(path, f"not a number: {data!r}") from None
        if not amount.is_finite():
            raise RulesError(path, f"not a number: {data!r}")
        return amount
    if tp is date:
        if not isinstance(data, str):
            raise RulesError(path, "expected a date such as 2022-03-01")
        try:
            return date.fromisoformat(data)
        except ValueError:
            raise RulesError(path, f"not a date (YYYY-MM-DD): {data!r}") from None
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        try:
            return tp(data)
        except ValueError:
            expected = ", ".join(member.value for member in tp)
            raise RulesError(path, f"unknown value {data!r} (expected {expected})") from None
    if tp is bool and not isinstance(data, bool):
        raise RulesError(path, "expected true or false")
    if tp is int and (isinstance(data, bool) or not isinstance(data, int)):
        raise RulesError(path, "expected a whole number")
    if tp is str and not isinstance(data, str):
        raise RulesError(path, "expected a string")
    return data


def _overrides(root: Any, data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RulesError(path, f"expected an object of {root.__name__} fields")
    hints = _hints(root)
    fixed = getattr(root, "FIXED_FIELDS", frozenset())
    out = {}
    for key, value in data.items():
        here = _join(path, key)
        if key not in hints or key in fixed:
            raise RulesError(here, "not a rule a variant can set")
        out[key] = from_jsonable(hints[key], value, here, root)
    return out


@functools.cache
def _hints(tp: Any) -> dict[str, Any]:
    return typing.get_type_hints(tp)


LEGACY_WINDOW_FROM = {"purchase": "trial_end"}


def upgrade_stored(data: Any) -> Any:
    """Rules stored before fixed amounts carried a currency: a bare amount was meant in
    the policy's `currency`; `counted_from: purchase` meant the trial end (or signup)."""
    if not isinstance(data, dict):
        return data
    currency = data.get("currency")

    def money(value: Any) -> Any:
        """A bare amount becomes one in the policy's currency; a zero one, no amount."""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [] if Decimal(str(value)) == 0 else [{"amount": value, "currency": currency}]
        return value

    data = dict(data)
    if isinstance(data.get("service_deductions"), list):
        data["service_deductions"] = [
            {**d, "amount": money(d.get("amount"))} if isinstance(d, dict) else d
            for d in data["service_deductions"]
        ]
    if isinstance(data.get("proration"), list):
        data["proration"] = [
            {**r, "fixed_deduction": money(r.get("fixed_deduction"))} if isinstance(r, dict) else r
            for r in data["proration"]
        ]
    window = data.get("refund_window")
    if isinstance(window, dict) and window.get("counted_from") in LEGACY_WINDOW_FROM:
        data["refund_window"] = {
            **window,
            "counted_from": LEGACY_WINDOW_FROM[window["counted_from"]],
        }
    return data
