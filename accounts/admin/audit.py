from django.contrib import admin

from accounts.models import AuditRecord
from backoffice.admin_mixins import AppendOnlyAdmin


@admin.register(AuditRecord)
class AuditRecordAdmin(AppendOnlyAdmin):
    list_display = [
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "workspace_id",
    ]
    list_filter = ["action", "target_type"]
    search_fields = ["=target_id", "=workspace_id", "actor_label__startswith"]
    readonly_fields = [f.name for f in AuditRecord._meta.fields]
