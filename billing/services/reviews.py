"""Refund-review requests (orgix §9 "accidental payments and renewal issues", §18 "how to
request a refund review").

A customer submits what the policy asks for (workspace name, billing email, approximate
payment date, amount, explanation); we match candidate payments. Before an agent sees or
changes billing details, the requester must be verified as acting for one workspace
(orgix §18 "additional verification"; how: `billing/services/review_verification.py`).
Then the agent proposes a refund (still subject to four-eyes approval) or answers with a
reason. The customer sees the status and the answer; the refund's amount and status only
when they are a billing member of the workspace.

Status: submitted → verified → refund_proposed | answered; submitted → answered (an answer
needs no billing detail, e.g. "we found no such payment").
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery

from accounts.models import User, Workspace
from accounts.services.audit import audit_record
from backoffice.bounds import MAX_EMAIL_LENGTH, amount_out_of_range, date_out_of_range
from billing.errors import DomainError, InvalidTransition, PermissionDenied
from billing.models import CancellationRequest, Payment, Refund, RefundReviewRequest, Subscription
from billing.money import MINOR_UNITS, round_money
from billing.policy.rules import PolicyRules, WindowFrom
from billing.services.cancellations import cancellation_submit
from billing.services.refunds import refund_propose

MATCH_DAYS = 10  # a payment within ±10 days of the approximate date is a candidate
MATCH_TOLERANCE = Decimal("0.05")  # and within ±5% of the amount (taxes, rounding)
MAX_CANDIDATES = 20
RENEWAL_AFTER_SIGNUP = timedelta(days=1)  # a later subscription payment is a renewal

Status = RefundReviewRequest.Status
REVIEW_TRANSITIONS: dict[str, set[str]] = {
    Status.SUBMITTED: {Status.VERIFIED, Status.ANSWERED},
    Status.VERIFIED: {Status.REFUND_PROPOSED, Status.ANSWERED},
    Status.REFUND_PROPOSED: set(),
    Status.ANSWERED: set(),
    Status.CLOSED: set(),
}


def ensure_review_transition(request: RefundReviewRequest, target: str) -> None:
    if target not in REVIEW_TRANSITIONS.get(request.status, set()):
        raise InvalidTransition(
            f"This review request is {request.get_status_display().lower()}.", field="status"
        )


def check_review_agent(agent: User) -> None:
    if not agent.has_perm("billing.change_refundreviewrequest"):
        raise PermissionDenied("You may not process review requests.", field="status")


def matching_workspaces(*, workspace_name: str, billing_email: str):
    """Live workspaces only: the name and email indexes hold no erased shell (whose name
    and email are gone anyway)."""
    return Workspace.objects.filter(
        Q(name__iexact=workspace_name.strip()) | Q(billing_email__iexact=billing_email.strip()),
        Workspace.LIVE,
    )


def candidate_payments(
    *, workspace_name: str, billing_email: str, approximate: date, amount: Decimal, currency: str
):
    """Succeeded payments of a workspace with that name or billing email, near the date
    and the amount."""
    tolerance = max(amount * MATCH_TOLERANCE, Decimal(1).scaleb(-MINOR_UNITS[currency]))
    return Payment.objects.filter(
        workspace__in=matching_workspaces(
            workspace_name=workspace_name, billing_email=billing_email
        ),
        status=Payment.Status.SUCCEEDED,
        currency=currency,
        amount__gte=amount - tolerance,
        amount__lte=amount + tolerance,
        paid_at__date__gte=approximate - timedelta(days=MATCH_DAYS),
        paid_at__date__lte=approximate + timedelta(days=MATCH_DAYS),
    ).order_by("-paid_at")[:MAX_CANDIDATES]


def workspace_candidate_payments(request: RefundReviewRequest):
    """The candidates once the workspace is known (at verification): that workspace's
    succeeded payments near the date and amount the requester gave; if none match, its
    latest payments with something left to refund, so the agent always has a payment to
    propose from (a wrong date or amount in the request must not dead-end the review)."""
    currency = request.currency
    tolerance = max(
        request.amount_charged * MATCH_TOLERANCE, Decimal(1).scaleb(-MINOR_UNITS[currency])
    )
    refundable = Payment.objects.filter(
        workspace=request.workspace_id,
        status=Payment.Status.SUCCEEDED,
        currency=currency,
        amount_refunded__lt=F("amount"),
    ).order_by("-paid_at")
    near = refundable.filter(
        amount__gte=request.amount_charged - tolerance,
        amount__lte=request.amount_charged + tolerance,
        paid_at__date__gte=request.approximate_payment_date - timedelta(days=MATCH_DAYS),
        paid_at__date__lte=request.approximate_payment_date + timedelta(days=MATCH_DAYS),
    )
    matched = list(near[:MAX_CANDIDATES])
    return matched or list(refundable[:MAX_CANDIDATES])


def review_request_submit(
    *,
    submitted_by: User | None,
    kind: str,
    workspace_name: str,
    billing_email: str,
    approximate_payment_date: date,
    amount_charged: Decimal,
    currency: str,
    explanation: str,
    now: datetime,
) -> RefundReviewRequest:
    if kind not in RefundReviewRequest.Kind.values:
        raise DomainError("Choose what happened.", field="kind")
    if amount_charged <= 0:
        raise DomainError("The amount charged must be positive.", field="amount_charged")
    if currency not in MINOR_UNITS:
        raise DomainError(f"Unknown currency {currency!r}.", field="currency")
    if approximate_payment_date > now.date():
        raise DomainError("The payment date is in the future.", field="approximate_payment_date")
    if problem := date_out_of_range(approximate_payment_date):
        raise DomainError(f"The payment date {problem}.", field="approximate_payment_date")
    if problem := amount_out_of_range(amount_charged):
        raise DomainError(f"The amount charged {problem}.", field="amount_charged")
    if len(billing_email.strip()) > MAX_EMAIL_LENGTH:
        raise DomainError(
            f"An email address has at most {MAX_EMAIL_LENGTH} characters.", field="billing_email"
        )
    if not explanation.strip():
        raise DomainError("Explain briefly what happened.", field="explanation")
    if not workspace_name.strip():
        raise DomainError("Name the workspace.", field="workspace_name")
    workspaces = list(
        matching_workspaces(workspace_name=workspace_name, billing_email=billing_email)[:2]
    )
    with transaction.atomic():
        request = RefundReviewRequest.objects.create(
            workspace=workspaces[0] if len(workspaces) == 1 else None,
            submitted_by=submitted_by,
            kind=kind,
            workspace_name=workspace_name.strip(),
            billing_email=billing_email.strip(),
            approximate_payment_date=approximate_payment_date,
            amount_charged=amount_charged,
            currency=currency,
            explanation=explanation.strip(),
            created_at=now,
        )
        request.candidate_payments.set(
            candidate_payments(
                workspace_name=workspace_name,
                billing_email=billing_email,
                approximate=approximate_payment_date,
                amount=amount_charged,
                currency=currency,
            )
        )
        audit_record(
            actor=submitted_by,
            action="review.submit",
            target=request,
            now=now,
            after={"kind": kind, "amount": amount_charged, "currency": currency},
        )
    return request


def review_request_assign_workspace(
    *, request: RefundReviewRequest, workspace: Workspace | None, agent: User, now: datetime
) -> RefundReviewRequest:
    """Say which workspace the requester means, when the name and email were ambiguous;
    only before verification (verification is about that workspace)."""
    check_review_agent(agent)
    if request.verified_at is not None:
        raise InvalidTransition(
            "The requester is verified for this workspace already.", field="workspace"
        )
    with transaction.atomic():
        before = request.workspace_id
        request.workspace = workspace
        request.save(update_fields=["workspace"])
        audit_record(
            actor=agent,
            action="review.workspace",
            target=request,
            now=now,
            before={"workspace": before},
            after={"workspace": workspace.pk if workspace else None},
            workspace_id=workspace.pk if workspace else before,
        )
    return request


def policy_grants_refund(payment: Payment, *, now: datetime) -> bool:
    """Whether the policy's refund window covers this payment now: a refund outside it is
    goodwill (Billing lead). The cancellation quote refines this with service deductions;
    a review refund only needs to know whether it is the policy's or our discretion."""
    if payment.subscription_id is None:
        return False
    rules = PolicyRules.from_dict(payment.subscription.policy.rules)
    window = rules.refund_window
    if window is None or payment.kind not in window.refundable_kinds:
        return False
    start = (
        payment.subscription.started_at
        if window.counted_from == WindowFrom.SIGNUP
        else payment.paid_at
    )
    return now <= start + timedelta(days=window.days)


