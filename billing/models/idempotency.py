from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A POST's `Idempotency-Key`: the first response is stored and replayed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=200, help_text="Method and path.")
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "scope"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class WebhookEvent(models.Model):
    """A provider event we have processed: replays are recognised and ignored."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text="When the provider created the event.")
    received_at = models.DateTimeField()
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["received_at", "id"], name="webhook_received_order")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
