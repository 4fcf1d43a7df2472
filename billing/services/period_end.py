"""Changes that take effect at a moment that has come: due cancellations first, then
period-end downgrades and add-on endings (`plan_changes_apply_due`), so a subscription that
both cancels and downgrades at the same period end simply ends.

Idempotent: each change only selects live subscriptions whose moment has passed, and
applying one makes it no longer selectable, so a second run changes nothing more.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from billing.errors import DomainError
from billing.models import Subscription

from .cancellations import cancellation_apply
from .plan_changes import PlanChangeSummary, pending_downgrades_due, plan_changes_apply_due

logger = logging.getLogger(__name__)


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


def due_cancellations(*, now: datetime):
    return Subscription.objects.filter(
        status__in=Subscription.LIVE_STATUSES,
        cancel_effective_at__isnull=False,
        cancel_effective_at__lte=now,
    ).order_by("cancel_effective_at", "pk")


def period_end_changes_apply(
    *, now: datetime, batch_size: int = 500, dry_run: bool = False
) -> PeriodEndSummary:
    """Apply every cancellation due at `now`, `batch_size` subscriptions at a time, then
    the due downgrades and add-on endings.

    Each subscription is applied in its own transaction, so one failure (reported in the
    summary) does not hold back the others.
    """
    summary = PeriodEndSummary()
    last_seen = 0
    while True:
        batch = list(
            due_cancellations(now=now).filter(pk__gt=last_seen).order_by("pk")[:batch_size]
        )
        if not batch:
            break
        last_seen = batch[-1].pk
        summary.cancellations_due += len(batch)
        if dry_run:
            continue
        for subscription in batch:
            try:
                cancellation_apply(subscription=subscription, now=now)
            except DomainError as exc:
                summary.failed.append((subscription.pk, exc.message))
                logger.warning("subscription %s not ended: %s", subscription.pk, exc.message)
            else:
                summary.cancellations_applied += 1
    if dry_run:
        summary.downgrades_due = pending_downgrades_due(now).count()
    else:
        summary.plan_changes = plan_changes_apply_due(now=now, batch_size=batch_size)
    return summary
