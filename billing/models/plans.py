from django.db import models

from .fields import MoneyField, currency_field


class Plan(models.Model):
    """A price list entry. Plans belong to one policy family (its preset slug)."""

    class Interval(models.TextChoices):
        NONE = "none", "Free (no billing)"
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    policy_slug = models.SlugField(
        max_length=60, help_text="Policy family this plan is sold under."
    )
    tier_rank = models.PositiveSmallIntegerField(default=0, help_text="0 is the Free plan.")
    interval = models.CharField(max_length=8, choices=Interval.choices)
    price = MoneyField(default=0)
    currency = currency_field()
    seat_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    seat_price = MoneyField(
        default=0,
        help_text="One seat for one period, where the policy has seat rules (credits for "
        "inactive seats, seat-days in arrears); 0: not priced per seat.",
    )
    storage_limit_mb = models.PositiveBigIntegerField(null=True, blank=True)
    module_limit = models.PositiveIntegerField(null=True, blank=True)
    orders_per_month_limit = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["policy_slug", "tier_rank", "interval"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(interval="none") | models.Q(price=0),
                name="free_plan_costs_nothing",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="plan_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(seat_price__gte=0), name="plan_seat_price_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["policy_slug", "tier_rank"])]

    def __str__(self) -> str:
        if self.is_free:
            return f"{self.name} (free)"
        return f"{self.name} — {self.price} {self.currency}/{self.interval}"

    @property
    def is_free(self) -> bool:
        return self.interval == self.Interval.NONE
