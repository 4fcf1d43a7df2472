"""Workspace state changes. Nothing else writes `Workspace.status`."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from accounts.models import User, Workspace

from .audit import audit_record
from .due_dates import due_dates, fact_rows, write_due_dates


def workspaces_touch_activity(*, workspace_ids: Iterable[int], now: datetime) -> int:
    """Mark these live workspaces as active now: one SELECT (dates and policy) and one UPDATE.

    The UPDATE also moves `deletion_due_at` (computed from the policy for the new activity)
    and clears a deletion warning: activity makes the warned deletion moot.
    """
    rows = fact_rows(
        Workspace.objects.filter(pk__in=list(workspace_ids)).exclude(
            status=Workspace.Status.DELETED
        )
    )
    deadlines = due_dates(rows, last_activity_at=now)
    return write_due_dates(
        {pk: deadline.at if deadline else None for pk, deadline in deadlines.items()},
        last_activity_at=now,
        deletion_warning_sent_at=None,
    )


def workspace_set_status(
    *,
    workspace: Workspace,
    status: str,
    actor: User | None,
    now: datetime,
    reason: str = "",
    note: str = "",
) -> Workspace:
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        before = {"status": locked.status, "suspension_reason": locked.suspension_reason}
        if before == {"status": status, "suspension_reason": reason}:
            return locked
        locked.status = status
        locked.suspension_reason = reason
        locked.save(update_fields=["status", "suspension_reason"])
        audit_record(
            actor=actor,
            action="workspace.status",
            target=locked,
            now=now,
            before=before,
            after={"status": status, "suspension_reason": reason},
            note=note,
        )
    workspace.status, workspace.suspension_reason = locked.status, locked.suspension_reason
    return locked
