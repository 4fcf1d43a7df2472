"""Retention services: keep `Workspace.deletion_due_at` current, legal holds, the data
export and deletion at the customer's request.

`deletion_due_at` is a denormalised copy of `accounts.retention.deletion_deadline` for the
policy of the workspace's latest subscription (computed in bulk by `due_dates`). Call
`workspaces_refresh_retention` after changing a workspace's `ended_at`, its subscription
(new policy version) or its activity; the purge recomputes everything daily
(`workspaces_recompute_retention`) and re-checks each workspace from the policy before
deleting it, so a stale copy can only delay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import DeletionTombstone, User, Workspace
from accounts.retention import DeletionReason
from accounts.selectors import workspace_export
from billing.errors import InvalidTransition

from .audit import audit_record
from .batching import id_list
from .due_dates import due_dates, fact_rows, write_due_dates
from .erasure import workspaces_erase
from .purge_selection import purge_blockers


def workspaces_refresh_retention(*, workspace_ids: Iterable[int]) -> int:
    """Recompute `deletion_due_at` for these workspaces; returns how many changed."""
    rows = fact_rows(
        Workspace.objects.filter(pk__in=id_list(workspace_ids)).exclude(
            status=Workspace.Status.DELETED
        )
    )
    deadlines = due_dates(rows)
    changed = {}
    for row in rows:
        deadline = deadlines[row["pk"]]
        due = deadline.at if deadline else None
        if due != row["deletion_due_at"]:
            changed[row["pk"]] = due
    return write_due_dates(changed)


def workspaces_recompute_retention(*, batch_size: int = 1000) -> int:
    """Recompute every live workspace, keyset-paginated so memory stays flat."""
    changed, last_pk = 0, 0
    live = Workspace.objects.exclude(status=Workspace.Status.DELETED).order_by("pk")
    while True:
        ids = list(live.filter(pk__gt=last_pk).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return changed
        with transaction.atomic():
            changed += workspaces_refresh_retention(workspace_ids=ids)
        last_pk = ids[-1]


def _locked(workspace: Workspace) -> Workspace:
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if locked.status == Workspace.Status.DELETED:
        raise InvalidTransition("The workspace is already deleted.", field="status")
    return locked


def workspace_place_legal_hold(
    *, workspace: Workspace, reason: str, actor: User | None, now: datetime
) -> Workspace:
    """A legal hold stops every deletion (scheduled or on request) until lifted."""
    reason = reason.strip()
    if not reason:
        raise InvalidTransition("Give the reason for the legal hold.", field="reason")
    with transaction.atomic():
        locked = _locked(workspace)
        if locked.legal_hold:
            raise InvalidTransition("The workspace is already on legal hold.", field="legal_hold")
        locked.legal_hold, locked.legal_hold_reason = True, reason
        locked.save(update_fields=["legal_hold", "legal_hold_reason"])
        audit_record(
            actor=actor,
            action="workspace.legal_hold.place",
            target=locked,
            now=now,
            before={"legal_hold": False},
            after={"legal_hold": True},
            note=reason,
        )
    workspace.legal_hold, workspace.legal_hold_reason = True, reason
    return locked


def workspace_lift_legal_hold(
    *, workspace: Workspace, reason: str, actor: User | None, now: datetime
) -> Workspace:
    reason = reason.strip()
    if not reason:
        raise InvalidTransition("Give the reason for lifting the legal hold.", field="reason")
    with transaction.atomic():
        locked = _locked(workspace)
        if not locked.legal_hold:
            raise InvalidTransition("The workspace is not on legal hold.", field="legal_hold")
        previous = locked.legal_hold_reason
        locked.legal_hold, locked.legal_hold_reason = False, ""
        locked.save(update_fields=["legal_hold", "legal_hold_reason"])
        audit_record(
            actor=actor,
            action="workspace.legal_hold.lift",
            target=locked,
            now=now,
            before={"legal_hold": True, "legal_hold_reason": previous},
            after={"legal_hold": False},
            note=reason,
        )
    workspace.legal_hold, workspace.legal_hold_reason = False, ""
    return locked


def workspace_export_data(
    *, workspace: Workspace, actor: User | None, now: datetime
) -> dict[str, Any]:
    """The JSON export, audited (who took a copy of personal data, and when)."""
    if workspace.status == Workspace.Status.DELETED:
        raise InvalidTransition("A deleted workspace has no data left to export.", field="status")
    with transaction.atomic():
        data = workspace_export(workspace)
        audit_record(actor=actor, action="workspace.export", target=workspace, now=now)
    return {"exported_at": now.isoformat(), **data}


def workspace_delete_on_request(
    *, workspace: Workspace, actor: User | None, now: datetime, note: str = ""
) -> DeletionTombstone:
    """Delete now because the customer asked (connex: 'if you wish us to delete your account
    entirely'). The same never-delete rules as the scheduled purge apply."""
    with transaction.atomic():
        locked = _locked(workspace)
        blockers = purge_blockers(locked)
        if blockers:
            raise InvalidTransition(
                "Cannot delete: " + "; ".join(blockers) + ".", field="non_field_errors"
            )
        audit_record(
            actor=actor,
            action="workspace.delete_on_request",
            target=locked,
            now=now,
            before={"status": locked.status},
            after={"status": Workspace.Status.DELETED},
            note=note,
        )
        workspaces_erase(
            workspace_ids=[locked.pk], now=now, reasons={locked.pk: DeletionReason.CUSTOMER_REQUEST}
        )
    workspace.status = Workspace.Status.DELETED
    return DeletionTombstone.objects.get(workspace_id=locked.pk)
