from django.contrib import admin

from accounts.admin.workspaces import WORKSPACE_SEARCH
from backoffice.admin_mixins import LargeTableAdmin, money
from billing.models import Refund, RefundReviewRequest


@admin.register(Refund)
class RefundAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "workspace",
        "status",
        "amount_display",
        "destination",
        "is_goodwill",
        "created_at",
    ]
    list_filter = ["status", "destination", "is_goodwill"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    list_select_related = ["workspace", "payment"]
    readonly_fields = [f.name for f in Refund._meta.fields]
    amount_display = money("amount", description="amount")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefundReviewRequest)
class RefundReviewRequestAdmin(LargeTableAdmin):
    list_display = ["id", "workspace_name", "kind", "status", "verification", "created_at"]
    list_filter = ["status", "kind", "verification"]
    search_fields = ["workspace_name__istartswith", "billing_email__iexact"]
    list_select_related = ["workspace"]
    ordering = ["created_at"]
    readonly_fields = ["status", "verification", "verified_by", "verified_at", "created_at"]
    raw_id_fields = ["workspace", "submitted_by"]
    filter_horizontal = ["candidate_payments"]
