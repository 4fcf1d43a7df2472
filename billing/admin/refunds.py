from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin.workspaces import RELATED_SEARCH_HELP, WORKSPACE_SEARCH
from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin
from backoffice.admin_mixins import LargeTableAdmin, money
from backoffice.admin_queues import CsvExportAdmin, QueueStatusFilter, status_queues
from backoffice.identifiers import parse_id
from billing.admin.action_forms import ProposeRefundForm, run_per_row, with_reason
from billing.admin.display import render_stored_quote, staff_name
from billing.errors import DomainError
from billing.models import Payment, Refund, Subscription
from billing.money import format_money
from billing.queues import awaiting_approval_q, needs_lead_q
from billing.services.credit import credit_balances
from billing.services.refunds import (
    needs_billing_lead,
    payment_policy_rules,
    refund_approval_blocker,
    refund_approve,
    refund_choose_destination,
    refund_propose,
    refund_reject,
    refund_retry,
)
from billing.services.reviews import (
    accidental_renewal_propose_refund,
    accidental_renewals,
)


class RefundQueueFilter(QueueStatusFilter):
    default = "needs_work"
    queues = status_queues(
        Refund,
        work=(
            "needs_work",
            "Needs work (proposed or failed)",
            (Refund.Status.PROPOSED, Refund.Status.FAILED),
        ),
    )


class ApprovalFilter(admin.SimpleListFilter):
    title = "who approves"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("mine", "Awaiting my approval"), ("lead", "Needs a Billing lead")]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(awaiting_approval_q(request.user))
        if self.value() == "lead":
            return queryset.filter(needs_lead_q())
        return queryset


