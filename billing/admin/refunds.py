from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
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
from backoffice.display import local_datetime
from backoffice.identifiers import parse_id
from billing.admin.action_forms import ProposeRefundForm, run_per_row, with_reason
from billing.admin.display import render_stored_quote
from billing.errors import DomainError
from billing.models import Payment, Refund, RefundReviewRequest, Subscription
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
from billing.services.review_verification import (
    review_request_send_confirmation,
    review_request_verify,
)
from billing.services.reviews import (
    accidental_renewal_propose_refund,
    accidental_renewals,
    review_request_answer,
    review_request_assign_workspace,
    review_request_propose_refund,
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
    title = "approval"
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
        "workspace",
        "status",
        "amount_display",
        "destination",
        "is_goodwill",
        "needs_lead",
        "proposed_by",
        "created_at",
    ]
    list_filter = [RefundQueueFilter, ApprovalFilter, "destination", "is_goodwill"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "payment", "proposed_by"]
    # Proposed, then failed, then the rest; oldest first (index refund_queue_order).
    ordering = ["queue_position", "created_at", "pk"]
    readonly_fields = ["quote_lines", "payment_history", "workspace_credit"]
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
                    ("amount", "tax_amount", "currency"),
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
        (
            "Execution",
            {
                "fields": [
                    "attempts",
                    "failure_message",
                    "completed_at",
                    "provider_reference",
                    "idempotency_key",
                ]
            },
        ),
    ]
    amount_display = money("amount", description="amount")
    actions = ["approve", "reject", "retry", "send_to_credit"]
    addable = False
    change_list_template = "admin/billing/refund/change_list.html"
    csv_filename = "refunds"

    @admin.display(boolean=True, description="Billing lead")
    def needs_lead(self, obj: Refund) -> bool:
        return needs_billing_lead(obj)

    @admin.display(description="quote")
    def quote_lines(self, obj: Refund):
        """The cancellation quote this refund comes from, as the request page shows it."""
        if not obj.quote.get("lines"):
            return f"Proposed by hand: {obj.reason}" if obj.reason else "—"
        policy_id = obj.cancellation.subscription.policy_id if obj.cancellation_id else None
        return render_stored_quote(
            obj.quote, workspace=obj.workspace, policy_id=policy_id, at=obj.created_at
        )

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


