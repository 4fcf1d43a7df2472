"""Deletion warnings through an outbox: a workspace counts as warned only once its email
was handed to the mail server.

1. `deletion_warnings_queue` locks workspaces due for a warning and writes one pending
   `DeletionWarning` each, in one transaction. Nothing is marked warned yet.
2. `deletion_warnings_deliver` takes pending rows (SKIP LOCKED, so concurrent runs never
   send the same one), sends each email, and in the same transaction marks the rows it
   sent and sets their workspaces' `deletion_warning_sent_at`.

A crash (a killed worker, a dropped connection) anywhere rolls back the marks of the
chunk in flight: every workspace marked warned had its email accepted, and the next run
sends the rest. The price is at-least-once delivery: an email accepted just before a
crash is sent again by the next run. A refused email stays pending for the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import DeletionWarning, Workspace
from accounts.retention import retained_parts
from accounts.selectors import rules_for_rows

from .batching import due_id_batches, id_batches, id_list, lock_skipping_taken
from .due_dates import fact_rows, row_facts
from .purge_selection import due_for_warning, notice

logger = logging.getLogger(__name__)


def deletion_warnings_queue(*, workspace_ids: list[int], now: datetime) -> int:
    """Write a pending warning for those of these workspaces still due for one."""
    with transaction.atomic():
        rows = list(
            lock_skipping_taken(
                due_for_warning(now=now).filter(pk__in=id_list(workspace_ids))
            ).values_list("pk", "deletion_due_at")
        )
        DeletionWarning.objects.bulk_create(
            DeletionWarning(workspace_id=pk, deletes_at=max(due, now + notice()), queued_at=now)
            for pk, due in rows
        )
    return len(rows)


def deletion_warnings_deliver(*, now: datetime, batch_size: int) -> int:
    """Send every pending warning, `batch_size` per transaction; returns how many the mail
    server accepted. Stops at the first refusal: the rest wait for the next run."""
    delivered = 0
    pending = DeletionWarning.objects.filter(sent_at__isnull=True)
    for ids in id_batches(pending, batch_size=batch_size):
        sent, refused = _deliver_chunk(ids, now=now)
        delivered += sent
        if refused:
            break
    return delivered


def _deliver_chunk(outbox_ids: list[int], *, now: datetime) -> tuple[int, bool]:
    with transaction.atomic():
        rows = list(
            lock_skipping_taken(
                DeletionWarning.objects.filter(pk__in=id_list(outbox_ids), sent_at__isnull=True)
            ).values(
                "pk",
                "deletes_at",
                "workspace_id",
                "workspace__name",
                "workspace__slug",
                "workspace__billing_email",
                "workspace__owner__email",
                "workspace__status",
                "workspace__deletion_warning_sent_at",
                "workspace__deletion_due_at",
            )
        )
        stale = [row["pk"] for row in rows if not _still_to_warn(row, now=now)]
        if stale:
            # Deleted, warned, or active again (the date moved) since it was queued.
            DeletionWarning.objects.filter(pk__in=id_list(stale)).delete()
        sent, refused = [], False
        kept = _kept_longer([row["workspace_id"] for row in rows if row["pk"] not in stale])
        connection = get_connection(fail_silently=False)
        with connection:
            for row in rows:
                if row["pk"] in stale:
                    continue
                try:
                    connection.send_messages([_message(row, kept.get(row["workspace_id"], []))])
                except Exception:
                    logger.exception("purge: deletion warning %s not delivered", row["pk"])
                    refused = True
                    break
                sent.append(row)
        if sent:
            DeletionWarning.objects.filter(pk__in=id_list(row["pk"] for row in sent)).update(
                sent_at=now
            )
            Workspace.objects.filter(pk__in=id_list(row["workspace_id"] for row in sent)).update(
                deletion_warning_sent_at=now
            )
    return len(sent), refused


def _still_to_warn(row: dict, *, now: datetime) -> bool:
    due = row["workspace__deletion_due_at"]
    return (
        row["workspace__status"] != Workspace.Status.DELETED
        and row["workspace__deletion_warning_sent_at"] is None
        and due is not None
        and due <= now + notice()
    )


def _kept_longer(workspace_ids: list[int]) -> dict[int, list[tuple[str, datetime | None]]]:
    """Per workspace, the parts of its data its rule keeps beyond the deletion (what, until
    when; None: indefinitely): the warning tells the customer what remains. Two queries per
    chunk (three with retention variants)."""
    if not workspace_ids:
        return {}
    rows = fact_rows(Workspace.objects.filter(pk__in=id_list(workspace_ids)))
    rules = rules_for_rows(rows)
    return {
        row["pk"]: [
            (part.what, until)
            for part, until in retained_parts(rules[row["pk"]][0], row_facts(row))
        ]
        for row in rows
        if rules[row["pk"]][0].partial
    }


def _message(row: dict, kept_longer: list[tuple[str, datetime | None]]) -> EmailMessage:
    export_url = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:workspace-export", args=[row["workspace__slug"]]
    )
    name = row["workspace__name"]
    body = render_to_string(
        "accounts/email/deletion_warning.txt",
        {
            "name": name,
            "deletes_at": row["deletes_at"],
            "export_url": export_url,
            "kept_longer": kept_longer,
        },
    )
    recipients = sorted({row["workspace__owner__email"], row["workspace__billing_email"]} - {""})
    subject = f"Your workspace {name} will be deleted on {row['deletes_at']:%Y-%m-%d}"
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def purge_send_warnings(*, now: datetime, batch_size: int, limit: int | None = None) -> int:
    """Queue a warning for each workspace due for one, then deliver every pending warning
    (including those a crashed run left behind); returns how many were delivered."""
    for ids in due_id_batches(due_for_warning(now=now), batch_size=batch_size, limit=limit):
        deletion_warnings_queue(workspace_ids=ids, now=now)
    return deletion_warnings_deliver(now=now, batch_size=batch_size)
