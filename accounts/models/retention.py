"""Tombstones: proof that a workspace was erased, holding no personal data."""

from django.db import models


class DeletionTombstone(models.Model):
    class Rule(models.TextChoices):
        INACTIVITY = "inactivity", "Inactivity (GDPR)"
        RETENTION_ENDED = "retention_ended", "Retention after end of subscription elapsed"
        CUSTOMER_REQUEST = "customer_request", "Customer asked for deletion"

    workspace_id = models.BigIntegerField(unique=True)
    workspace_created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(db_index=True)
    rule = models.CharField(max_length=24, choices=Rule.choices)
    policy = models.CharField(max_length=80, blank=True, help_text="slug@version")
    counts = models.JSONField(default=dict, help_text="What was removed, by kind.")

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"Workspace #{self.workspace_id} erased {self.deleted_at:%Y-%m-%d} ({self.rule})"