def review_request_propose_refund(
    *,
    request: RefundReviewRequest,
    payment: Payment,
    amount: Decimal,
    agent: User,
    now: datetime,
    destination: str = "",
    reason: str = "",
) -> Refund:
    """Propose a refund of one of the requester's payments (goodwill unless the policy
    grants it); it still needs a second agent's approval."""
    check_review_agent(agent)
    if not agent.has_perm("billing.propose_refund"):
        raise PermissionDenied("You may not propose refunds.", field="status")
    if request.status == Status.SUBMITTED:
        raise PermissionDenied("Verify the requester before changing billing.", field="status")
    ensure_review_transition(request, Status.REFUND_PROPOSED)
    if payment.workspace_id != request.workspace_id:
        raise DomainError("This payment is not the requester's workspace's.", field="payment")
    with transaction.atomic():
        refund = refund_propose(
            payment=payment,
            amount=amount,
            destination=destination,
            actor=agent,
            now=now,
            reason=reason or f"Review request #{request.pk}: {request.get_kind_display()}",
            is_goodwill=not policy_grants_refund(payment, now=now),
            review_request=request,
        )
        request.status = Status.REFUND_PROPOSED
        request.save(update_fields=["status"])
        audit_record(
            actor=agent,
            action="review.propose_refund",
            target=request,
            now=now,
            after={"refund": refund.pk, "amount": amount},
        )
    return refund


