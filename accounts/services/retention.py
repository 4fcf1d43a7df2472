"""Retention services: keep `Workspace.deletion_due_at` current, legal holds, the data
export and deletion at the customer's request.

`deletion_due_at` is a denormalised copy of `accounts.retention.deletion_deadline` for the
policy of the workspace's latest subscription. Call `workspaces_refresh_retention` after
changing a workspace's `ended_at`, its subscription (new policy version) or its activity;
the purge recomputes everything daily (`workspaces_recompute_retention`) and re-checks
each workspace from the policy before deleting it, so a stale copy can only delay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.expressions import RawSQL

from accounts.models import DeletionTombstone, User, Workspace
from accounts.retention import DeletionReason, RetentionFacts, deletion_deadline
from accounts.selectors import latest_policy_id, retention_rules, workspace_export
from billing.errors import InvalidTransition

from .audit import audit_record

FACT_FIELDS = ("pk", "created_at", "last_activity_at", "ended_at", "deletion_due_at")


def id_list(ids: Iterable[int]) -> list[int] | RawSQL:
    """A batch of ids for `__in`: on PostgreSQL one array parameter
    (`IN (SELECT unnest(%s))`), so a batch of thousands neither costs thousands of
    placeholders to bind nor changes the statement's shape; a plain list elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [pg_int_array(ids)])
    return ids


def pg_int_array(ids: Iterable[int]) -> str:
    """An integer array literal, built once: cheaper than letting the driver dump a list
    element by element for every statement that uses the batch."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


def due_dates(rows: list[dict[str, Any]], *, last_activity_at: datetime | None = None) -> dict:
    """Deadline per workspace id for rows of `FACT_FIELDS` + `policy_id` (one policy query).

    `last_activity_at`, when given, replaces the rows' own (the activity being recorded).
    """
    rules = retention_rules(row["policy_id"] for row in rows)
    deadlines = {}
    for row in rows:
        facts = RetentionFacts(
            created_at=row["created_at"],
            last_activity_at=last_activity_at or row["last_activity_at"],
            ended_at=row["ended_at"],
        )
        deadlines[row["pk"]] = deletion_deadline(rules[row["policy_id"]][0], facts)
    return deadlines


def write_due_dates(due_by_id: dict[int, datetime | None], **also: Any) -> int:
    """One UPDATE giving each workspace its own `deletion_due_at` (plus `also` for all).

    On PostgreSQL a bulk change joins two array parameters (`UPDATE ... FROM unnest`): a
    CASE with a branch per row would be evaluated branch by branch for every row."""
    if not due_by_id:
        return 0
    if connection.vendor == "postgresql" and not also:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Workspace._meta.db_table} AS w SET deletion_due_at = v.due "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE w.id = v.id",
                [pg_int_array(due_by_id), list(due_by_id.values())],
            )
            return cursor.rowcount
    # The column as default (never taken: every row has a branch) types the CASE for
    # PostgreSQL, which reads a CASE whose branches are all NULL as text.
    due = Case(
        *[When(pk=pk, then=Value(at)) for pk, at in due_by_id.items()],
        default=F("deletion_due_at"),
        output_field=DateTimeField(),
    )
    return Workspace.objects.filter(pk__in=id_list(due_by_id)).update(deletion_due_at=due, **also)


def fact_rows(queryset) -> list[dict[str, Any]]:
    return list(queryset.annotate(policy_id=latest_policy_id()).values(*FACT_FIELDS, "policy_id"))


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


def workspace_refresh_retention(*, workspace: Workspace) -> bool:
    """One workspace (after its subscription ended or changed policy); True if it moved."""
    changed = workspaces_refresh_retention(workspace_ids=[workspace.pk])
    workspace.deletion_due_at = Workspace.objects.values_list("deletion_due_at", flat=True).get(
        pk=workspace.pk
    )
    return bool(changed)


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
    from .purge import purge_blockers, workspaces_erase

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
