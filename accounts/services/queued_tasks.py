"""Tasks kept while the broker was unreachable (`accounts.UnqueuedTask`), queued again."""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

from accounts.models import UnqueuedTask
from backoffice.task_queue import publish

from .batching import lock_skipping_taken

logger = logging.getLogger(__name__)


def unqueued_tasks_requeue(*, batch_size: int = 500) -> int:
    """Hand the kept tasks to the broker, oldest first, a batch at a time, removing each
    once the broker took it; stops at the first it refuses (the rest stay for the next
    run). Returns how many were queued. Rows are claimed with SKIP LOCKED, so two runs
    never queue one twice; a crash between the broker's taking a task and the commit
    queues that task again on the next run (the tasks are idempotent or harmless twice)."""
    queued = 0
    while True:
        with transaction.atomic():
            rows = list(lock_skipping_taken(UnqueuedTask.objects.all())[:batch_size])
            done = []
            try:
                for row in rows:
                    publish(row.task, *row.args)
                    done.append(row.pk)
            except OperationalError as error:
                logger.warning("broker still unreachable, %d tasks kept: %s", len(rows), error)
            UnqueuedTask.objects.filter(pk__in=done).delete()
        queued += len(done)
        if len(done) < batch_size:
            break
    if queued:
        logger.info("queued again %d tasks the broker had refused", queued)
    return queued
