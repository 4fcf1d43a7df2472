"""Policy replays: a candidate version replayed on every past case of a period against the
version in force. One row per run; the Celery task updates `done` after each batch so the
page shows progress, and stores the summary (totals, difference, most-changed cases)."""

from django.conf import settings
from django.db import models


class PolicyReplay(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    candidate = models.ForeignKey("RefundPolicy", on_delete=models.CASCADE, related_name="+")
    baseline = models.ForeignKey(
        "RefundPolicy",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The version in force when the replay was asked for.",
    )
    since = models.DateTimeField()
    until = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Cases to replay.")
    done = models.PositiveIntegerField(default=0, help_text="Cases replayed so far.")
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Replay of {self.candidate} since {self.since:%Y-%m-%d}"
