from django.contrib import admin

from billing.models import RefundPolicy


@admin.register(RefundPolicy)
class RefundPolicyAdmin(admin.ModelAdmin):
    list_display = ["slug", "version", "title", "effective_from", "created_at"]
    list_filter = ["slug"]
    search_fields = ["slug__startswith", "title__icontains"]
