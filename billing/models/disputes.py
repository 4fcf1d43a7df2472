from django.db import models

from backoffice.bounds import MOMENT_VALIDATORS

from .fields import MoneyField, currency_field
from .payments import Payment


class Dispute(models.Model):
    """A chargeback or payment dispute (orgix clause 11)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won (payment kept)"
        LOST = "lost", "Lost (payment reversed)"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    amount = MoneyField()
    currency = currency_field()
    reason = models.CharField(max_length=120, blank=True)
    provider_reference = models.CharField(max_length=120, blank=True)
    opened_at = models.DateTimeField(validators=MOMENT_VALIDATORS)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["opened_at", "id"], name="dispute_opened_order"),
            # The currency filter in list order: the count and the page read the matches only.
            models.Index(fields=["currency", "opened_at", "id"], name="dispute_currency_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="dispute_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute on {self.payment} ({self.get_status_display()})"
