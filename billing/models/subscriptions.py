"""Subscriptions and their add-ons.

Status is an explicit state machine (`billing.states.SUBSCRIPTION_TRANSITIONS`); only
services in `billing/services/` change it.
"""

from django.db import models

from accounts.models import Workspace

from .fields import MoneyField, currency_field
from .plans import Plan
from .policies import RefundPolicy


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        SUSPENDED = "suspended", "Suspended"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class PurchaseChannel(models.TextChoices):
        WEB = "web", "Web (self-serve)"
        SALES = "sales", "Sales"
        RESELLER = "reseller", "Reseller"
        APP_STORE = "app_store", "App store"
        RETAIL = "retail", "Retail code"

    class PaymentMethod(models.TextChoices):
        CARD = "card", "Card"
        INVOICE = "invoice", "Invoice"
        DIRECT_DEBIT = "direct_debit", "Direct debit"

    # Paused is live: the workspace keeps its plan and data (never purged for inactivity
    # while paused); only billing stops (see billing/services/pauses.py).
    LIVE_STATUSES = (
        Status.TRIALING,
        Status.ACTIVE,
        Status.PAST_DUE,
        Status.SUSPENDED,
        Status.PAUSED,
    )

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    policy = models.ForeignKey(
        RefundPolicy,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        help_text="The policy version it was bought or last renewed under.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    started_at = models.DateTimeField(help_text="Initial signup or purchase.")
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(db_index=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancel_effective_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the customer asked to cancel (or the end, for an end without a request).",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    discount_void = models.BooleanField(default=False)
    # A downgrade waits here until it takes effect at a period end.
    pending_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pending_plan_effective_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Dunning (see billing/services/dunning.py).
    past_due_since = models.DateTimeField(null=True, blank=True)
    dunning_attempts = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    orders_used_this_period = models.PositiveIntegerField(default=0)
    # What policy conditions read (billing.policy.rules.Condition), carried by the snapshot.
    purchase_channel = models.CharField(
        max_length=16, choices=PurchaseChannel.choices, default=PurchaseChannel.WEB
    )
    payment_method = models.CharField(
        max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    commitment_end = models.DateTimeField(
        null=True,
        blank=True,
        help_text="End of a commitment term longer than the billing interval (annual paid "
        "monthly, multi-year); empty: none.",
    )
    # A retention discount lasts this many more renewals (0: `discount_percent` is not a
    # retention discount and never runs out).
    discount_periods_left = models.PositiveSmallIntegerField(default=0)
    # Pause (billing/services/pauses.py): billing stops from `paused_at` until `resumes_at`.
    paused_at = models.DateTimeField(null=True, blank=True)
    resumes_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(
                    status__in=["trialing", "active", "past_due", "suspended", "paused"]
                ),
                name="one_live_subscription_per_workspace",
            ),
            models.CheckConstraint(
                condition=models.Q(current_period_end__gt=models.F("current_period_start")),
                name="period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="discount_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(commitment_end__isnull=True)
                | models.Q(commitment_end__gt=models.F("started_at")),
                name="commitment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["started_at", "id"], name="subscription_started_order"),
            # The changelist's status filter, in the list's order: suspended or past-due
            # subscriptions are old ones, which a walk of the start order reaches last.
            models.Index(fields=["status", "started_at", "id"], name="subscription_status_order"),
            # The dunning filters (past due or suspended), in the list's order.
            models.Index(
                fields=["started_at", "id"],
                condition=models.Q(status__in=["past_due", "suspended"]),
                name="subscription_dunning_order",
            ),
            # The changelist's "cancel at period end: Yes" filter, in the list's order.
            models.Index(
                fields=["started_at", "id"],
                condition=models.Q(cancel_at_period_end=True),
                name="subscription_cancelling_order",
            ),
            models.Index(fields=["grace_until"], name="subscription_grace_until"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace.slug}: {self.plan.name} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class AddOn(models.Model):
    """Extra seats/storage/modules (recurring) or a one-time order pack."""

    class Kind(models.TextChoices):
        EXTRA_SEATS = "extra_seats", "Extra seats"
        EXTRA_STORAGE = "extra_storage", "Extra storage (MB)"
        EXTRA_MODULES = "extra_modules", "Extra modules"
        ORDER_PACK = "order_pack", "One-time order pack"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="addons")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.PositiveIntegerField()
    price = MoneyField()
    currency = currency_field()
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when removed (period end) or for order packs (renewal).",
    )

    class Meta:
        indexes = [models.Index(fields=["subscription", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} x {self.quantity}"

    @property
    def is_one_time(self) -> bool:
        return self.kind == self.Kind.ORDER_PACK
