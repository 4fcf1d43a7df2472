"""Limits on changes (`ChangeLimit`): "downgrade to Free once per account", "two pauses per
year". Pure: the account's earlier changes come in the snapshot (`snapshot.changes`, or
the same events passed by a service). A limit is reached when as many changes of its kind
as it allows were made in its span before the moment; the refusal names the limit, its
clause and when the next change is possible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .calendars import add_months
from .rules import ChangeLimit, LimitedChange, LimitPer, PolicyRules
from .snapshot import ChangeEvent

CHANGE_NAMES = {
    LimitedChange.DOWNGRADE_TO_FREE: ("downgrade to the Free plan", "downgrades to the Free plan"),
    LimitedChange.DOWNGRADE: ("downgrade", "downgrades"),
    LimitedChange.PAUSE: ("pause", "pauses"),
}
SPANS = {LimitPer.ACCOUNT: "per account", LimitPer.YEAR: "per year"}


def counted(limit: ChangeLimit, changes: Iterable[ChangeEvent], at: datetime) -> list[datetime]:
    """When the changes the limit counts at `at` were made, oldest first."""
    since = add_months(at, -12) if limit.per == LimitPer.YEAR else None
    return sorted(
        event.at
        for event in changes
        if event.change == limit.change and event.at <= at and (since is None or event.at > since)
    )


def limit_reached(
    rules: PolicyRules, change: LimitedChange, changes: Iterable[ChangeEvent], at: datetime
) -> tuple[ChangeLimit, list[datetime]] | None:
    """The first limit on `change` that one more change at `at` would exceed, with the
    changes it counts; None when the change is allowed."""
    changes = tuple(changes)
    for limit in rules.limits:
        if limit.change == change:
            used = counted(limit, changes, at)
            if len(used) >= limit.times:
                return limit, used
    return None


def limit_message(limit: ChangeLimit, used: list[datetime]) -> str:
    """What the limit allows, when it was used, and when the next change is possible."""
    one, many = CHANGE_NAMES[limit.change]
    allowed = f"{'one' if limit.times == 1 else limit.times} {one if limit.times == 1 else many}"
    days = ", ".join(f"{moment:%-d %B %Y}" for moment in used)
    message = f"This policy allows {allowed} {SPANS[limit.per]} ({limit.clause.ref})"
    message += f": already used on {days}." if used else "."
    if limit.per == LimitPer.YEAR and used:
        message += f" The next is possible after {add_months(used[-limit.times], 12):%-d %B %Y}."
    return message
