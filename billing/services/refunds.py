"""Refund services. A refund moves proposed → approved/rejected → processing →
succeeded/failed (`billing.states.REFUND_TRANSITIONS`); failed → processing on retry.

Invariants:
- `Payment.amount_refunded` is the sum of the payment's committed refunds (approved,
  processing, succeeded, failed) and never exceeds `Payment.amount`. Only `refund_approve`
  raises it, under a lock on the payment row, after re-reading the remainder. A failed
  refund keeps its share reserved: it can only be retried (there is no failed → rejected
  transition), so releasing it would let another approval take money the retry still needs.
- Money moves at most once per refund: `refund_execute` claims the refund with a
  conditional UPDATE, the gateway receives the refund's own idempotency key (the provider
  returns the first refund on a repeat), and a credit refund writes the one `CreditEntry`
  allowed per refund (a one-to-one column).
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum

from accounts.models import User, Workspace
from accounts.services.audit import audit_record
from backoffice.task_queue import enqueue
from billing.errors import DomainError, InvalidTransition, PermissionDenied, RefundRefused
from billing.gateways import GatewayError, PaymentGateway, get_gateway
from billing.models import (
    CancellationRequest,
    CreditEntry,
    Dispute,
    Payment,
    Refund,
    RefundReviewRequest,
)
from billing.money import ZERO
from billing.policy.rules import Destination, PolicyRules
from billing.quote_snapshots import payment_snapshot
from billing.services.credit import credit_add
from billing.services.customer_emails import customer_email_on_commit
from billing.states import REFUND_TRANSITIONS, ensure_transition

OPEN_CHARGEBACK_CLAUSE = "orgix §11 / §17"
NOT_OUR_PAYMENT = ("internal_membership",)


class RefundRetryable(Exception):
    """A gateway error worth retrying later; the Celery task retries on it with backoff."""


def committed_refunds(payment: Payment) -> Decimal:
    total = payment.refunds.filter(status__in=Refund.COMMITTED_STATUSES).aggregate(
        total=Sum("amount")
    )["total"]
    return total or ZERO


def payment_policy_rules(payment: Payment) -> PolicyRules | None:
    """The rules of the policy the paid subscription is under (None for a payment without
    a subscription, which no policy governs)."""
    if payment.subscription_id is None:
        return None
    return PolicyRules.from_dict(payment.subscription.policy.rules)


def refund_refusal(payment: Payment, *, is_goodwill: bool) -> str | None:
    """Why the policy refuses any refund of this payment, naming the clause, or None.

    An open dispute always refuses: the money is already contested with the bank, and a
    refund on top would pay the customer twice (orgix §11). A workspace suspended for misuse
    is refused where the policy lists that refusal (orgix §17). A kind the policy never
    refunds is refused unless the refund is proposed as goodwill under a policy that allows
    case-by-case review (orgix §8: "unless Orgix decides otherwise case by case"); such a
    refund still needs a Billing lead. Internal membership payments are never ours to refund
    (orgix §15).
    """
    rules = payment_policy_rules(payment)
    refusals = {r.code: r for r in rules.refusals} if rules else {}
    if payment.disputes.filter(status=Dispute.Status.OPEN).exists():
        refusal = refusals.get("open_chargeback")
        clause = refusal.clause.ref if refusal else OPEN_CHARGEBACK_CLAUSE
        return f"A chargeback or payment dispute is open on this payment ({clause})."
    workspace = payment.workspace
    misuse = refusals.get("suspended_for_misuse")
    if misuse and workspace.suspension_reason == Workspace.SuspensionReason.MISUSE:
        return f"{misuse.message} ({misuse.clause.ref})"
    if payment.kind in NOT_OUR_PAYMENT:
        return "Internal payments are refunded by the organisation that collected them (§15)."
    if rules and payment.kind in rules.never_refunded_kinds:
        if is_goodwill and rules.case_by_case_review:
            return None
        label = payment.get_kind_display().lower()
        suffix = "" if rules.case_by_case_review else ", with no case-by-case exception"
        return f"The {rules.name} policy never refunds {label} payments{suffix}."
    return None


def _resolve_destination(payment: Payment, destination: str) -> str:
    """The policy's destination; an agent may pick customer credit where the policy allows
    a choice. An empty `destination` (or the policy's own, as a quote carries it) means
    "what the policy says"."""
    if destination and destination not in (*Refund.Destination.values, Destination.NONE):
        raise DomainError(f"Unknown refund destination {destination!r}.", field="destination")
    rules = payment_policy_rules(payment)
    if rules is None:
        return destination or Refund.Destination.ORIGINAL_PAYMENT_METHOD
    default = rules.refund_destination
    if default == Destination.NONE:
        default = Destination.CUSTOMER_CREDIT
    if destination in ("", rules.refund_destination.value, default.value):
        return default.value
    if destination == Refund.Destination.CUSTOMER_CREDIT and rules.destination_choice_allowed:
        return destination
    raise RefundRefused(
        f"The {rules.name} policy refunds to {default.value.replace('_', ' ')} only.",
        field="destination",
    )


def refund_propose(
    *,
    payment: Payment,
    amount: Decimal,
    destination: str,
    actor: User | None,
    now: datetime,
    tax_amount: Decimal = ZERO,
    reason: str = "",
    is_goodwill: bool = False,
    cancellation: CancellationRequest | None = None,
    review_request: RefundReviewRequest | None = None,
    quote: dict[str, Any] | None = None,
) -> Refund:
    """Propose a refund of `amount` of `payment`; it waits for a second agent's approval.

    `destination=""` takes the policy's destination. Raises `RefundRefused` (with the
    clause) when the policy refuses, `DomainError` for an impossible amount.
    """
    if amount <= 0:
        raise DomainError("A refund must be a positive amount.", field="amount")
    if not ZERO <= tax_amount <= amount:
        raise DomainError(
            "The tax part must be between 0 and the refund's amount.", field="tax_amount"
        )
    if payment.status != Payment.Status.SUCCEEDED:
        raise DomainError("Only a succeeded payment can be refunded.", field="payment")
    refusal = refund_refusal(payment, is_goodwill=is_goodwill)
    if refusal:
        raise RefundRefused(refusal, field="payment")
    destination = _resolve_destination(payment, destination)
    remainder = payment.amount - committed_refunds(payment)
    if amount > remainder:
        raise DomainError(
            f"At most {remainder} {payment.currency} of this payment can still be refunded.",
            field="amount",
        )
    with transaction.atomic():
        refund = Refund.objects.create(
            payment=payment,
            workspace_id=payment.workspace_id,
            cancellation=cancellation,
            review_request=review_request,
            amount=amount,
            tax_amount=tax_amount,
            currency=payment.currency,
            destination=destination,
            is_goodwill=is_goodwill,
            reason=reason,
            quote=quote or {},
            snapshot=cancellation.snapshot if cancellation else payment_snapshot(payment),
            proposed_by=actor,
            idempotency_key=f"refund-{uuid.uuid4()}",
            created_at=now,
        )
        audit_record(
            actor=actor,
            action="refund.propose",
            target=refund,
            now=now,
            after={"amount": amount, "destination": destination, "goodwill": is_goodwill},
            note=reason,
        )
    return refund


def needs_billing_lead(refund: Refund) -> bool:
    return refund.is_goodwill or refund.amount > settings.REFUND_LEAD_APPROVAL_THRESHOLD


def refund_approval_blocker(refund: Refund, actor: User) -> str | None:
    """Why `actor` may not approve this refund (permission, four eyes, Billing lead
    threshold), or None. The admin shows it on a disabled button; approval enforces it."""
    if not actor.has_perm("billing.approve_refund"):
        return "You may not approve refunds."
    if refund.proposed_by_id is not None and refund.proposed_by_id == actor.pk:
        return "Four eyes: the agent who proposed a refund cannot approve it."
    if needs_billing_lead(refund) and not actor.has_perm("billing.approve_large_refund"):
        why = "a goodwill refund" if refund.is_goodwill else "above the approval threshold"
        return f"Only a Billing lead may approve {why}."
    return None


def _check_approver(refund: Refund, actor: User) -> None:
    blocker = refund_approval_blocker(refund, actor)
    if blocker:
        raise PermissionDenied(blocker, field="status")


def refund_approve(*, refund: Refund, actor: User, now: datetime) -> Refund:
    """Approve and schedule execution. Locks the payment row, then re-checks the policy
    refusals and the remainder, so concurrent approvals can't over-refund a payment."""
    _check_approver(refund, actor)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        ensure_transition(REFUND_TRANSITIONS, locked.status, "approved", what="This refund")
        if payment.status != Payment.Status.SUCCEEDED:
            raise DomainError("Only a succeeded payment can be refunded.", field="payment")
        refusal = refund_refusal(payment, is_goodwill=locked.is_goodwill)
        if refusal:
            raise RefundRefused(refusal, field="payment")
        remainder = payment.amount - payment.amount_refunded
        if locked.amount > remainder:
            raise DomainError(
                f"Only {remainder} {payment.currency} of this payment is left to refund.",
                field="amount",
            )
        Payment.objects.filter(pk=payment.pk).update(
            amount_refunded=F("amount_refunded") + locked.amount
        )
        locked.status = Refund.Status.APPROVED
        locked.decided_by = actor
        locked.decided_at = now
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="refund.approve",
            target=locked,
            now=now,
            before={"status": "proposed", "payment_committed": payment.amount_refunded},
            after={"status": "approved", "payment_committed": committed_after(payment, locked)},
        )
        transaction.on_commit(lambda: _schedule_execution(locked.pk))
    return locked


