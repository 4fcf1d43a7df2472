"""Customer credit: an append-only ledger per workspace; the balance is the sum."""

from django.db import models

from accounts.models import Workspace

from .fields import MoneyField, currency_field


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        REFUND = "refund", "Credit from a refund"
        APPLIED = "applied", "Applied to an invoice"
        ADJUSTMENT = "adjustment", "Manual adjustment"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.PROTECT, related_name="credit_entries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = MoneyField(help_text="Positive adds credit, negative spends it.")
    currency = currency_field()
    refund = models.OneToOneField(
        "Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entry"
    )
    payment = models.ForeignKey(
        "Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        indexes = [
            models.Index(fields=["workspace", "currency"]),
            models.Index(fields=["created_at", "id"], name="credit_created_order"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.currency} ({self.get_kind_display()})"
