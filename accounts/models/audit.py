"""Audit records: who changed what, when, and the state before and after.

Written only by `accounts.services.audit.record`, inside the same transaction as the
change it describes. Never edited or deleted (the admin grants view only).
"""

from django.conf import settings
from django.db import models


class AuditRecord(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Empty for scheduled jobs and webhooks.",
    )
    actor_label = models.CharField(max_length=200, help_text="Who, as shown at the time.")
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    workspace_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_label}: {self.action} {self.target_type}#{self.target_id}"
