from django.contrib import admin

from accounts.models import AuditRecord, UnqueuedTask
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


# What each task that services schedule after a commit does, in words.
TASKS_IN_WORDS = {
    "billing.send_customer_email": "E-mail to a customer",
    "billing.send_customer_emails": "E-mails of a job's batch",
    "billing.execute_refund": "Refund execution at the payment provider",
    "billing.replay_policy": "Policy replay",
}


@admin.register(UnqueuedTask)
class UnqueuedTaskAdmin(AppendOnlyAdmin):
    """Work waiting for the broker: queued again every five minutes, then gone."""

    list_display = ["created_at", "what", "error"]
    fields = ["created_at", "what", "task", "args", "error"]
    readonly_fields = fields

    @admin.display(description="waiting to be queued")
    def what(self, obj: UnqueuedTask) -> str:
        return TASKS_IN_WORDS.get(obj.task, obj.task)
