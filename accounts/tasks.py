"""Celery shells around the purge (accounts.services.purge and its parts).

The daily task refreshes due dates and sends warnings itself, then fans the erasure out
as `purge_workspaces_batch` tasks so several workers share a large purge. Batches lock
their rows with SKIP LOCKED and re-check each workspace, so a redelivered or overlapping
task is harmless.
"""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts.services.batching import due_id_batches
from accounts.services.deletion_warnings import purge_send_warnings
from accounts.services.purge import purge_batch
from accounts.services.purge_selection import due_for_deletion
from accounts.services.queued_tasks import unqueued_tasks_requeue
from accounts.services.retention import workspaces_recompute_retention


@shared_task
def purge_inactive_workspaces_daily() -> int:
    """Returns the number of batches queued."""
    now = timezone.now()
    batch_size = settings.PURGE_BATCH_SIZE
    workspaces_recompute_retention(batch_size=batch_size)
    purge_send_warnings(now=now, batch_size=batch_size)
    queued = 0
    for ids in due_id_batches(due_for_deletion(now=now), batch_size=batch_size):
        purge_workspaces_batch.delay(ids, now.isoformat())
        queued += 1
    return queued


@shared_task
def purge_workspaces_batch(workspace_ids: list[int], now: str) -> int:
    """Returns how many of these workspaces were erased."""
    result = purge_batch(workspace_ids=workspace_ids, now=datetime.fromisoformat(now))
    return len(result.deleted)


@shared_task(name="accounts.requeue_unqueued_tasks")
def requeue_unqueued_tasks() -> int:
    """Queue again the tasks the broker refused when their change committed."""
    return unqueued_tasks_requeue()
