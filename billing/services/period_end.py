"""Changes that take effect at a moment that has come: due cancellations
(`cancellation_endings`), period-end downgrades and add-on endings (`period_end_plans`).

Work is per batch of ids read with keyset pagination, one transaction per batch with a
constant number of queries; the hourly task fans the batches out to Celery workers
(`billing.end_subscriptions_batch`, `billing.apply_downgrades_batch`,
`billing.check_addon_limits_batch`). The three kinds of batch may run in any order: a
subscription whose cancellation is due is never downgraded, it simply ends.

Idempotent: each change only selects live subscriptions whose moment has passed, and
applying one makes it no longer selectable, so a second run changes nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from billing.models import Subscription

from .cancellation_endings import cancellation_due, subscriptions_end_batch
from .period_end_plans import (
    PlanChangeSummary,
    addon_endings_due,
    pending_downgrades_due,
    plan_changes_apply_due,
)
from .subscription_locks import subscription_id_batches


@dataclass
class PeriodEndSummary:
    cancellations_due: int = 0
    cancellations_applied: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (subscription id, message)
    downgrades_due: int = 0
    plan_changes: PlanChangeSummary | None = None

    def as_line(self) -> str:
        line = (
            f"cancellations due: {self.cancellations_due}, applied: "
            f"{self.cancellations_applied}, failed: {len(self.failed)}"
        )
        if self.plan_changes is None:
            return f"{line}; downgrades due: {self.downgrades_due}"
        return f"{line}; {self.plan_changes.as_line()}"


def period_end_batches(*, now: datetime, batch_size: int) -> Iterator[tuple[str, list[int]]]:
    """(kind, ids) of every batch due: "end" (cancellations), "downgrade", "addon_limits"."""
    for kind, queryset in (
        ("end", Subscription.objects.filter(cancellation_due(now))),
        ("downgrade", pending_downgrades_due(now)),
        ("addon_limits", addon_endings_due(now)),
    ):
        for ids in subscription_id_batches(queryset, batch_size=batch_size):
            yield kind, ids


def period_end_changes_apply(
    *, now: datetime, batch_size: int = 500, dry_run: bool = False
) -> PeriodEndSummary:
    """Apply every cancellation due at `now`, `batch_size` subscriptions at a time, then
    the due downgrades and add-on endings, in this process (the command's path).

    A subscription that cannot end is reported in the summary and does not hold back the
    others of its batch."""
    summary = PeriodEndSummary()
    due = Subscription.objects.filter(cancellation_due(now))
    for ids in subscription_id_batches(due, batch_size=batch_size):
        summary.cancellations_due += len(ids)
        if dry_run:
            continue
        ended = subscriptions_end_batch(subscription_ids=ids, now=now)
        summary.cancellations_applied += ended.applied
        summary.failed.extend(ended.failed)
    if dry_run:
        summary.downgrades_due = pending_downgrades_due(now).count()
    else:
        summary.plan_changes = plan_changes_apply_due(now=now, batch_size=batch_size)
    return summary
