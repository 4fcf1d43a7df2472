"""Property: whatever agents and the gateway do, a payment is never over-refunded and every
succeeded refund moved money exactly once; nothing else moved money."""

import contextlib
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from billing.errors import DomainError
from billing.gateways import GatewayError
from billing.models import Refund
from billing.services.refunds import (
    RefundRetryable,
    refund_approve,
    refund_execute,
    refund_propose,
    refund_reject,
    refund_retry,
)
from tests.factories import PaymentFactory
from tests.factories.refunds import FakeGateway, agent, lead

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("80.00"), places=2)
picks = st.integers(min_value=0, max_value=20)
outcomes = st.sampled_from(["ok", "declined", "retryable", "retryable-final"])


class RefundLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.payment = PaymentFactory(amount=Decimal("100.00"))
        self.proposer, self.approver = agent(), lead()
        self.gateway = FakeGateway()
        self.refunds: list[Refund] = []

    def pick(self, index: int) -> Refund | None:
        return self.refunds[index % len(self.refunds)] if self.refunds else None

    @rule(amount=amounts, credit=st.booleans())
    def propose(self, amount, credit):
        try:
            refund = refund_propose(
                payment=self.payment,
                amount=amount,
                destination="customer_credit" if credit else "",
                actor=self.proposer,
                now=timezone.now(),
            )
        except DomainError:
            return
        self.refunds.append(refund)

    @rule(index=picks)
    def approve(self, index):
        if refund := self.pick(index):
            with contextlib.suppress(DomainError):
                refund_approve(refund=refund, actor=self.approver, now=timezone.now())

    @rule(index=picks)
    def reject(self, index):
        if refund := self.pick(index):
            with contextlib.suppress(DomainError):
                refund_reject(refund=refund, actor=self.approver, reason="no", now=timezone.now())

    @rule(index=picks, outcome=outcomes)
    def execute(self, index, outcome):
        refund = self.pick(index)
        if refund is None:
            return
        if outcome != "ok":
            retryable = outcome.startswith("retryable")
            self.gateway.fail_next = [GatewayError(outcome, retryable=retryable)]
        with contextlib.suppress(RefundRetryable):
            refund_execute(
                refund_id=refund.pk,
                now=timezone.now(),
                gateway=self.gateway,
                final_attempt=outcome != "retryable",
            )
        self.gateway.fail_next = []

    @rule(index=picks)
    def retry(self, index):
        if refund := self.pick(index):
            with contextlib.suppress(DomainError):
                refund_retry(refund=refund, actor=self.approver, now=timezone.now())

    @invariant()
    def never_over_refunded(self):
        self.payment.refresh_from_db()
        committed = sum(
            (r.amount for r in self.payment.refunds.filter(status__in=Refund.COMMITTED_STATUSES)),
            Decimal(0),
        )
        assert self.payment.amount_refunded == committed <= self.payment.amount

    @invariant()
    def succeeded_refunds_moved_money_exactly_once(self):
        for refund in self.payment.refunds.annotate(credit_entry_count=Count("credit_entry")):
            moved = self.gateway.moved.get(refund.idempotency_key, [])
            credited = refund.credit_entry_count
            if refund.status == Refund.Status.SUCCEEDED:
                assert len(moved) + credited == 1
            else:
                assert len(moved) + credited == 0


@pytest.mark.django_db
def test_refunds_never_exceed_the_payment_and_move_money_once():
    run_state_machine_as_test(
        RefundLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
