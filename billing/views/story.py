"""The whole story of a cancellation request, as the customer reads it on the status page:
each step with its date, each refund's progress, the last day of access and until when
data is kept. Read-only; three queries (the request's audit trail, its refunds, nothing
per row)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.models import AuditRecord
from billing.models import CancellationRequest, Refund
from billing.services.cancellations import FALLBACK_LABELS

Status = CancellationRequest.Status


@dataclass(frozen=True)
class Step:
    label: str
    when: datetime | None = None
    detail: str = ""
    state: str = "done"  # done | bad | next (not yet happened)


@dataclass(frozen=True)
class RefundProgress:
    refund: Refund
    steps: tuple[Step, ...]

    @property
    def headline(self) -> str:
        refund = self.refund
        where = (
            "to your customer credit"
            if refund.destination == Refund.Destination.CUSTOMER_CREDIT
            else "to your original payment method"
        )
        return f"{refund.amount} {refund.currency} {where}"


def _moments(request: CancellationRequest) -> dict[str, datetime]:
    """When each status was reached, from the audit trail (first time each)."""
    moments: dict[str, datetime] = {}
    records = AuditRecord.objects.filter(
        target_type=CancellationRequest._meta.label,
        target_id=str(request.pk),
        action__startswith="cancellation.",
    ).order_by("created_at", "pk")
    for action, created_at in records.values_list("action", "created_at"):
        moments.setdefault(action.removeprefix("cancellation."), created_at)
    return moments


def request_steps(request: CancellationRequest) -> list[Step]:
    moments = _moments(request)
    steps = [Step("Submitted", request.created_at)]
    if "in_review" in moments:
        steps.append(Step("In review", moments["in_review"], "A support agent is looking at it."))
    fallback = FALLBACK_LABELS.get(request.quote.get("fallback"), "")
    if request.status == Status.WITHDRAWN:
        steps.append(Step("Withdrawn", moments.get("withdrawn"), state="bad"))
        steps.append(Step("Nothing changed: your subscription continues.", state="next"))
        return steps
    if request.status == Status.REJECTED:
        steps.append(Step("Rejected", request.decided_at, request.rejection_reason, state="bad"))
        steps.append(Step("Your subscription continues unchanged.", state="next"))
        return steps
    if request.is_open:
        steps.append(Step("Waiting for a decision", state="next"))
        steps.append(Step(f"Ends on {request.effective_at:%-d %B %Y}, if approved", state="next"))
        return steps
    steps.append(
        Step(
            "Approved",
            request.decided_at,
            f"The subscription ends on {request.effective_at:%-d %B %Y, %H:%M} UTC.",
        )
    )
    if request.status == Status.COMPLETED:
        steps.append(Step("Completed", request.completed_at, f"The workspace is now {fallback}."))
    else:
        steps.append(
            Step(
                f"Ends on {request.effective_at:%-d %B %Y}",
                detail=f"Afterwards the workspace is {fallback}.",
                state="next",
            )
        )
    return steps


def _refund_steps(refund: Refund, quoted_at: datetime) -> tuple[Step, ...]:
    to_credit = refund.destination == Refund.Destination.CUSTOMER_CREDIT
    paid = "Added to your credit" if to_credit else "Paid to your card"
    steps = [Step("Quoted", quoted_at, f"{refund.amount} {refund.currency}")]
    if refund.status == Refund.Status.PROPOSED:
        steps.append(Step("Waiting for approval by our billing team", state="next"))
        steps.append(Step(paid, state="next"))
        return tuple(steps)
    if refund.status == Refund.Status.REJECTED:
        steps.append(Step("Not approved", refund.decided_at, refund.rejection_reason, "bad"))
        return tuple(steps)
    steps.append(Step("Approved", refund.decided_at))
    if refund.status == Refund.Status.SUCCEEDED:
        steps.append(Step(paid, refund.completed_at, f"{refund.amount} {refund.currency}"))
    elif refund.status == Refund.Status.FAILED:
        steps.append(Step("The payment provider refused it; our team is retrying", state="bad"))
    else:
        steps.append(Step(f"{paid}: on its way", state="next"))
    return tuple(steps)


def refund_progress(request: CancellationRequest) -> list[RefundProgress]:
    refunds = Refund.objects.filter(cancellation=request).order_by("created_at", "pk")
    return [RefundProgress(refund, _refund_steps(refund, request.created_at)) for refund in refunds]


def quoted_refund(request: CancellationRequest) -> Decimal:
    return Decimal(request.quote.get("refund", "0"))