def committed_after(payment: Payment, refund: Refund) -> Decimal:
    return payment.amount_refunded + refund.amount


def refund_reject(*, refund: Refund, actor: User, reason: str, now: datetime) -> Refund:
    """Reject a proposal. Rejecting moves no money, so no four eyes, but a reason is
    required: it is what the customer or the proposing agent is told."""
    if not actor.has_perm("billing.approve_refund"):
        raise PermissionDenied("You may not reject refunds.", field="status")
    if not reason.strip():
        raise DomainError("Say why the refund is rejected.", field="reason")
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        ensure_transition(REFUND_TRANSITIONS, locked.status, "rejected", what="This refund")
        locked.status = Refund.Status.REJECTED
        locked.rejection_reason = reason.strip()
        locked.decided_by = actor
        locked.decided_at = now
        locked.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="refund.reject",
            target=locked,
            now=now,
            before={"status": "proposed"},
            after={"status": "rejected"},
            note=locked.rejection_reason,
        )
        customer_email_on_commit("refund_rejected", object_id=locked.pk)
    return locked


def refund_retry(*, refund: Refund, actor: User, now: datetime) -> Refund:
    """An agent retries a failed refund: failed → processing, and the task runs again with
    the same idempotency key (a refund the provider already made is not made again)."""
    if not actor.has_perm("billing.approve_refund"):
        raise PermissionDenied("You may not retry refunds.", field="status")
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        ensure_transition(REFUND_TRANSITIONS, locked.status, "processing", what="This refund")
        Refund.objects.filter(pk=locked.pk, status=Refund.Status.FAILED).update(
            status=Refund.Status.PROCESSING, failure_message=""
        )
        audit_record(
            actor=actor,
            action="refund.retry",
            target=locked,
            now=now,
            before={"status": "failed", "failure_message": locked.failure_message},
            after={"status": "processing"},
        )
        transaction.on_commit(lambda: _schedule_execution(locked.pk))
    locked.refresh_from_db()
    return locked


