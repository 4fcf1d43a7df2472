"""The refund-review requests queue (orgix §9/§18): verify the requester, then propose a
refund of one of the verified workspace's payments or answer without one."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.utils import timezone
from django.utils.html import format_html_join

from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin
from backoffice.admin_mixins import LargeTableAdmin
from backoffice.admin_queues import CsvExportAdmin
from backoffice.display import local_datetime
from billing.admin.action_forms import run_per_row, with_reason
from billing.errors import DomainError
from billing.models import Payment, RefundReviewRequest
from billing.money import format_money
from billing.services.review_verification import (
    review_request_send_confirmation,
    review_request_verify,
)
from billing.services.reviews import (
    review_request_answer,
    review_request_assign_workspace,
    review_request_propose_refund,
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
