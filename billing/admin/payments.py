from django.contrib import admin

from accounts.admin.workspaces import WORKSPACE_SEARCH
from backoffice.admin_mixins import AppendOnlyAdmin, LargeTableAdmin, money
from billing.models import CreditEntry, Dispute, Payment


@admin.register(Payment)
class PaymentAdmin(AppendOnlyAdmin):
    list_display = [
        "paid_at",
        "workspace",
        "kind",
        "status",
        "amount_display",
        "tax_display",
        "refunded_display",
        "provider",
        "provider_reference",
    ]
    list_filter = ["kind", "status", "provider", "currency"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH] + [
        "provider_reference__exact"
    ]
    search_workspace_path = "workspace"
    list_select_related = ["workspace"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    amount_display = money("amount", description="amount")
    tax_display = money("tax", description="tax")
    refunded_display = money("amount_refunded", description="refunded")


@admin.register(CreditEntry)
class CreditEntryAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "workspace", "kind", "amount_display", "payment", "memo"]
    list_filter = ["kind", "currency"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "workspace"
    list_select_related = ["workspace", "payment"]
    readonly_fields = [f.name for f in CreditEntry._meta.fields]
    amount_display = money("amount", description="amount")


@admin.register(Dispute)
class DisputeAdmin(LargeTableAdmin):
    list_display = [
        "opened_at",
        "workspace",
        "payment",
        "status",
        "amount_display",
        "reason",
        "closed_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = [f"payment__workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "payment__workspace"
    list_select_related = ["payment__workspace"]
    readonly_fields = ["status", "closed_at"]
    raw_id_fields = ["payment"]
    amount_display = money("amount", description="amount")

    @admin.display(description="workspace", ordering="payment__workspace__name")
    def workspace(self, obj: Dispute) -> str:
        return str(obj.payment.workspace)
