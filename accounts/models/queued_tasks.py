"""Tasks the broker could not take when their change committed, kept to queue again.

A service schedules its follow-up work (an e-mail, a refund's execution, a replay) after
its transaction commits. When the broker is unreachable at that moment the change stands,
and the task is written here instead (`backoffice.task_queue.enqueue`): the person who made
the change gets their answer, and `accounts.services.queued_tasks.unqueued_tasks_requeue`
(every five minutes) hands the task to the broker once it answers again.
"""

from django.db import models


class UnqueuedTask(models.Model):
    task = models.CharField(max_length=200, help_text="The Celery task's registered name.")
    args = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, help_text="What the broker answered.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        # The list's order, whole (the requeue and the admin) and by task (its filter).
        indexes = [
            models.Index(fields=["created_at", "id"], name="unqueued_task_order"),
            models.Index(fields=["task", "created_at", "id"], name="unqueued_task_by_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task} ({self.created_at:%Y-%m-%d %H:%M})"
