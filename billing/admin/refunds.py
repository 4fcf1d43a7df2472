from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin.workspaces import WORKSPACE_SEARCH
from backoffice.admin_mixins import LargeTableAdmin, money
from billing.admin.action_forms import ProposeRefundForm, run_per_row, with_reason
from billing.errors import DomainError
from billing.models import Payment, Refund, RefundReviewRequest, Subscription
from billing.money import format_money
from billing.services.credit import credit_balances
from billing.services.refunds import (
    needs_billing_lead,
    refund_approve,
    refund_choose_destination,
    refund_propose,
    refund_reject,
    refund_retry,
)
from billing.services.reviews import (
    accidental_renewal_propose_refund,
    accidental_renewals,
    review_request_answer,
    review_request_assign_workspace,
    review_request_propose_refund,
    review_request_verify,
)


@admin.register(Refund)
class RefundAdmin(LargeTableAdmin):
    """The pending-refunds queue: proposed first, oldest first, with the quote and the
    payment's history. Every action goes through the refund services (four eyes, lead
    threshold, payment lock); refusals are reported per row."""

    list_display = [
        "id",
        "workspace",
        "payment",
        "status",
        "amount_display",
        "destination",
        "is_goodwill",
        "needs_lead",
        "proposed_by",
        "created_at",
    ]
    list_filter = ["status", "destination", "is_goodwill"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "workspace"
    list_select_related = ["workspace", "payment", "proposed_by"]
    # The stored snapshot is for replays (policy authoring), not for reading here.
    readonly_fields = [f.name for f in Refund._meta.fields if f.name != "snapshot"] + [
        "quote_lines",
        "payment_history",
        "workspace_credit",
    ]
    amount_display = money("amount", description="amount")
    actions = ["approve", "reject", "retry", "send_to_credit"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_ordering(self, request):
        queue_rank = Case(
            When(status=Refund.Status.PROPOSED, then=Value(0)),
            When(status=Refund.Status.FAILED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [queue_rank.asc(), "created_at"]

    @admin.display(boolean=True, description="Billing lead")
    def needs_lead(self, obj: Refund) -> bool:
        return needs_billing_lead(obj)

    @admin.display(description="quote")
    def quote_lines(self, obj: Refund):
        lines = obj.quote.get("lines") or []
        if not lines:
            return obj.reason or "—"
        return format_html_join(
            "\n",
            "<div>{} — {} <small>({})</small></div>",
            ((line.get("label"), line.get("amount"), line.get("clause")) for line in lines),
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
            subscription = Subscription.objects.filter(pk=request.POST.get("subscription")).first()
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
class RefundReviewRequestAdmin(LargeTableAdmin):
    """Review requests queue (orgix §9/§18). Candidate payments stay hidden until the
    requester is verified; answers and refund proposals go through the review services."""

    list_display = ["id", "workspace_name", "kind", "status", "verification", "created_at"]
    list_filter = ["status", "kind", "verification"]
    search_fields = ["workspace_name__istartswith", "billing_email__iexact"]
    list_select_related = ["workspace"]
    ordering = ["created_at"]
    raw_id_fields = ["workspace"]
    actions = ["verify_by_email", "verify_manually", "answer", "propose_refund"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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

    def get_readonly_fields(self, request, obj=None):
        editable = {"workspace"} if obj is not None and obj.verified_at is None else set()
        return [f for f in self.get_fields(request, obj) if f not in editable]

    def save_model(self, request, obj, form, change):
        """The only editable field is the workspace, before verification: audited."""
        if change and "workspace" in form.changed_data:
            try:
                review_request_assign_workspace(
                    request=obj, workspace=obj.workspace, agent=request.user, now=timezone.now()
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
                        p.paid_at,
                        format_money(p.amount_refunded, p.currency),
                    )
                    for p in payments
                ),
            )
            or "None matched: find the payment in the payments list."
        )

    @admin.action(description="Verify: the billing email matches")
    def verify_by_email(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset,
            lambda review: review_request_verify(
                request=review, agent=request.user, method="billing_email", now=now
            ),
            done="requester(s) verified",
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
        of the verified workspace; with several candidates the agent proposes by hand."""
        now = timezone.now()

        def propose(review: RefundReviewRequest):
            payments = list(review.candidate_payments.filter(workspace=review.workspace_id))
            if len(payments) != 1:
                raise DomainError(
                    f"{len(payments)} matching payments: propose the refund from the payment.",
                    field="payment",
                )
            payment = payments[0]
            amount = min(review.amount_charged, payment.amount - payment.amount_refunded)
            return review_request_propose_refund(
                request=review, payment=payment, amount=amount, agent=request.user, now=now
            )

        run_per_row(self, request, queryset, propose, done="refund(s) proposed")
