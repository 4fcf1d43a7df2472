"""Support cases on a paid subscription: disputes, cancellation requests, refunds, refund
review requests, and the audit records of the decisions already taken."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import AuditRecord, Workspace
from billing.models import (
    CancellationRequest,
    CreditEntry,
    Dispute,
    Payment,
    Refund,
    RefundReviewRequest,
)
from billing.money import round_money

from .rows import IdOf, Row


class CasesMixin:
    def _cases(self, subscription: Row) -> None:
        rng = self.rng
        if subscription.status == "suspended" and (rng.random() < 0.5 or self.showcase):
            self._dispute(Dispute.Status.OPEN)
        elif subscription.status == "active" and rng.random() < 0.03:
            self._dispute(rng.choice((Dispute.Status.WON, Dispute.Status.LOST)))
        if subscription.cancel_at_period_end:
            self._cancellation(subscription, CancellationRequest.Status.APPROVED)
        elif subscription.status == "active" and (rng.random() < 0.04 or self._is(5)):
            self._cancellation(
                subscription,
                rng.choice((CancellationRequest.Status.SUBMITTED, "in_review")),
            )
        if subscription.status == "cancelled" and (rng.random() < 0.4 or self.showcase):
            self._refund(subscription)
        if self.spec.policy_slug == "orgix" and (rng.random() < 0.02 or self._is(10)):
            self._review_request()

    def _dispute(self, status: str) -> None:
        paid = self._paid()
        if not paid:
            return
        payment = paid[-1]
        opened = self._past(payment.paid_at + dt.timedelta(days=self.rng.randint(5, 40)))
        closed = None
        if status == Dispute.Status.OPEN:
            self.workspace.suspension_reason = Workspace.SuspensionReason.CHARGEBACK
        else:
            closed = self._past(opened + dt.timedelta(days=30))
            if status == Dispute.Status.LOST:
                payment.status = Payment.Status.LOST
        self.batch.add(
            Dispute,
            payment=payment,
            status=status,
            amount=payment.amount,
            currency=payment.currency,
            reason=self.rng.choice(("fraudulent", "product_not_received", "duplicate")),
            provider_reference=f"dp_{self.rng.getrandbits(64):016x}",
            opened_at=opened,
            closed_at=closed,
        )

    def _cancellation(self, subscription: Row, status: str) -> None:
        asked = self.now - dt.timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(1, 9))
        created = self._past(asked, after=subscription.current_period_start)
        decided = status == CancellationRequest.Status.APPROVED
        decided_at = self._past(created + dt.timedelta(hours=2)) if decided else None
        request = self.batch.add(
            CancellationRequest,
            workspace=self.workspace,
            subscription=subscription,
            requested_by=self.owner,
            status=status,
            reason=self.rng.choice(CancellationRequest.Reason.values),
            quote={},
            quoted_refund=Decimal(0),
            currency=self.currency,
            effective_at=subscription.current_period_end,
            decided_by=self.ctx.agent if decided else None,
            decided_at=decided_at,
            created_at=created,
        )
        if decided:
            self._audit("cancellation.approve", request, decided_at)

    def _refund(self, subscription: Row) -> None:
        paid = [p for p in self._paid() if p.kind == Payment.Kind.SUBSCRIPTION]
        if not paid:
            return
        payment = paid[-1]
        amount = round_money(payment.amount / 2, self.currency)
        tax = round_money(payment.tax / 2, self.currency)
        to_credit = self.spec.policy_slug == "prorated-credit"
        payment.amount_refunded = amount
        decided = self._past(subscription.cancelled_at or payment.paid_at, after=payment.paid_at)
        completed = self._past(decided + dt.timedelta(hours=1))
        refund = self.batch.add(
            Refund,
            payment=payment,
            workspace=self.workspace,
            status=Refund.Status.SUCCEEDED,
            amount=amount,
            tax_amount=tax,
            currency=self.currency,
            destination=(
                Refund.Destination.CUSTOMER_CREDIT
                if to_credit
                else Refund.Destination.ORIGINAL_PAYMENT_METHOD
            ),
            reason="Unused part of the period (demo data).",
            proposed_by=self.ctx.agent,
            decided_by=self.ctx.agent,
            decided_at=decided,
            idempotency_key=f"demo-refund-{self.spec.slug}",
            provider_reference="" if to_credit else f"re_{self.rng.getrandbits(64):016x}",
            attempts=0 if to_credit else 1,
            created_at=decided,
            completed_at=completed,
        )
        if to_credit:
            self.batch.add(
                CreditEntry,
                workspace=self.workspace,
                kind=CreditEntry.Kind.REFUND,
                amount=amount,
                currency=self.currency,
                refund=refund,
                payment=payment,
                memo="Prorated credit for the unused period",
                created_at=completed,
            )
        self._audit("refund.approve", refund, decided)

    def _review_request(self) -> None:
        paid = self._paid()
        if not paid:
            return
        payment = paid[-1]
        asked = self.now - dt.timedelta(days=self.rng.randint(0, 10))
        self.batch.add(
            RefundReviewRequest,
            workspace=self.workspace,
            submitted_by=self.owner,
            kind=RefundReviewRequest.Kind.ACCIDENTAL_RENEWAL,
            workspace_name=self.workspace.name,
            billing_email=self.workspace.billing_email,
            approximate_payment_date=payment.paid_at.date(),
            amount_charged=payment.amount,
            currency=payment.currency,
            explanation="We meant to cancel before the renewal (demo data).",
            created_at=self._past(asked, after=payment.paid_at),
        )

    def _audit(self, action: str, target: Row, when: dt.datetime) -> None:
        """An audit row for a past decision; its ids resolve once the target is written."""
        self.batch.add(
            AuditRecord,
            actor=self.ctx.agent,
            actor_label=self.ctx.agent.email,
            action=action,
            target_type=target.model._meta.label,
            target_id=IdOf(target),
            workspace_id=self.workspace,
            created_at=when,
        )