@admin.register(Refund)
class RefundAdmin(CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin):
    """The pending-refunds queue: proposed first, oldest first, with the quote and the
    payment's history. Every action goes through the refund services (four eyes, lead
    threshold, payment lock); refusals are reported per row."""

    list_display = [
        "id",
        "workspace_name",
        "status",
        "amount_display",
        "destination",
        "goodwill",
        "needs_lead",
        "proposer",
        "created_at",
    ]
    list_filter = [RefundQueueFilter, ApprovalFilter, "destination", "is_goodwill"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "proposed_by"]
    # Proposed, then failed, then the rest; oldest first (index refund_queue_order).
    ordering = ["queue_position", "created_at", "pk"]
    readonly_fields = [
        "quote_lines",
        "payment_history",
        "workspace_credit",
        "amount_display",
        "tax_display",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "workspace",
                    "payment",
                    "cancellation",
                    "review_request",
                    "status",
                    ("amount_display", "tax_display"),
                    "destination",
                    "is_goodwill",
                    "reason",
                ]
            },
        ),
        (
            "Decision",
            {
                "fields": [
                    "proposed_by",
                    "created_at",
                    "decided_by",
                    "decided_at",
                    "rejection_reason",
                ]
            },
        ),
        ("Quote (as the customer confirmed it)", {"fields": ["quote_lines"]}),
        ("Payment", {"fields": ["payment_history", "workspace_credit"]}),
        ("Execution", {"fields": ["attempts", "failure_message", "completed_at"]}),
        (
            # For matching this refund with the provider's records: folded away, since
            # agents deciding a refund never need them.
            "Provider details",
            {"fields": ["provider_reference", "idempotency_key"], "classes": ["collapse"]},
        ),
    ]
    amount_display = money("amount", description="amount")
    tax_display = money("tax_amount", description="of which tax")
    actions = ["approve", "reject", "retry", "send_to_credit"]
    addable = False
    change_list_template = "admin/billing/refund/change_list.html"
    csv_filename = "refunds"

    @admin.display(boolean=True, description="Billing lead")
    def needs_lead(self, obj: Refund) -> bool:
        return needs_billing_lead(obj)

    @admin.display(boolean=True, description="goodwill", ordering="is_goodwill")
    def goodwill(self, obj: Refund) -> bool:
        return obj.is_goodwill

    @admin.display(description="workspace", ordering="workspace__name")
    def workspace_name(self, obj: Refund) -> str:
        return format_html("{}<small>{}</small>", obj.workspace.name, obj.workspace.slug)

    @admin.display(description="proposed by", ordering="proposed_by__email")
    def proposer(self, obj: Refund) -> str:
        return staff_name(obj.proposed_by)

    @admin.display(description="quote")
    def quote_lines(self, obj: Refund):
        """The cancellation quote this refund comes from, as the request page shows it."""
        if not obj.quote.get("lines"):
            return f"Proposed by hand: {obj.reason}" if obj.reason else "—"
        cancellation = obj.cancellation
        policy_id = cancellation.subscription.policy_id if cancellation else None
        at = cancellation.created_at if cancellation else obj.created_at
        return render_stored_quote(obj.quote, workspace=obj.workspace, policy_id=policy_id, at=at)

    @admin.display(description="payment history")
    def payment_history(self, obj: Refund):
        payment = obj.payment
        rows = [
            (
                f"Refund #{other.pk}",
                format_money(other.amount, other.currency),
                other.get_status_display(),
            )
            for other in payment.refunds.exclude(pk=obj.pk)
        ] + [
            (
                f"Dispute {dispute.provider_reference or dispute.pk}",
                format_money(dispute.amount, dispute.currency),
                dispute.get_status_display(),
            )
            for dispute in payment.disputes.all()
        ]
        summary = format_html(
            "<div>{} paid {}, {} committed to refunds ({})</div>",
            payment.get_kind_display(),
            format_money(payment.amount, payment.currency),
            format_money(payment.amount_refunded, payment.currency),
            payment.get_status_display(),
        )
        return summary + format_html_join("\n", "<div>{}: {} — {}</div>", rows)

    @admin.display(description="workspace credit")
    def workspace_credit(self, obj: Refund) -> str:
        balances = credit_balances(obj.workspace)
        return ", ".join(format_money(a, c) for c, a in balances) or "none"

    @admin.action(description="Approve selected refunds", permissions=["approve"])
    def approve(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda refund: refund_approve(refund=refund, actor=request.user, now=now),
            done="refund(s) approved and scheduled",
        )

    @admin.action(description="Reject selected refunds…", permissions=["approve"])
    def reject(self, request, queryset):
        now = timezone.now()
        return with_reason(
            self,
            request,
            queryset,
            title="Reject refunds",
            label="Reason (shown to the customer)",
            apply=lambda refund, reason: refund_reject(
                refund=refund, actor=request.user, reason=reason, now=now
            ),
            done="refund(s) rejected",
        )

    @admin.action(description="Retry selected failed refunds", permissions=["approve"])
    def retry(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda refund: refund_retry(refund=refund, actor=request.user, now=now),
            done="refund(s) retried",
        )

    @admin.action(description="Refund to customer credit instead", permissions=["propose"])
    def send_to_credit(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda refund: refund_choose_destination(
                refund=refund,
                destination=Refund.Destination.CUSTOMER_CREDIT,
                actor=request.user,
                now=now,
            ),
            done="refund(s) now go to customer credit",
        )

    # --- buttons on the refund page: the same services as the actions above

    def record_buttons(self, request, obj: Refund) -> list[RecordButton]:
        user, status = request.user, obj.status
        proposed = status == Refund.Status.PROPOSED
        not_proposed = f"The refund is {obj.get_status_display().lower()}, not proposed."
        decide = "" if user.has_perm("billing.approve_refund") else "You may not decide refunds."
        approve = not_proposed if not proposed else refund_approval_blocker(obj, user) or ""
        return [
            RecordButton("approve", "Approve", blocked=approve, primary=True),
            RecordButton(
                "reject",
                "Reject…",
                blocked=not_proposed if not proposed else decide,
                asks="Reason (shown to the customer)",
            ),
            RecordButton(
                "retry",
                "Retry",
                blocked=decide
                if status == Refund.Status.FAILED
                else "Only a failed refund is retried.",
            ),
            RecordButton(
                "send_to_credit",
                "Refund to customer credit instead",
                blocked=self._credit_blocker(user, obj),
            ),
        ]

    def _credit_blocker(self, user, obj: Refund) -> str:
        if obj.status != Refund.Status.PROPOSED:
            return "Only a proposed refund's destination can change."
        if obj.destination == Refund.Destination.CUSTOMER_CREDIT:
            return "It already goes to customer credit."
        if not user.has_perm("billing.propose_refund"):
            return "You may not change refunds."
        rules = payment_policy_rules(obj.payment)
        if rules is not None and not rules.destination_choice_allowed:
            return f"The {rules.name} policy refunds to the original payment method only."
        return ""

    def do_approve(self, request, obj: Refund, data) -> str:
        refund_approve(refund=obj, actor=request.user, now=timezone.now())
        return f"Refund #{obj.pk} approved; it is being paid out."

    def do_reject(self, request, obj: Refund, data) -> str:
        refund_reject(refund=obj, actor=request.user, reason=data["text"], now=timezone.now())
        return f"Refund #{obj.pk} rejected."

    def do_retry(self, request, obj: Refund, data) -> str:
        refund_retry(refund=obj, actor=request.user, now=timezone.now())
        return f"Refund #{obj.pk} retried."

    def do_send_to_credit(self, request, obj: Refund, data) -> str:
        refund_choose_destination(
            refund=obj,
            destination=Refund.Destination.CUSTOMER_CREDIT,
            actor=request.user,
            now=timezone.now(),
        )
        return f"Refund #{obj.pk} now goes to customer credit."

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.approve_refund")

    def has_propose_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.propose_refund")

    def get_urls(self):
        custom = [
            path(
                "accidental-renewals/",
                self.admin_site.admin_view(self.accidental_renewals_view),
                name="billing_refund_accidental_renewals",
            ),
            path(
                "propose/<int:payment_id>/",
                self.admin_site.admin_view(self.propose_view),
                name="billing_refund_propose",
            ),
        ]
        return custom + super().get_urls()

    def propose_view(self, request: HttpRequest, payment_id: int):
        """An agent proposes a refund of one payment (from the payments list)."""
        if not self.has_propose_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("workspace"), pk=payment_id)
        form = ProposeRefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund = refund_propose(
                    payment=payment, actor=request.user, now=timezone.now(), **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, f"{refund} proposed; it awaits a second agent.")
                return HttpResponseRedirect(
                    reverse("admin:billing_refund_change", args=[refund.pk])
                )
        return TemplateResponse(
            request,
            "admin/billing/refund/propose.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Propose a refund of {payment}",
                "payment": payment,
                "form": form,
                "opts": self.model._meta,
            },
        )

    def accidental_renewals_view(self, request: HttpRequest):
        """Flagged unused renewals, each with a one-click refund proposal."""
        if request.method == "POST":
            number = parse_id(request.POST.get("subscription"))
            subscription = Subscription.objects.filter(pk=number).first() if number else None
            try:
                if subscription is None:
                    raise DomainError("No such subscription.", field="subscription")
                refund = accidental_renewal_propose_refund(
                    subscription=subscription, agent=request.user, now=timezone.now()
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"{refund} proposed; it awaits approval.")
            return HttpResponseRedirect(reverse("admin:billing_refund_accidental_renewals"))
        return TemplateResponse(
            request,
            "admin/billing/accidental_renewals.html",
            {
                **self.admin_site.each_context(request),
                "title": "Accidental renewals",
                "subscriptions": accidental_renewals()[:200],
                "opts": self.model._meta,
            },
        )
