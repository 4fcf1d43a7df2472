"""Workspace state changes. Nothing else writes `Workspace.status`."""

from datetime import datetime

from django.db import transaction

from accounts.models import User, Workspace

from .audit import audit_record


def workspaces_touch_activity(*, user_id: int, now: datetime) -> int:
    """Mark every live workspace the user belongs to as active now (one UPDATE)."""
    return (
        Workspace.objects.filter(members__user_id=user_id)
        .exclude(status=Workspace.Status.DELETED)
        .update(last_activity_at=now)
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