@admin.register(RefundReviewRequest)
class RefundReviewRequestAdmin(CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin):
    """Review requests queue (orgix §9/§18). Candidate payments stay hidden until the
    requester is verified; answers and refund proposals go through the review services."""

    list_display = ["id", "workspace_name", "kind", "status", "verification", "created_at"]
    list_filter = ["status", "kind", "verification"]
    search_fields = ["workspace_name__istartswith", "billing_email__iexact"]
    list_select_related = ["workspace"]
    ordering = ["created_at"]
    raw_id_fields = ["workspace"]
    actions = [
        "verify_member",
        "send_confirmation",
        "verify_manually",
        "answer",
        "propose_refund",
    ]
    change_list_template = "admin/queue_change_list.html"
    csv_filename = "review-requests"
    addable = False

    def get_fields(self, request, obj=None):
        fields = [
            "workspace",
            "kind",
            "workspace_name",
            "billing_email",
            "approximate_payment_date",
            "amount_charged",
            "currency",
            "explanation",
            "status",
            "verification",
            "verified_by",
            "verified_at",
            "answer",
            "created_at",
        ]
        if obj is not None and obj.verified_at is not None:
            fields.insert(8, "candidates")
        return fields

    def editable_fields(self, request, obj):
        """The workspace the requester means, until they are verified for it."""
        return ("workspace",) if obj.verified_at is None else ()

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, *(f for f in ("candidates",) if f not in readonly)]

    def save_editable(self, request, obj, changes):
        try:
            review_request_assign_workspace(
                request=obj, workspace=changes["workspace"], agent=request.user, now=timezone.now()
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)

    @admin.display(description="candidate payments")
    def candidates(self, obj: RefundReviewRequest):
        payments = obj.candidate_payments.select_related("workspace")
        return (
            format_html_join(
                "\n",
                "<div>#{} {} — {} paid {} ({} refunded)</div>",
                (
                    (
                        p.pk,
                        p.workspace,
                        format_money(p.amount, p.currency),
                        local_datetime(p.paid_at),
                        format_money(p.amount_refunded, p.currency),
                    )
                    for p in payments
                ),
            )
            or "None matched: find the payment in the payments list."
        )

    @admin.action(description="Verify: the requester is the workspace's owner or billing admin")
    def verify_member(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda review: review_request_verify(
                request=review, agent=request.user, method="member", now=now
            ),
            done="requester(s) verified",
        )

    @admin.action(description="Send a confirmation link to the workspace's billing email")
    def send_confirmation(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda review: review_request_send_confirmation(
                request=review, agent=request.user, now=now
            ),
            done="confirmation link(s) sent",
        )

    @admin.action(description="Verify manually…")
    def verify_manually(self, request, queryset):
        now = timezone.now()
        return with_reason(
            self,
            request,
            queryset,
            title="Verify requesters manually",
            label="How was the requester verified?",
            apply=lambda review, note: review_request_verify(
                request=review, agent=request.user, method="manual", now=now, note=note
            ),
            done="requester(s) verified",
        )

    @admin.action(description="Answer without refund…")
    def answer(self, request, queryset):
        now = timezone.now()
        return with_reason(
            self,
            request,
            queryset,
            title="Answer review requests",
            label="Answer (shown to the customer)",
            apply=lambda review, text: review_request_answer(
                request=review, agent=request.user, answer=text, now=now
            ),
            done="request(s) answered",
        )

    @admin.action(description="Propose refund of the matched payment")
    def propose_refund(self, request, queryset):
        """Refunds the amount charged (at most what is left) of the one candidate payment
        of the verified workspace; with several candidates the agent picks one on the
        request's page ("Propose a refund…")."""
        now = timezone.now()

        def propose(review: RefundReviewRequest):
            if review.status == RefundReviewRequest.Status.SUBMITTED:
                raise DomainError("Verify the requester first.", field="status")
            payments = list(review.candidate_payments.filter(workspace=review.workspace_id))
            if len(payments) != 1:
                raise DomainError(
                    f"{len(payments)} matching payments: pick one with "
                    "“Propose a refund…” on the request's page.",
                    field="payment",
                )
            payment = payments[0]
            amount = min(review.amount_charged, payment.amount - payment.amount_refunded)
            return review_request_propose_refund(
                request=review, payment=payment, amount=amount, agent=request.user, now=now
            )

        run_per_row(self, request, queryset, propose, done="refund(s) proposed")

    # --- buttons on the review request page

    def record_buttons(self, request, obj: RefundReviewRequest) -> list[RecordButton]:
        Status = RefundReviewRequest.Status
        state = f"The request is {obj.get_status_display().lower()}."
        submitted = obj.status == Status.SUBMITTED
        verify = "" if submitted else state
        if obj.status == Status.VERIFIED:
            propose = (
                "" if self._candidates(obj) else "No payment of this workspace is left to refund."
            )
            if not request.user.has_perm("billing.propose_refund"):
                propose = "You may not propose refunds."
        else:
            propose = "Verify the requester first." if submitted else state
        answerable = obj.status in (Status.SUBMITTED, Status.VERIFIED)
        return [
            RecordButton(
                "verify_member",
                "Verify: the requester is a billing member",
                blocked=verify,
            ),
            RecordButton(
                "send_confirmation",
                "Send a confirmation link to the billing email",
                blocked=verify,
            ),
            RecordButton(
                "verify_manually",
                "Verify manually…",
                blocked=verify,
                asks="How was the requester verified?",
            ),
            RecordButton(
                "propose", "Propose a refund…", blocked=propose, asks="payment", primary=True
            ),
            RecordButton(
                "answer",
                "Answer without refund…",
                blocked="" if answerable else state,
                asks="Answer (shown to the customer)",
            ),
        ]

    def _candidates(self, obj: RefundReviewRequest) -> list[Payment]:
        return list(
            obj.candidate_payments.filter(
                workspace=obj.workspace_id, amount_refunded__lt=F("amount")
            ).order_by("-paid_at")
        )

    def record_form(self, request, obj, button, data=None):
        if button.name != "propose":
            return super().record_form(request, obj, button, data)
        return ReviewProposeForm(data, candidates=self._candidates(obj), review=obj)

    def do_verify_member(self, request, obj, data) -> str:
        review_request_verify(request=obj, agent=request.user, method="member", now=timezone.now())
        return (
            "Requester verified: a billing member of the workspace. Candidate payments are listed."
        )

    def do_send_confirmation(self, request, obj, data) -> str:
        address = review_request_send_confirmation(
            request=obj, agent=request.user, now=timezone.now()
        )
        return f"Confirmation link sent to {address}; the request is verified when it is followed."

    def do_verify_manually(self, request, obj, data) -> str:
        review_request_verify(
            request=obj, agent=request.user, method="manual", now=timezone.now(), note=data["text"]
        )
        return "Requester verified. Candidate payments are listed."

    def do_propose(self, request, obj, data) -> str:
        refund = review_request_propose_refund(
            request=obj,
            payment=data["payment"],
            amount=data["amount"],
            agent=request.user,
            now=timezone.now(),
            reason=data["reason"],
        )
        return f"Refund #{refund.pk} proposed; it awaits a second agent's approval."

    def do_answer(self, request, obj, data) -> str:
        review_request_answer(
            request=obj, agent=request.user, answer=data["text"], now=timezone.now()
        )
        return "Answered; the customer sees the answer."


class ReviewProposeForm(forms.Form):
    """Which of the verified workspace's payments to refund, and how much."""

    payment = forms.ModelChoiceField(queryset=Payment.objects.none(), widget=forms.RadioSelect)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(required=False, max_length=500, help_text="Optional; audited.")

    def __init__(self, *args, candidates: list[Payment], review: RefundReviewRequest, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["payment"]
        field.queryset = Payment.objects.filter(pk__in=[p.pk for p in candidates])
        field.label_from_instance = lambda p: (
            f"#{p.pk} {p.get_kind_display()}, {format_money(p.amount, p.currency)} paid "
            f"{local_datetime(p.paid_at)} ({format_money(p.amount_refunded, p.currency)} refunded)"
        )
        if len(candidates) == 1:
            field.initial = candidates[0].pk
        self.fields["amount"].initial = review.amount_charged
        self.fields["amount"].help_text = (
            f"The requester says {format_money(review.amount_charged, review.currency)}; "
            "at most what is left of the payment."
        )
