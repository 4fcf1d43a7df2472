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
    retained = models.JSONField(
        default=list,
        blank=True,
        help_text="Parts of the data the policy keeps longer (backups, credentials): "
        '[{"what", "until" (ISO date; null: indefinitely), "clause"}].',
    )

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"Workspace #{self.workspace_id} erased {self.deleted_at:%Y-%m-%d} ({self.rule})"


class DeletionWarning(models.Model):
    """The outbox of deletion warnings.

    A row is written in the transaction that decides to warn a workspace; the delivery
    marks it (and the workspace's `deletion_warning_sent_at`) only after the mail server
    accepted the email. The purge counts the notice period from that mark, so a warning
    lost in a crash delays a deletion and never lets one happen unannounced.
    """

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="deletion_warnings"
    )
    deletes_at = models.DateTimeField(help_text="The deletion date the email announces.")
    queued_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(sent_at__isnull=True),
                name="one_pending_deletion_warning",
            )
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(sent_at__isnull=True),
                name="deletion_warning_pending",
            )
        ]

    def __str__(self) -> str:
        state = f"sent {self.sent_at:%Y-%m-%d}" if self.sent_at else "pending"
        return f"Deletion warning for workspace #{self.workspace_id} ({state})"
