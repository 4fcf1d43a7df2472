"""Which workspaces the purge may warn or erase, and the never-delete rules.

Every selection is a condition on `Workspace` rows served by the `deletion_due_at` index;
the never-delete rules (`blockers`) are EXISTS conditions, so a rule added here holds for
the warnings, the erasure, deletion on request and the dry run alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import DeletionWarning, Workspace
from billing.models import Dispute, Plan, Refund, Subscription

UNRESOLVED_REFUND_STATUSES = (
    Refund.Status.PROPOSED,
    Refund.Status.APPROVED,
    Refund.Status.PROCESSING,
    Refund.Status.FAILED,
)


def blockers() -> dict[str, Q]:
    """Never-delete rules, each as a condition on Workspace."""
    return {
        "legal hold": Q(legal_hold=True),
        "open dispute": Q(
            Exists(
                Dispute.objects.filter(
                    payment__workspace=OuterRef("pk"), status=Dispute.Status.OPEN
                )
            )
        ),
        "live paid subscription": Q(
            Exists(
                Subscription.objects.filter(
                    workspace=OuterRef("pk"), status__in=Subscription.LIVE_STATUSES
                ).exclude(plan__interval=Plan.Interval.NONE)
            )
        ),
        "unresolved refund": Q(
            Exists(
                Refund.objects.filter(
                    workspace=OuterRef("pk"), status__in=UNRESOLVED_REFUND_STATUSES
                )
            )
        ),
    }


def notice() -> timedelta:
    """How long before a deletion its warning must have been delivered."""
    return timedelta(days=settings.PURGE_WARNING_DAYS)


def _unblocked(queryset: QuerySet) -> QuerySet:
    for condition in blockers().values():
        queryset = queryset.exclude(condition)
    return queryset


def due_for_warning(*, now: datetime) -> QuerySet:
    """Due within the notice period (or overdue), not warned, no warning waiting to go."""
    pending = DeletionWarning.objects.filter(workspace=OuterRef("pk"), sent_at__isnull=True)
    return _unblocked(
        Workspace.objects.exclude(status=Workspace.Status.DELETED)
        .filter(deletion_due_at__lte=now + notice(), deletion_warning_sent_at__isnull=True)
        .exclude(Exists(pending))
    )


def due_for_deletion(*, now: datetime) -> QuerySet:
    """Due, and its warning delivered at least the notice period ago."""
    return _unblocked(
        Workspace.objects.exclude(status=Workspace.Status.DELETED).filter(
            deletion_due_at__lte=now, deletion_warning_sent_at__lte=now - notice()
        )
    )


def purge_blockers(workspace: Workspace) -> list[str]:
    """The never-delete rules that hold for this workspace (one query)."""
    conditions = blockers()
    flags = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(**{f"b{i}": c for i, c in enumerate(conditions.values())})
        .values(*[f"b{i}" for i in range(len(conditions))])
        .get()
    )
    return [name for i, name in enumerate(conditions) if flags[f"b{i}"]]


def blocked_counts(*, now: datetime) -> dict[str, int]:
    """How many due workspaces each never-delete rule is holding back."""
    due = Workspace.objects.exclude(status=Workspace.Status.DELETED).filter(
        deletion_due_at__lte=now
    )
    return {name: due.filter(condition).count() for name, condition in blockers().items()}
