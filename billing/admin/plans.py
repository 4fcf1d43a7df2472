from django.contrib import admin

from backoffice.admin_mixins import money
from billing.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
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
