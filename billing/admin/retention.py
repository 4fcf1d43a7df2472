"""Retention offers (staff configure them) and the sessions customers went through, with
the outcomes report (save rate and retained revenue per offer and per reason)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing.models import RetentionOffer, RetentionSession
from billing.retention_report import offers_shown, outcomes_by_offer, outcomes_by_reason


@admin.register(RetentionOffer)
class RetentionOfferAdmin(admin.ModelAdmin):
    list_display = ["headline", "kind", "reason", "applies_to", "terms", "is_active"]
    list_filter = ["is_active", "kind", "reason"]
    list_select_related = ["policy", "plan", "target_plan"]
    search_fields = ["headline"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["headline", "kind", "reason", "is_active"]}),
        (
            "Applies to (one of them)",
            {"fields": ["policy", "plan"]},
        ),
        (
            "Terms (only those of the kind)",
            {"fields": ["target_plan", "max_pause_months", "discount_percent", "discount_periods"]},
        ),
        (None, {"fields": ["created_at"]}),
    ]

    @admin.display(description="For")
    def applies_to(self, offer: RetentionOffer) -> str:
        return f"policy {offer.policy.label}" if offer.policy_id else f"plan {offer.plan.name}"

    @admin.display(description="Terms")
    def terms(self, offer: RetentionOffer) -> str:
        if offer.kind == RetentionOffer.Kind.DOWNGRADE:
            target = offer.target_plan
            return f"to {target.name} ({target.price} {target.currency})"
        if offer.kind == RetentionOffer.Kind.PAUSE:
            return f"1 to {offer.max_pause_months} months"
        return f"{offer.discount_percent.normalize()}% off for {offer.discount_periods} periods"

    def save_model(self, request, obj: RetentionOffer, form, change) -> None:
        if not obj.created_at:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Offers customers saw stay for the report: switch them off instead."""
        return False


@admin.register(RetentionSession)
class RetentionSessionAdmin(admin.ModelAdmin):
    list_display = ["workspace", "reason", "outcome_words", "accepted_offer", "started_at"]
    list_filter = ["outcome", "reason"]
    list_select_related = ["workspace", "accepted_offer"]
    search_fields = ["workspace__slug__startswith"]
    show_full_result_count = False

    @admin.display(description="Outcome")
    def outcome_words(self, session: RetentionSession) -> str:
        return session.get_outcome_display() if session.outcome else "Left"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name="billing_retention_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Retention outcomes",
            "by_reason": outcomes_by_reason(now=now),
            "by_offer": outcomes_by_offer(now=now),
            "shown": offers_shown(),
            "offers": RetentionOffer.objects.order_by("reason", "kind"),
        }
        return TemplateResponse(request, "admin/billing/retention_report.html", context)
