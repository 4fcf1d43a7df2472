"""Frozen dataclasses to JSON and back, generically, naming the field on bad input.

Used for policy rules (`PolicyRules`) and for the subscription snapshot a stored quote was
computed from (`SubscriptionSnapshot`), so a field added to either dataclass is serialised
without code here. Types understood: nested dataclasses, `X | None`, `tuple[X, ...]`,
`dict[str, X]`, `StrEnum`, `Decimal` (as a string), aware `datetime` and `date` (ISO
8601), and plain JSON scalars. A missing field with a default takes the default; an
unknown key is an error (a misspelt key must not silently change a quote). A field whose
metadata says `overrides` holds some fields of the outermost dataclass (a policy variant's
rules), each read as that field; the outermost class's `FIXED_FIELDS` may not be
overridden.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any


class CodecError(ValueError):
    """Bad input for one field: `field` is its dotted path (`proration.1.mode`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


_PLAIN = frozenset({str, int, float, bool, type(None)})  # exactly these types: an enum is not


def to_json(value: Any) -> Any:
    """A JSON-ready copy of `value` (dataclasses become objects, in field order)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names, None for any other type (cached: a stored snapshot has a
    dataclass per payment, and `dataclasses.fields` walks the class on every call)."""
    if dataclasses.is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return None


@cache
def type_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass (cached: resolving them is slow)."""
    return typing.get_type_hints(cls)


def optional_of(tp: Any) -> Any | None:
    """`X` when `tp` is `X | None`, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def from_json(tp: Any, data: Any, field: str = "", root: Any = None) -> Any:
    """Build a `tp` from JSON `data`; a CodecError names the first bad field."""
    return _decoder(tp, tp if root is None else root)(data, field)


Decoder = Callable[[Any, str], Any]


@cache
def _decoder(tp: Any, root: Any) -> Decoder:
    """A function reading JSON as `tp`, built once per type (a replay reads 100,000
    snapshots: resolving the type hints each time would cost more than the quotes)."""
    if dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp, root)
    inner = optional_of(tp)
    if inner is not None:
        read_inner = _decoder(inner, root)
        return lambda data, field: None if data is None else read_inner(data, field)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        read_item = _decoder(args[0], root)

        def read_tuple(data: Any, field: str) -> tuple:
            if not isinstance(data, list):
                raise CodecError(field, "expected a list")
            return tuple(read_item(v, f"{field}.{i}") for i, v in enumerate(data))

        return read_tuple
    if origin is dict or tp is dict:
        read_value = _decoder(args[1], root) if args else _decoder(Any, root)

        def read_dict(data: Any, field: str) -> dict:
            if not isinstance(data, dict):
                raise CodecError(field, "expected an object")
            return {str(k): read_value(v, f"{field}.{k}") for k, v in data.items()}

        return read_dict
    return lambda data, field: _scalar_from_json(tp, data, field)


def _dataclass_decoder(tp: type, root: Any) -> Decoder:
    hints = type_hints(tp)
    fields = [
        (
            f.name,
            (lambda data, field: _overrides(root, data, field))
            if f.metadata.get("overrides")
            else _decoder(hints[f.name], root),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(tp)
    ]
    names = {name for name, _, _ in fields}

    def read(data: Any, field: str) -> Any:
        if not isinstance(data, dict):
            raise CodecError(field, "expected an object")
        if not names.issuperset(data):
            unknown = sorted(set(data) - names)[0]
            where = f"{field}.{unknown}" if field else unknown
            raise CodecError(where, f"unknown field (known: {', '.join(n for n, _, _ in fields)})")
        kwargs = {}
        for name, decode, required in fields:
            if name in data:
                kwargs[name] = decode(data[name], f"{field}.{name}" if field else name)
            elif required:
                raise CodecError(f"{field}.{name}" if field else name, "is required")
        try:
            return tp(**kwargs)
        except ValueError as exc:
            # A rule's own check (`__post_init__`) says "<field>: <problem>"; keep its path.
            name, sep, problem = str(exc).partition(": ")
            if sep and name in names:
                raise CodecError(f"{field}.{name}" if field else name, problem) from None
            raise CodecError(field, str(exc)) from None

    return read


def _overrides(root: Any, data: Any, field: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CodecError(field, f"expected an object of {root.__name__} fields")
    hints = type_hints(root)
    fixed = getattr(root, "FIXED_FIELDS", frozenset())
    out = {}
    for key, value in data.items():
        if key not in hints or key in fixed:
            raise CodecError(f"{field}.{key}", "not a rule a variant can set")
        out[key] = from_json(hints[key], value, f"{field}.{key}", root)
    return out


def _scalar_from_json(tp: Any, data: Any, field: str) -> Any:
    if tp is Any:
        return data
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            choices = ", ".join(str(m.value) for m in tp)
            raise CodecError(field, f"{data!r} is not one of {choices}") from None
    if tp is Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            raise CodecError(field, 'expected an amount such as "250.00"')
        try:
            value = Decimal(str(data))
        except InvalidOperation:
            raise CodecError(field, f"{data!r} is not an amount") from None
        if not value.is_finite():
            raise CodecError(field, f"{data!r} is not an amount")
        return value
    if tp is datetime:
        if not isinstance(data, str):
            raise CodecError(field, "expected an ISO 8601 date and time")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            raise CodecError(field, f"{data!r} is not an ISO 8601 date and time") from None
        if value.tzinfo is None:
            raise CodecError(field, "needs a time zone offset (UTC: +00:00)")
        return value
    if tp is date:
        if not isinstance(data, str):
            raise CodecError(field, "expected a date such as 2022-03-01")
        try:
            return date.fromisoformat(data)
        except ValueError:
            raise CodecError(field, f"{data!r} is not a date (YYYY-MM-DD)") from None
    if tp is bool:
        if not isinstance(data, bool):
            raise CodecError(field, "expected true or false")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(field, "expected a whole number")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise CodecError(field, "expected text")
        return data
    return data