def _schedule_execution(refund_id: int) -> None:
    enqueue("billing.execute_refund", refund_id)


def refund_execute(
    *,
    refund_id: int,
    now: datetime,
    gateway: PaymentGateway | None = None,
    final_attempt: bool = True,
) -> Refund:
    """Move the money of an approved refund (the Celery task's body).

    Claims approved → processing with a conditional UPDATE; a refund already processing
    (a task retry, or an agent's retry) is executed again with the same idempotency key.
    A payment made from customer credit is refunded to credit whatever the destination.
    A dispute opened since approval fails the refund instead of paying twice.
    Any other status means another run finished it: nothing happens. A retryable gateway
    error raises `RefundRetryable` unless `final_attempt`; otherwise the refund is marked
    failed with the provider's message.
    """
    claimed = Refund.objects.filter(pk=refund_id, status=Refund.Status.APPROVED).update(
        status=Refund.Status.PROCESSING, attempts=F("attempts") + 1
    )
    refund = Refund.objects.select_related("payment", "workspace").get(pk=refund_id)
    if refund.status != Refund.Status.PROCESSING:
        return refund
    if not claimed:
        Refund.objects.filter(pk=refund_id).update(attempts=F("attempts") + 1)
    payment = refund.payment
    blocked = _execution_blocked(payment)
    if blocked:
        return _finish(refund, status=Refund.Status.FAILED, now=now, message=blocked)
    if (
        refund.destination == Refund.Destination.CUSTOMER_CREDIT
        or payment.provider == Payment.Provider.CREDIT
    ):
        return _execute_as_credit(refund, now=now)
    try:
        gateway = gateway or get_gateway(payment.provider)
        result = gateway.refund(
            payment_reference=payment.provider_reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=refund.idempotency_key,
        )
    except GatewayError as error:
        if error.retryable and not final_attempt:
            Refund.objects.filter(pk=refund_id).update(failure_message=error.message[:500])
            raise RefundRetryable(error.message) from error
        return _finish(refund, status=Refund.Status.FAILED, now=now, message=error.message)
    return _finish(refund, status=Refund.Status.SUCCEEDED, now=now, reference=result.reference)


