"""Scheduling a Celery task by its name.

Services sit below the task modules (a task is a thin shell that imports its service), so
a service that schedules work must not import `<app>.tasks`: that would close an import
circle. It names the task instead; the task modules are loaded on first use through
Celery's autodiscovery, and `.delay` keeps the eager mode of tests and development.

The callers schedule from `transaction.on_commit`: the change has committed. A broker that
does not answer then must not turn it into an error page, nor lose the task: the task is
kept in `accounts.UnqueuedTask` and queued again by a periodic job.
"""

import logging
import threading

from django.utils import timezone
from kombu.exceptions import OperationalError

from backoffice.celery import app

logger = logging.getLogger(__name__)

# gunicorn's threaded workers enqueue from several threads: without the lock, a thread that
# finds the task missing while another is still importing the task modules saw
# `NotRegistered` (a 500 on the first POSTs after a worker started).
_import_lock = threading.Lock()


def enqueue(task_name: str, *args) -> bool:
    """Queue `task_name` with `args` (call it from `transaction.on_commit`). False when the
    broker refused it: the task is then kept to be queued again."""
    try:
        publish(task_name, *args)
    except OperationalError as error:
        from accounts.models import UnqueuedTask  # the project's apps sit above this module

        logger.error("%s not queued, kept to queue again: %s", task_name, error)
        UnqueuedTask.objects.create(
            task=task_name, args=list(args), error=str(error)[:500], created_at=timezone.now()
        )
        return False
    return True


def publish(task_name: str, *args) -> None:
    """Hand the task to the broker (or run it, eagerly); raises kombu's `OperationalError`
    when the broker does not answer."""
    if task_name not in app.tasks:
        with _import_lock:
            if task_name not in app.tasks:
                app.loader.import_default_modules()
    app.tasks[task_name].delay(*args)
