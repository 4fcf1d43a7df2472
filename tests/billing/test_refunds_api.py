"""Staff refund API: idempotent POSTs, four eyes and refusals as documented errors."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import Refund
from tests.factories import PaymentFactory, UserFactory
from tests.factories.refunds import DisputeFactory, agent, lead

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_propose_then_approve_with_idempotency_keys():
    payment = PaymentFactory(amount=Decimal("100.00"))
    proposer = client_for(agent())
    body = {"payment": payment.pk, "amount": "30.00", "reason": "Double charge"}
    first = proposer.post("/api/refunds/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    again = proposer.post("/api/refunds/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert Refund.objects.count() == 1
    refund_id = first.json()["id"]

    own = proposer.post(f"/api/refunds/{refund_id}/approve/", HTTP_IDEMPOTENCY_KEY="a-1")
    assert own.status_code == 403 and "Four eyes" in own.json()["detail"]
    approver = client_for(lead())
    approved = approver.post(f"/api/refunds/{refund_id}/approve/", HTTP_IDEMPOTENCY_KEY="a-2")
    replay = approver.post(f"/api/refunds/{refund_id}/approve/", HTTP_IDEMPOTENCY_KEY="a-2")
    assert approved.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("30.00")


def test_a_refusal_is_a_400_naming_the_field_and_customers_are_forbidden():
    payment = PaymentFactory()
    DisputeFactory(payment=payment)
    body = {"payment": payment.pk, "amount": "10.00", "reason": "x"}
    refused = client_for(agent()).post("/api/refunds/", body, format="json")
    assert refused.status_code == 400
    assert "dispute" in refused.json()["errors"]["payment"][0]
    assert client_for(UserFactory()).post("/api/refunds/", body, format="json").status_code == 403


def test_reject_needs_a_reason():
    payment = PaymentFactory()
    proposer = client_for(agent())
    refund_id = proposer.post(
        "/api/refunds/", {"payment": payment.pk, "amount": "5.00", "reason": "x"}, format="json"
    ).json()["id"]
    approver = client_for(lead())
    assert approver.post(f"/api/refunds/{refund_id}/reject/", {}).status_code == 400
    rejected = approver.post(f"/api/refunds/{refund_id}/reject/", {"reason": "Not eligible"})
    assert rejected.json()["status"] == "rejected"
