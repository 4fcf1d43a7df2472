"""Internal memberships: what a customer organisation sells to its own members.

Orgix clauses 15-16: these payments go to the customer organisation through its own
provider. We only record status and transaction metadata; they are never ours to refund.
"""

from django.db import models

from .workspaces import Workspace


class InternalMembership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class Provider(models.TextChoices):
        STRIPE = "stripe", "Stripe (customer's account)"
        HIVEPAY = "hivepay", "HivePay"
        OTHER = "other", "Other"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="internal_memberships"
    )
    member_name = models.CharField(max_length=200)
    member_email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_reference = models.CharField(max_length=120, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["created_at", "id"], name="internal_membership_order"),
            # The changelist's status and provider filters, in the list's order.
            models.Index(fields=["status", "created_at", "id"], name="internal_membership_status"),
            models.Index(
                fields=["provider", "created_at", "id"], name="internal_membership_provider"
            ),
            models.Index(fields=["currency"], name="internal_membership_currency"),
        ]

    def __str__(self) -> str:
        return f"{self.member_name} — {self.price} {self.currency} ({self.get_status_display()})"
