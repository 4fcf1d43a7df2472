"""Two agents approving refunds of the same payment at the same moment, on PostgreSQL:
the payment row lock lets exactly one through when together they exceed the payment."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.errors import DomainError
from billing.models import Refund
from billing.services.refunds import refund_approve, refund_propose
from tests.factories import PaymentFactory
from tests.factories.refunds import agent, lead

pytestmark = pytest.mark.postgres("row locks (SQLite serialises writers)")


def test_concurrent_approvals_never_over_refund_a_payment(
    transactional_db, django_db_serialized_rollback, monkeypatch
):
    monkeypatch.setattr("billing.services.refunds._schedule_execution", lambda refund_id: None)
    payment = PaymentFactory(amount=Decimal("100.00"))
    proposer = agent()
    refunds = [
        refund_propose(
            payment=payment,
            amount=Decimal("60.00"),
            destination="",
            actor=proposer,
            now=timezone.now(),
        )
        for _ in range(2)
    ]
    approvers = [lead(), lead()]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve(refund, approver):
        try:
            barrier.wait(timeout=10)
            refund_approve(refund=refund, actor=approver, now=timezone.now())
            results.append("approved")
        except DomainError as error:
            results.append(error.field)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=pair) for pair in zip(refunds, approvers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["amount", "approved"]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("60.00")
    assert Refund.objects.filter(status="approved").count() == 1
