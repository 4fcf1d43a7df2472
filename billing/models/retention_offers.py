"""Retention offers (configured by staff) and the sessions in which customers saw them.

An offer applies to one policy version or one plan, for one cancellation reason. A
session records which offers a customer saw while cancelling and how it ended:
*accepted offer*, *cancelled*, or (no outcome) *left*. Whether the customer was *saved*
is read from the data 30 days later (billing/services/retention_report.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import Workspace

from .cancellations import CancellationRequest
from .plans import Plan
from .policies import RefundPolicy
from .subscriptions import Subscription

MAX_PAUSE_MONTHS = 12
MAX_DISCOUNT_PERIODS = 24


class RetentionOffer(models.Model):
    class Kind(models.TextChoices):
        DOWNGRADE = "downgrade", "Downgrade to a cheaper plan"
        PAUSE = "pause", "Pause the subscription"
        DISCOUNT = "discount", "Discount for a few periods"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(
        max_length=20,
        choices=CancellationRequest.Reason.choices,
        help_text="Shown to customers who give this reason for cancelling.",
    )
    policy = models.ForeignKey(
        RefundPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retention_offers",
        help_text="For subscriptions under this policy version (or choose a plan).",
    )
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retention_offers",
        help_text="For subscriptions on this plan (or choose a policy version).",
    )
    target_plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Downgrade: the cheaper plan offered.",
    )
    max_pause_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Pause: the customer picks 1 to this many months."
    )
    discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Discount: percent off."
    )
    discount_periods = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Discount: for this many billing periods."
    )
    headline = models.CharField(
        max_length=160, help_text="What the customer reads, e.g. 'Stay for less on Basic'."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["reason", "kind", "pk"]
        indexes = [
            models.Index(fields=["reason", "is_active", "policy"]),
            models.Index(fields=["reason", "is_active", "plan"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(policy__isnull=True, plan__isnull=False)
                | models.Q(policy__isnull=False, plan__isnull=True),
                name="retention_offer_for_a_policy_or_a_plan",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="downgrade") | models.Q(target_plan__isnull=False),
                name="retention_downgrade_has_a_plan",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="pause")
                | models.Q(max_pause_months__gte=1, max_pause_months__lte=MAX_PAUSE_MONTHS),
                name="retention_pause_months_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="discount")
                | models.Q(
                    discount_percent__gt=0,
                    discount_percent__lt=100,
                    discount_periods__gte=1,
                    discount_periods__lte=MAX_DISCOUNT_PERIODS,
                ),
                name="retention_discount_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.headline} ({self.get_kind_display().lower()}, {self.get_reason_display()})"

    # Which fields each kind uses; the others must stay empty.
    KIND_FIELDS = {
        "downgrade": ("target_plan",),
        "pause": ("max_pause_months",),
        "discount": ("discount_percent", "discount_periods"),
    }

    def clean(self) -> None:
        """Every mistake named on its field, before the database constraints are hit."""
        errors: dict[str, str] = {}
        if (self.policy_id is None) == (self.plan_id is None):
            errors["plan"] = "Choose either a policy version or a plan (exactly one)."
        for kind, names in self.KIND_FIELDS.items():
            for name in names:
                value = getattr(self, name if name != "target_plan" else "target_plan_id")
                if kind == self.kind and value in (None, ""):
                    errors[name] = f"Required for a {self.get_kind_display().lower()} offer."
                elif kind != self.kind and value not in (None, ""):
                    errors[name] = f"Only for a {kind} offer: leave it empty."
        months = self.max_pause_months
        if (
            self.kind == self.Kind.PAUSE
            and months is not None
            and not 1 <= months <= MAX_PAUSE_MONTHS
        ):
            errors["max_pause_months"] = f"From 1 to {MAX_PAUSE_MONTHS} months."
        if self.kind == self.Kind.DISCOUNT:
            if self.discount_percent is not None and not 0 < self.discount_percent < 100:
                errors["discount_percent"] = "More than 0 and less than 100 percent."
            if self.discount_periods is not None and not (
                1 <= self.discount_periods <= MAX_DISCOUNT_PERIODS
            ):
                errors["discount_periods"] = f"From 1 to {MAX_DISCOUNT_PERIODS} periods."
        if self.kind == self.Kind.DOWNGRADE and self.target_plan_id and "plan" not in errors:
            error = self._downgrade_error()
            if error:
                errors["target_plan"] = error
        if errors:
            raise ValidationError(errors)

    def _downgrade_error(self) -> str:
        target = self.target_plan
        family = self.plan.policy_slug if self.plan_id else self.policy.slug
        if target.is_free:
            return "Moving to the Free plan is a cancellation: offer a paid plan."
        if target.policy_slug != family:
            return f"Choose a plan sold under the {family} policy."
        if self.plan_id:
            plan = self.plan
            if (target.interval, target.currency) != (plan.interval, plan.currency):
                return f"Choose a {plan.get_interval_display().lower()} plan in {plan.currency}."
            if target.price >= plan.price:
                return f"Choose a plan cheaper than {plan.name} ({plan.price} {plan.currency})."
        return ""


class RetentionSession(models.Model):
    """One customer's pass through the cancellation page with offers shown."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted an offer"
        CANCELLED = "cancelled", "Cancelled"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="retention_sessions"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="retention_sessions"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=CancellationRequest.Reason.choices)
    offers = models.ManyToManyField(RetentionOffer, related_name="sessions")
    outcome = models.CharField(
        max_length=12, choices=Outcome.choices, blank=True, help_text="Empty: the customer left."
    )
    accepted_offer = models.ForeignKey(
        RetentionOffer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancellation = models.ForeignKey(
        CancellationRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    monthly_revenue = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="What the subscription brought per month when the session started.",
    )
    retained_monthly_revenue = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Per month after the outcome: the offer's price, the full price if they "
        "left, nothing if they cancelled.",
    )
    currency = models.CharField(max_length=3)
    started_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["workspace", "started_at"])]

    def __str__(self) -> str:
        outcome = self.get_outcome_display() if self.outcome else "Left"
        return f"{self.workspace.slug}, {self.get_reason_display()}: {outcome}"
