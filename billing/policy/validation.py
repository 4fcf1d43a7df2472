"""Is a set of policy rules publishable? Every problem names the field it is on.

Generic checks walk the `PolicyRules` dataclasses (so rule fields added later are checked
too): counts of days are never negative, amounts are never negative, a fixed amount has a
currency (its own `currency` field, or the nearest enclosing rule's, up to the policy's),
a currency is one we bill in. Specific checks read known rules where they exist: the service
deduction schedule runs in service order and never deducts less for a later service, and
the dunning ladder retries in increasing order and stops before the subscription expires,
and a variant that sets retention is conditioned only on what the purge can decide.
Pure: no database, no clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from billing.money import MINOR_UNITS

from .codec import CodecError, from_json
from .retention_terms import RETENTION_CRITERIA
from .rules import Condition, PolicyRules


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path: "refund_window.days", "service_deductions.1.amount"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RulesInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse_rules(data: Any) -> PolicyRules:
    """`PolicyRules` from JSON, or RulesInvalid listing every problem (or the first bad
    field when the JSON does not even have the rules' shape)."""
    try:
        rules = from_json(PolicyRules, data)
    except CodecError as exc:
        raise RulesInvalid([Problem(exc.field or "rules", exc.message)]) from None
    except (TypeError, ValueError) as exc:
        raise RulesInvalid([Problem("rules", str(exc))]) from None
    problems = rules_problems(rules)
    if problems:
        raise RulesInvalid(problems)
    return rules


def rules_problems(rules: PolicyRules) -> list[Problem]:
    problems: list[Problem] = []
    _walk(rules, "", [], problems)
    for check in SPECIFIC_CHECKS:
        problems.extend(check(rules))
    return problems


def _walk(value: Any, path: str, currencies: list[str], problems: list[Problem]) -> None:
    if dataclasses.is_dataclass(value):
        own = getattr(value, "currency", None)
        if isinstance(own, str):
            if own and own not in MINOR_UNITS:
                problems.append(
                    Problem(
                        _join(path, "currency"), f"{own!r} is not one of {', '.join(MINOR_UNITS)}"
                    )
                )
            currencies = [*currencies, own]
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), _join(path, f.name), currencies, problems)
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            _walk(item, _join(path, str(index)), currencies, problems)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, _join(path, str(key)), currencies, problems)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and value < 0:
        problems.append(Problem(path, f"must not be negative (it is {value})"))
    elif isinstance(value, Decimal):
        if value < 0:
            problems.append(Problem(path, f"must not be negative (it is {value})"))
        elif (
            value
            and "percent" not in path.rsplit(".", 1)[-1]
            and not (currencies and currencies[-1])
        ):
            problems.append(Problem(path, f"the fixed amount {value} needs a currency"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _deduction_schedule(rules: PolicyRules) -> list[Problem]:
    """connex's schedule: later services deduct at least as much; None (nothing refunded)
    can only be the last step."""
    schedule = getattr(rules, "service_deductions", ())
    problems: list[Problem] = []
    order = {kind: i for i, kind in enumerate(type(schedule[0].service))} if schedule else {}
    for i, (before, after) in enumerate(pairwise(schedule), start=1):
        where = f"service_deductions.{i}"
        if order[after.service] <= order[before.service]:
            problems.append(
                Problem(
                    f"{where}.service",
                    f"out of order: {after.service.value} comes after {before.service.value} "
                    "in the schedule, but happens before it",
                )
            )
        elif before.amount is None:
            problems.append(
                Problem(
                    f"service_deductions.{i - 1}.amount",
                    'out of order: "nothing refunded" must be the last step of the schedule',
                )
            )
        elif after.amount is not None:
            earlier, later = _by_currency(before.amount), _by_currency(after.amount)
            for currency in sorted(set(earlier) & set(later)):
                if later[currency] < earlier[currency]:
                    problems.append(
                        Problem(
                            f"{where}.amount",
                            f"out of order: {_money(later[currency], currency)} is less than "
                            f"the {_money(earlier[currency], currency)} of the step before "
                            "(the schedule is cumulative)",
                        )
                    )
    return problems


def _by_currency(amount: Any) -> dict[str, Decimal]:
    """A deduction's amounts by currency: one bare amount, or amounts with a currency."""
    if isinstance(amount, Decimal):
        return {"": amount}
    return {getattr(m, "currency", ""): m.amount for m in amount}


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}".strip()


def _dunning_ladder(rules: PolicyRules) -> list[Problem]:
    dunning = getattr(rules, "dunning", None)
    if dunning is None:
        return []
    problems: list[Problem] = []
    steps = dunning.retry_after_days
    for i, (before, after) in enumerate(pairwise(steps), start=1):
        if after <= before:
            problems.append(
                Problem(
                    "dunning.retry_after_days",
                    f"out of order: retry {i + 1} (day {after}) is not after retry {i} "
                    f"(day {before})",
                )
            )
    for i, day in enumerate(steps, start=1):
        if day > dunning.expire_after_days:
            problems.append(
                Problem(
                    "dunning.retry_after_days",
                    f"retry {i} on day {day} comes after the subscription expires "
                    f"(day {dunning.expire_after_days})",
                )
            )
    if dunning.suspend_after_days > dunning.expire_after_days:
        problems.append(
            Problem(
                "dunning.suspend_after_days",
                f"day {dunning.suspend_after_days} comes after the subscription expires "
                f"(day {dunning.expire_after_days})",
            )
        )
    return problems


def _retention_variants(rules: PolicyRules) -> list[Problem]:
    """A variant that sets `retention` is applied by the purge from stored columns, so it
    may only be conditioned on what they decide (`retention_terms`)."""
    problems: list[Problem] = []
    defaults = Condition()
    for i, variant in enumerate(getattr(rules, "variants", ())):
        if "retention" not in variant.rules:
            continue
        for name in sorted(f.name for f in dataclasses.fields(Condition)):
            if name in RETENTION_CRITERIA or getattr(variant.when, name) == getattr(defaults, name):
                continue
            problems.append(
                Problem(
                    f"variants.{i}.when.{name}",
                    "a variant that sets retention can only be conditioned on "
                    f"{', '.join(sorted(RETENTION_CRITERIA))}: the purge applies it long "
                    "after the quote; put the other rules in a variant of their own",
                )
            )
    return problems


SPECIFIC_CHECKS = (_deduction_schedule, _dunning_ladder, _retention_variants)
