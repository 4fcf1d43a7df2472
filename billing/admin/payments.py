from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from accounts.admin.workspaces import RELATED_SEARCH_HELP, WORKSPACE_SEARCH
from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin
from backoffice.admin_mixins import AppendOnlyAdmin, LargeTableAdmin, money
from backoffice.admin_queues import CsvExportAdmin
from billing.admin.action_forms import run_per_row
from billing.errors import DomainError
from billing.models import CreditEntry, Dispute, Payment
from billing.services.disputes import dispute_close, dispute_open


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
    search_help_text = (
        "Finds the payments of workspaces matched by a word of the name, the start of the "
        "slug or the exact billing email, or the payment with that provider reference."
    )
    list_select_related = ["workspace"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    amount_display = money("amount", description="amount")
    tax_display = money("tax", description="tax")
    refunded_display = money("amount_refunded", description="refunded")
    actions = ["propose_refund"]

    @admin.action(description="Propose a refund of this payment…", permissions=["propose"])
    def propose_refund(self, request, queryset):
        """Opens the refund proposal form (refunds admin) for the one selected payment."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one payment.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("admin:billing_refund_propose", args=[queryset.get().pk])
        )

    def has_propose_permission(self, request) -> bool:
        return request.user.has_perm("billing.propose_refund")


@admin.register(CreditEntry)
class CreditEntryAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "workspace", "kind", "amount_display", "payment", "memo"]
    list_filter = ["kind", "currency"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "payment"]
    readonly_fields = [f.name for f in CreditEntry._meta.fields]
    amount_display = money("amount", description="amount")


class DisputeForm(forms.ModelForm):
    class Meta:
        model = Dispute
        fields = ["payment", "amount", "reason", "provider_reference"]

    def clean(self):
        data = super().clean()
        payment, amount = data.get("payment"), data.get("amount")
        if payment and amount is not None and not 0 < amount <= payment.amount:
            self.add_error("amount", f"A dispute is for part or all of {payment.amount}.")
        return data


@admin.register(Dispute)
class DisputeAdmin(CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin):
    """Record a dispute on a payment (suspends the workspace's paid features, orgix §11),
    then close it won or lost; both go through `billing.services.disputes` and are audited."""

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
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["payment__workspace"]
    form = DisputeForm
    fields = ["payment", "amount", "reason", "provider_reference", "status", "opened_at"]
    raw_id_fields = ["payment"]
    amount_display = money("amount", description="amount")
    actions = ["close_won", "close_lost"]
    change_list_template = "admin/queue_change_list.html"
    csv_filename = "disputes"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status", "opened_at"]
        return super().get_readonly_fields(request, obj)

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, "closed_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            dispute = dispute_open(
                payment=obj.payment,
                amount=obj.amount,
                reason=obj.reason,
                reference=obj.provider_reference,
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.pk = dispute.pk

    def _close(self, request, queryset, outcome: str):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda dispute: dispute_close(
                dispute=dispute, outcome=outcome, actor=request.user, now=now
            ),
            done=f"dispute(s) closed as {outcome}",
        )

    @admin.action(description="Close as won (restore the workspace)", permissions=["change"])
    def close_won(self, request, queryset):
        self._close(request, queryset, Dispute.Status.WON)

    @admin.action(description="Close as lost (payment unpaid)", permissions=["change"])
    def close_lost(self, request, queryset):
        self._close(request, queryset, Dispute.Status.LOST)

    @admin.display(description="workspace", ordering="payment__workspace__name")
    def workspace(self, obj: Dispute) -> str:
        return str(obj.payment.workspace)

    def record_buttons(self, request, obj: Dispute) -> list[RecordButton]:
        if obj.status != Dispute.Status.OPEN:
            blocked = f"The dispute is closed ({obj.get_status_display().lower()})."
        elif not request.user.has_perm("billing.change_dispute"):
            blocked = "You may not close disputes."
        else:
            blocked = ""
        return [
            RecordButton("close_won", "Close as won (restore the workspace)", blocked=blocked),
            RecordButton("close_lost", "Close as lost (payment unpaid)", blocked=blocked),
        ]

    def do_close_won(self, request, obj, data) -> str:
        dispute_close(
            dispute=obj, outcome=Dispute.Status.WON, actor=request.user, now=timezone.now()
        )
        return "Dispute closed as won; the workspace is restored."

    def do_close_lost(self, request, obj, data) -> str:
        dispute_close(
            dispute=obj, outcome=Dispute.Status.LOST, actor=request.user, now=timezone.now()
        )
        return "Dispute closed as lost; the payment is marked lost."
