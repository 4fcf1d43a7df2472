"""Refund & cancellation policies as versioned data.

A version is a draft until a Billing lead publishes it; a published version is frozen
(orgix clause 19: the policy changes by publishing a new version). No subscription ever
points to a draft. `rules` holds `billing.policy.rules.PolicyRules.to_dict()`.

Which subscriptions move to a published version is explicit (`moves`): new subscriptions
only, or also renewals from `renewals_from`. A subscription keeps the version of the
period it paid for; it moves only when a new period starts.
"""

from django.conf import settings
from django.db import models

from backoffice.bounds import DATE_VALIDATORS, EARLIEST_DATE, LATEST_DATE


class RefundPolicy(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Moves(models.TextChoices):
        NEW_ONLY = "new_only", "New subscriptions only"
        RENEWALS = "renewals", "New subscriptions, and renewals from a date"

    slug = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    effective_from = models.DateField(validators=DATE_VALIDATORS)
    rules = models.JSONField()
    source_text = models.CharField(
        max_length=120, blank=True, help_text="The policy text this version encodes."
    )
    changelog = models.TextField(blank=True)
    example = models.BooleanField(
        default=False,
        help_text="An example encoding of a public policy, not offered to customers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PUBLISHED, db_index=True
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version this one was drafted from.",
    )
    moves = models.CharField(
        max_length=10,
        choices=Moves.choices,
        default=Moves.RENEWALS,
        help_text="Which subscriptions move to this version once published.",
    )
    renewals_from = models.DateField(
        null=True, blank=True, help_text="Renewals from this day move to this version."
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slug", "-version"]
        verbose_name_plural = "refund policies"
        permissions = [("publish_refundpolicy", "Can publish a policy version (Billing lead)")]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="policy_version_unique"),
            models.CheckConstraint(
                condition=models.Q(
                    effective_from__gte=EARLIEST_DATE, effective_from__lte=LATEST_DATE
                ),
                name="policy_effective_from_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT
