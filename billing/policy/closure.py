"""What follows the end of a subscription: read access kept after it, how long data (and
parts of it) are kept, and what becomes of customer credit.

Pure: dates derived from the rules, the cancellation moment and the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .rules import CreditRule, Destination, PolicyRules, RetentionFrom


@dataclass(frozen=True)
class RetainedPart:
    """Part of the data kept on its own horizon; `until=None`: kept indefinitely."""

    what: str
    until: datetime | None
    clause: str


_REQUEST = RetentionFrom.REQUEST  # enum members are slow to look up on the hot path
_CREDIT = Destination.CUSTOMER_CREDIT


def access_until(rules: PolicyRules, access_end: datetime) -> datetime:
    """`access_end` (the cancellation or the end), extended by the access grace."""
    if not rules.access_grace_days:
        return access_end
    return access_end + timedelta(days=rules.access_grace_days)


def retention_dates(
    rules: PolicyRules, at: datetime, ends_at: datetime
) -> tuple[datetime | None, tuple[RetainedPart, ...]]:
    """When the data is deleted (None: not stated), and the parts kept on other horizons.
    Counted from the request, a date is never before the end: nothing is deleted while
    the subscription runs (`accounts.retention.kept_after_end_until`, which the purge
    applies, says the same)."""
    retention = rules.retention
    from_request = retention.counted_from is _REQUEST

    def after(days: int | None) -> datetime | None:
        if days is None:
            return None
        if from_request:
            return max(at + timedelta(days=days), ends_at)
        return ends_at + timedelta(days=days)

    until = after(retention.after_end_days)
    parts = tuple(
        RetainedPart(part.what, after(part.days), part.clause.ref) for part in retention.partial
    )
    return until, parts


def credit_expiry(
    credit: CreditRule | None, destination: Destination, at: datetime, ends_at: datetime
) -> datetime | None:
    """When credit given by this cancellation expires (None: it does not, or none given)."""
    if credit is None or destination is not _CREDIT:
        return None
    candidates = []
    if credit.expires_after_days is not None:
        candidates.append(at + timedelta(days=credit.expires_after_days))
    if credit.expires_with_paid_plan:
        candidates.append(ends_at)
    return min(candidates, default=None)
