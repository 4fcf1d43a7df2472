from django.db import models

from accounts.models import Workspace

from .fields import MoneyField, currency_field
from .subscriptions import Subscription


class Payment(models.Model):
    """Money a workspace paid us (or tried to). `amount` includes `tax`."""

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        IMPLEMENTATION_FEE = "implementation_fee", "Implementation fee"
        ACTIVATION_FEE = "activation_fee", "Activation fee"
        ADD_ON = "add_on", "Add-on"
        ONE_TIME_PURCHASE = "one_time_purchase", "One-time purchase"
        UPGRADE_PRORATION = "upgrade_proration", "Upgrade proration"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        LOST = "lost", "Lost to a chargeback"

    class Provider(models.TextChoices):
        LOCAL = "local", "Local ledger"
        STRIPE = "stripe", "Stripe"
        CREDIT = "credit", "Customer credit"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="payments")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUCCEEDED)
    amount = MoneyField()
    tax = MoneyField(default=0)
    currency = currency_field()
    credit_applied = MoneyField(
        default=0, help_text="Part of the amount paid from customer credit."
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(db_index=True)
    provider = models.CharField(max_length=12, choices=Provider.choices, default=Provider.LOCAL)
    provider_reference = models.CharField(max_length=120, blank=True, db_index=True)
    failure_message = models.CharField(max_length=300, blank=True)
    amount_refunded = MoneyField(default=0)

    class Meta:
        ordering = ["-paid_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_not_negative"),
            models.CheckConstraint(
                condition=models.Q(tax__gte=0, tax__lte=models.F("amount")),
                name="tax_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__gte=0, amount_refunded__lte=models.F("amount")),
                name="refunded_within_amount",
            ),
        ]
        # The changelist's order and each of its filters, newest first within the filter.
        indexes = [
            models.Index(fields=["workspace", "paid_at"]),
            models.Index(fields=["paid_at", "id"], name="payment_paid_order"),
            models.Index(fields=["status", "paid_at"], name="payment_status_paid"),
            models.Index(fields=["kind", "paid_at"], name="payment_kind_paid"),
            models.Index(fields=["provider", "paid_at"], name="payment_provider_paid"),
            models.Index(fields=["currency", "paid_at"], name="payment_currency_paid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} on {self.paid_at:%Y-%m-%d}"

    @property
    def refundable_remainder(self):
        return self.amount - self.amount_refunded


class OnboardingService(models.Model):
    """An implementation service rendered (connex deduction schedule)."""

    class Kind(models.TextChoices):
        PRELIMINARY_CALL = "preliminary_call", "30-minute preliminary call"
        ONBOARDING = "onboarding", "60-minute onboarding session"
        FOLLOW_UP_CALL = "follow_up_call", "30-minute follow-up call"
        CUSTOMIZATION = "customization", "Paid customization"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="services"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    price = MoneyField(default=0, help_text="Part of the implementation fee this service covers.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["completed_at"]

    def __str__(self) -> str:
        when = f"done {self.completed_at:%Y-%m-%d}" if self.completed_at else "not yet rendered"
        return f"{self.get_kind_display()} ({when})"
