"""Technical records support may need to look up: processed webhook events and stored
idempotent responses. Written by the code only, so the admin shows them read-only."""

from django.contrib import admin

from backoffice.admin_mixins import AppendOnlyAdmin
from billing.models import IdempotencyKey, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(AppendOnlyAdmin):
    list_display = ["received_at", "provider", "event_type", "event_id", "created"]
    search_fields = ["=provider"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "user", "scope", "key", "response_status"]
    search_fields = ["user__email__startswith"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]
