"""Cancellation requests: the customer's form, the agents' queue.

At most one open request per subscription (a partial unique constraint), so a double
submit can only ever return the open one.
"""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.fields.json import KT

from accounts.models import Workspace

from .fields import MoneyField, currency_field
from .subscriptions import Subscription


class CancellationRequest(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved (ends at the effective date)"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        COMPLETED = "completed", "Completed"

    OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW)

    class Reason(models.TextChoices):
        TOO_EXPENSIVE = "too_expensive", "Too expensive"
        MISSING_FEATURES = "missing_features", "Missing features"
        SWITCHED = "switched", "Switched to another product"
        NOT_USING = "not_using", "Not using it"
        TEMPORARY_PAUSE = "temporary_pause", "Temporary pause"
        OTHER = "other", "Other"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="cancellation_requests"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="cancellation_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, db_index=True)
    reason_text = models.TextField(blank=True, max_length=2000)
    quote = models.JSONField(help_text="The quote shown to the customer when they confirmed.")
    snapshot = models.JSONField(
        null=True, blank=True, help_text="The subscription snapshot the quote was computed from."
    )
    quoted_refund = MoneyField(default=0)
    currency = currency_field()
    effective_at = models.DateTimeField(help_text="When the subscription ends.")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cancellations",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, help_text="Shown to the customer.")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="cancellation_queue_order"),
            # The queue's policy filter, in the queue's order, the status read from the
            # index to count the open ones (admin/cancellation_filters).
            models.Index(
                KT("quote__policy"),
                F("created_at"),
                F("id"),
                F("status"),
                name="cancellation_quoted_policy",
            ),
        ]
        permissions = [("process_cancellation", "Can approve or reject cancellation requests")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(status__in=["submitted", "in_review"]),
                name="one_open_cancellation_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"Cancellation #{self.pk} of {self.workspace.slug} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
