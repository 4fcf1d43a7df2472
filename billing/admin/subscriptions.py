from django.contrib import admin

from accounts.admin.workspaces import WORKSPACE_SEARCH
from backoffice.admin_mixins import LargeTableAdmin, money
from billing.models import AddOn, OnboardingService, Subscription

SUBSCRIPTION_READONLY = [
    "status",
    "started_at",
    "trial_end",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "cancel_effective_at",
    "cancelled_at",
    "ended_at",
    "discount_void",
    "pending_plan",
    "pending_plan_effective_at",
    "past_due_since",
    "dunning_attempts",
    "next_retry_at",
    "grace_until",
    "policy",
]


class AddOnInline(admin.TabularInline):
    model = AddOn
    extra = 0
    readonly_fields = ["kind", "quantity", "price", "currency", "started_at", "ends_at"]
    can_delete = False


class ServiceInline(admin.TabularInline):
    model = OnboardingService
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(LargeTableAdmin):
    list_display = [
        "workspace",
        "plan",
        "status",
        "policy",
        "current_period_end",
        "cancel_at_period_end",
        "next_retry_at",
    ]
    list_filter = ["status", "plan__interval", "plan__policy_slug", "cancel_at_period_end"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "workspace"
    list_select_related = ["workspace", "plan", "policy"]
    autocomplete_fields = ["workspace", "plan"]
    readonly_fields = SUBSCRIPTION_READONLY
    inlines = [AddOnInline, ServiceInline]


@admin.register(AddOn)
class AddOnAdmin(LargeTableAdmin):
    list_display = ["__str__", "subscription", "price_display", "started_at", "ends_at"]
    list_filter = ["kind"]
    search_fields = [f"subscription__workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "subscription__workspace"
    list_select_related = ["subscription__workspace", "subscription__plan"]
    autocomplete_fields = ["subscription"]
    price_display = money("price", description="price")