def _execution_blocked(payment: Payment) -> str:
    """A dispute opened (or was lost) after approval: paying out now could pay the
    customer twice. The refund fails with this message; an agent retries it once the
    dispute is won."""
    if payment.status == Payment.Status.LOST:
        return "The payment was lost to a chargeback; it cannot be refunded."
    if payment.disputes.filter(status=Dispute.Status.OPEN).exists():
        return f"A dispute opened on this payment after approval ({OPEN_CHARGEBACK_CLAUSE})."
    return ""


def _execute_as_credit(refund: Refund, *, now: datetime) -> Refund:
    with transaction.atomic():
        if not CreditEntry.objects.filter(refund=refund).exists():
            credit_add(
                workspace=refund.workspace,
                amount=refund.amount,
                currency=refund.currency,
                now=now,
                actor=None,
                refund=refund,
                memo=f"Refund #{refund.pk}",
            )
        return _finish(refund, status=Refund.Status.SUCCEEDED, now=now, reference="credit")


def _finish(
    refund: Refund, *, status: str, now: datetime, reference: str = "", message: str = ""
) -> Refund:
    with transaction.atomic():
        changed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PROCESSING).update(
            status=status,
            provider_reference=reference or refund.provider_reference,
            failure_message=message[:500],
            completed_at=now if status == Refund.Status.SUCCEEDED else None,
        )
        if changed:
            audit_record(
                actor=None,
                action=f"refund.{status}",
                target=refund,
                now=now,
                before={"status": "processing"},
                after={"status": status, "provider_reference": reference},
                note=message,
            )
            if status == Refund.Status.SUCCEEDED:
                customer_email_on_commit("refund_paid", object_id=refund.pk)
    refund.refresh_from_db()
    return refund


def refund_mark_from_provider(
    *, refund: Refund, succeeded: bool, message: str, now: datetime
) -> bool:
    """The provider told us (webhook) how a refund that is still processing ended. A
    refund we already finished is left alone (terminal states never move back).
    Returns whether it changed anything."""
    if refund.status != Refund.Status.PROCESSING:
        return False
    status = Refund.Status.SUCCEEDED if succeeded else Refund.Status.FAILED
    return _finish(refund, status=status, now=now, message=message).status == status


def refund_choose_destination(
    *, refund: Refund, destination: str, actor: User, now: datetime
) -> Refund:
    """Change where a proposed refund goes, within what the policy allows."""
    if not actor.has_perm("billing.propose_refund"):
        raise PermissionDenied("You may not change refunds.", field="destination")
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if locked.status != Refund.Status.PROPOSED:
            raise InvalidTransition(
                "Only a proposed refund's destination can change.", field="destination"
            )
        chosen = _resolve_destination(locked.payment, destination)
        if chosen == locked.destination:
            return locked
        audit_record(
            actor=actor,
            action="refund.destination",
            target=locked,
            now=now,
            before={"destination": locked.destination},
            after={"destination": chosen},
        )
        locked.destination = chosen
        locked.save(update_fields=["destination"])
    return locked
