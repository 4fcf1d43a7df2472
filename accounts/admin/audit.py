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
    # The largest table: no SELECT DISTINCT filters, searches on indexed columns only
    # (a number finds a workspace's records, text an action prefix).
    # One object's history: ?target_type=billing.Refund&target_id=42 in the URL.
    search_fields = ["action__startswith"]
    search_id_fields = ("workspace_id",)
    readonly_fields = [f.name for f in AuditRecord._meta.fields]
