"""Workspace state changes. Nothing else writes `Workspace.status`."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User, Workspace
from billing.errors import DomainError

from .audit import audit_entry, audit_record, audit_records_write, snapshot_fields


def workspace_set_status(
    *,
    workspace: Workspace,
    status: str,
    actor: User | None,
    now: datetime,
    reason: str = "",
    note: str = "",
) -> None:
    """One workspace's `workspaces_set_status` (one implementation for a request and for
    the batch jobs); `workspace` in memory is brought to the status it now has."""
    after = workspaces_set_status(
        changes=[StatusChange(workspace.pk, status, reason, note)], actor=actor, now=now
    )
    workspace.status, workspace.suspension_reason = after[workspace.pk]


@dataclass(frozen=True)
class StatusChange:
    """One workspace's new status for `workspaces_set_status`."""

    workspace_id: int
    status: str
    reason: str = ""
    note: str = ""


def workspaces_set_status(
    *, changes: Iterable[StatusChange], actor: User | None, now: datetime
) -> dict[int, tuple[str, str]]:
    """`workspace_set_status` for many workspaces at once (the batch jobs): one locking
    SELECT, one UPDATE per distinct (status, reason) and one INSERT of audit records,
    whatever the number of workspaces. Returns the (status, reason) of each after.
    A workspace already in its target status and reason is left alone, as one by one."""
    changes = list(changes)
    if not changes:
        return {}
    with transaction.atomic():
        rows = (
            Workspace.objects.select_for_update()
            .filter(pk__in=[c.workspace_id for c in changes])
            .order_by("pk")
            .values_list("pk", "status", "suspension_reason")
        )
        state = {pk: (status, reason) for pk, status, reason in rows}
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        records = []
        for change in changes:
            before = state[change.workspace_id]
            after = (change.status, change.reason)
            if before == after:
                continue
            state[change.workspace_id] = after
            groups[after].append(change.workspace_id)
            records.append(
                audit_entry(
                    actor=actor,
                    action="workspace.status",
                    target=Workspace(pk=change.workspace_id),
                    now=now,
                    before={"status": before[0], "suspension_reason": before[1]},
                    after={"status": after[0], "suspension_reason": after[1]},
                    note=change.note,
                )
            )
        for (status, reason), ids in groups.items():
            Workspace.objects.filter(pk__in=ids).update(status=status, suspension_reason=reason)
        audit_records_write(records)
    return state


# Fields an agent may correct by hand: they change no money, plan, status or ownership.
WORKSPACE_DETAIL_FIELDS = ("name", "billing_email")


def workspace_update_details(
    *, workspace: Workspace, changes: dict[str, Any], actor: User | None, now: datetime
) -> Workspace:
    """Correct a workspace's name or billing email; audited with the values before and after.
    Any other field is refused: those change only through their own services."""
    refused = sorted(set(changes) - set(WORKSPACE_DETAIL_FIELDS))
    if refused:
        raise DomainError(
            f"{', '.join(refused)} cannot be edited by hand; use the record's actions.",
            field=refused[0],
        )
    cleaned = {name: str(value).strip() for name, value in changes.items()}
    for name, value in cleaned.items():
        if not value:
            raise DomainError("This field cannot be empty.", field=name)
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        before = snapshot_fields(locked, *cleaned)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        try:
            locked.clean_fields(
                exclude=[f.name for f in Workspace._meta.fields if f.name not in cleaned]
            )
        except ValidationError as error:
            name, messages = next(iter(error.message_dict.items()))
            raise DomainError(" ".join(messages), field=name) from None
        if before == snapshot_fields(locked, *cleaned):
            return locked
        locked.save(update_fields=list(cleaned))
        audit_record(
            actor=actor,
            action="workspace.details",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, *cleaned),
        )
    for name in cleaned:
        setattr(workspace, name, getattr(locked, name))
    return locked
