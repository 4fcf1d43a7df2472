"""Scheduling a Celery task by its name.

Services sit below the task modules (a task is a thin shell that imports its service), so
a service that schedules work must not import `<app>.tasks`: that would close an import
circle. It names the task instead; the task modules are loaded on first use through
Celery's autodiscovery, and `.delay` keeps the eager mode of tests and development.
"""

import threading

from backoffice.celery import app

# gunicorn's threaded workers enqueue from several threads: without the lock, a thread that
# finds the task missing while another is still importing the task modules saw
# `NotRegistered` (a 500 on the first POSTs after a worker started).
_import_lock = threading.Lock()


def enqueue(task_name: str, *args) -> None:
    """Queue `task_name` with `args` (call it from `transaction.on_commit`)."""
    if task_name not in app.tasks:
        with _import_lock:
            if task_name not in app.tasks:
                app.loader.import_default_modules()
    app.tasks[task_name].delay(*args)
