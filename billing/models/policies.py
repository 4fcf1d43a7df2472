"""Refund & cancellation policies as versioned data.

A version that any subscription uses is frozen: changing it means creating the next
version (orgix clause 19). `rules` holds `billing.policy.rules.PolicyRules.to_dict()`.
"""

from django.db import models


class RefundPolicy(models.Model):
    slug = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    effective_from = models.DateField()
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

    class Meta:
        ordering = ["slug", "-version"]
        verbose_name_plural = "refund policies"
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="policy_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"
