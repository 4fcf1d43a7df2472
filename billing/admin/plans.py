from django.contrib import admin, messages
from django.utils import timezone

from backoffice.admin_guard import GuardedAdmin, model_field_names
from backoffice.admin_mixins import money
from billing.errors import DomainError
from billing.models import Plan
from billing.services.catalogue import plan_editable_fields, plan_update


@admin.register(Plan)
class PlanAdmin(GuardedAdmin):
    """A plan in use keeps its price, interval, currency, family and limits (read-only);
    its name and whether it is still sold stay editable, through `plan_update` (audited)."""

    list_display = [
        "name",
        "code",
        "policy_slug",
        "tier_rank",
        "interval",
        "price_display",
        "seat_limit",
        "storage_limit_mb",
        "module_limit",
        "orders_per_month_limit",
        "is_active",
    ]
    list_filter = ["policy_slug", "interval", "currency", "is_active"]
    search_fields = ["code__startswith", "name__istartswith"]
    price_display = money("price", description="price")

    def editable_fields(self, request, obj):
        editable = plan_editable_fields(obj)
        return tuple(model_field_names(Plan)) if editable is None else editable

    def save_editable(self, request, obj, changes):
        try:
            plan_update(plan=obj, changes=changes, actor=request.user, now=timezone.now())
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
