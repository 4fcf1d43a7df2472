from django.contrib import admin

from accounts.models import UnqueuedTask
from backoffice.admin_mixins import AppendOnlyAdmin

# What each task that services schedule after a commit does, in words.
TASKS_IN_WORDS = {
    "billing.send_customer_email": "E-mail to a customer",
    "billing.send_customer_emails": "E-mails of a job's batch",
    "billing.execute_refund": "Refund execution at the payment provider",
    "billing.replay_policy": "Policy replay",
}


class WaitingTaskFilter(admin.SimpleListFilter):
    """By what waits (an index leads with the task, in the list's order)."""

    title = "waiting to be queued"
    parameter_name = "task"

    def lookups(self, request, model_admin):
        return list(TASKS_IN_WORDS.items())

    def queryset(self, request, queryset):
        return queryset.filter(task=self.value()) if self.value() else queryset


@admin.register(UnqueuedTask)
class UnqueuedTaskAdmin(AppendOnlyAdmin):
    """Work waiting for the broker: queued again every five minutes, then gone."""

    list_display = ["created_at", "what", "error"]
    list_filter = [WaitingTaskFilter]
    fields = ["created_at", "what", "task", "args", "error"]
    readonly_fields = fields

    @admin.display(description="waiting to be queued")
    def what(self, obj: UnqueuedTask) -> str:
        return TASKS_IN_WORDS.get(obj.task, obj.task)
