"""Refund services. A refund moves proposed → approved/rejected → processing →
succeeded/failed (`billing.states.REFUND_TRANSITIONS`).

Invariant: approved, processing, succeeded and failed refunds on a payment never add up
to more than the payment; approval locks the payment row to keep it so.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from accounts.services.audit import audit_record
from billing.errors import DomainError
from billing.models import CancellationRequest, Payment, Refund, RefundReviewRequest
from billing.money import ZERO


def committed_refunds(payment: Payment) -> Decimal:
    total = payment.refunds.filter(status__in=Refund.COMMITTED_STATUSES).aggregate(
        total=Sum("amount")
    )["total"]
    return total or ZERO


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
    if amount <= 0:
        raise DomainError("A refund must be a positive amount.", field="amount")
    if payment.status != Payment.Status.SUCCEEDED:
        raise DomainError("Only a succeeded payment can be refunded.", field="payment")
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