def review_request_answer(
    *, request: RefundReviewRequest, agent: User, answer: str, now: datetime
) -> RefundReviewRequest:
    """Answer without a refund; the answer is shown to the customer."""
    check_review_agent(agent)
    if not answer.strip():
        raise DomainError("Write the answer the customer will read.", field="answer")
    ensure_review_transition(request, Status.ANSWERED)
    with transaction.atomic():
        before = request.status
        request.status = Status.ANSWERED
        request.answer = answer.strip()
        request.save(update_fields=["status", "answer"])
        audit_record(
            actor=agent,
            action="review.answer",
            target=request,
            now=now,
            before={"status": before},
            after={"status": "answered"},
            note=request.answer,
        )
    return request


def review_request_outcome(request: RefundReviewRequest, *, payment_visible: bool) -> dict:
    """What the customer sees: the status, our answer and, once proposed, the refund's
    progress (amount and status only), the latter only when `payment_visible` (the
    viewer is a billing member of the request's workspace: see `billing_workspace_ids`).
    Works from `prefetch_related("refunds")`."""
    refund = (
        max(request.refunds.all(), key=lambda r: (r.created_at, r.pk), default=None)
        if payment_visible
        else None
    )
    return {
        "status": request.status,
        "status_display": request.get_status_display(),
        "answer": request.answer,
        "refund": (
            {
                "amount": str(refund.amount),
                "currency": refund.currency,
                "status": refund.status,
                "destination": refund.destination,
                "rejection_reason": refund.rejection_reason,
            }
            if refund
            else None
        ),
    }


def accidental_renewals():
    """Live subscriptions whose latest renewal payment was followed by no activity in the
    workspace (orgix §8/§9 "accidental renewal"), without a refund already proposed on it.
    Annotated with `renewal_id`, `renewal_paid_at` and `renewal_amount`; oldest first."""
    renewals = Payment.objects.filter(
        subscription=OuterRef("pk"),
        kind=Payment.Kind.SUBSCRIPTION,
        status=Payment.Status.SUCCEEDED,
        paid_at__gt=OuterRef("started_at") + RENEWAL_AFTER_SIGNUP,
    ).order_by("-paid_at")
    open_refunds = Refund.objects.filter(payment=OuterRef("renewal_id")).exclude(
        status=Refund.Status.REJECTED
    )
    return (
        Subscription.objects.filter(status__in=Subscription.LIVE_STATUSES)
        .annotate(
            renewal_id=Subquery(renewals.values("pk")[:1]),
            renewal_paid_at=Subquery(renewals.values("paid_at")[:1]),
            renewal_amount=Subquery(renewals.values("amount")[:1]),
        )
        .filter(renewal_id__isnull=False)
        .filter(
            Q(workspace__last_activity_at__isnull=True)
            | Q(workspace__last_activity_at__lt=F("renewal_paid_at"))
        )
        .exclude(Exists(open_refunds))
        .select_related("workspace", "plan")
        .order_by("renewal_paid_at")
    )


def accidental_renewal_propose_refund(
    *, subscription: Subscription, agent: User, now: datetime
) -> Refund:
    """One click from the flagged list: open a cancellation request for the subscription and
    propose refunding the whole renewal (goodwill unless the policy grants it). Both still
    go through approval: the cancellation in its queue, the refund with four eyes."""
    if not agent.has_perm("billing.propose_refund"):
        raise PermissionDenied("You may not propose refunds.", field="status")
    flagged = accidental_renewals().filter(pk=subscription.pk).first()
    if flagged is None:
        raise DomainError(
            "This subscription has no unused renewal waiting for a refund.", field="subscription"
        )
    payment = Payment.objects.select_related("subscription__policy", "workspace").get(
        pk=flagged.renewal_id
    )
    remainder = payment.amount - payment.amount_refunded
    with transaction.atomic():
        cancellation, _ = cancellation_submit(
            workspace=payment.workspace,
            actor=agent,
            reason=CancellationRequest.Reason.NOT_USING,
            reason_text="Accidental renewal flagged by support: no activity since it renewed.",
            now=now,
        )
        return refund_propose(
            payment=payment,
            amount=remainder,
            tax_amount=round_money(payment.tax * remainder / payment.amount, payment.currency),
            destination="",
            actor=agent,
            now=now,
            reason="Accidental renewal: no activity in the workspace since it renewed (orgix §9).",
            is_goodwill=not policy_grants_refund(payment, now=now),
            cancellation=cancellation,
        )
