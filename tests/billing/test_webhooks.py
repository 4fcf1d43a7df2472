"""Stripe webhooks: real signatures (t=...,v1=HMAC-SHA256), replays and stale events."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Payment, Refund, WebhookEvent
from billing.services.refunds import refund_approve, refund_propose
from tests.factories import PaymentFactory, SubscriptionFactory, WorkspaceFactory
from tests.factories.refunds import agent, lead

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"
URL = "/webhooks/stripe/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def signed(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    timestamp = at or int(time.time())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def event(event_id: str, kind: str, obj: dict, created: int = 1_700_000_000) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": created,
        "data": {"object": obj},
    }


def post(client, body: dict, **kwargs):
    payload = json.dumps(body).encode()
    return client.post(
        URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=kwargs.get("signature") or signed(payload),
    )


def processing_refund() -> Refund:
    payment = PaymentFactory(provider="stripe", provider_reference="ch_1")
    refund = refund_propose(
        payment=payment,
        amount=Decimal("10.00"),
        destination="",
        actor=agent(),
        now=timezone.now(),
    )
    refund_approve(refund=refund, actor=lead(), now=timezone.now())
    Refund.objects.filter(pk=refund.pk).update(status="processing", provider_reference="re_1")
    return refund


def test_an_invalid_signature_is_rejected_and_nothing_is_recorded(client):
    body = event("evt_1", "refund.updated", {"id": "re_1", "status": "succeeded"})
    payload = json.dumps(body).encode()
    response = post(client, body, signature=signed(payload, secret="whsec_other"))
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_signature_too_old_is_rejected(client):
    body = event("evt_1", "refund.updated", {"id": "re_1", "status": "succeeded"})
    payload = json.dumps(body).encode()
    response = post(client, body, signature=signed(payload, at=int(time.time()) - 3600))
    assert response.status_code == 400


def test_a_refund_event_finishes_a_processing_refund_and_a_replay_does_nothing(client):
    refund = processing_refund()
    body = event("evt_1", "refund.updated", {"id": "re_1", "status": "succeeded"})
    assert post(client, body).json()["outcome"] == "processed"
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert post(client, body).json()["outcome"] == "replayed"
    assert WebhookEvent.objects.count() == 1


def test_an_older_event_arriving_late_is_not_applied(client):
    refund = processing_refund()
    failed = event(
        "evt_2",
        "refund.updated",
        {"id": "re_1", "status": "failed", "failure_reason": "lost_or_stolen_card"},
        created=1_700_000_100,
    )
    late_success = event("evt_1", "refund.updated", {"id": "re_1", "status": "succeeded"})
    assert post(client, failed).json()["outcome"] == "processed"
    assert post(client, late_success).json()["outcome"] == "stale"
    refund.refresh_from_db()
    assert (refund.status, refund.failure_message) == ("failed", "Stripe: lost_or_stolen_card")


def test_dispute_events_open_then_close_the_dispute_even_out_of_order(client):
    payment = PaymentFactory(provider="stripe", provider_reference="ch_9")
    dispute = {
        "id": "dp_1",
        "charge": "ch_9",
        "amount": 10000,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "lost",
    }
    closed = event("evt_b", "charge.dispute.closed", dispute, created=1_700_000_500)
    created = event("evt_a", "charge.dispute.created", dispute | {"status": "needs_response"})
    assert post(client, closed).json()["outcome"] == "processed"
    assert post(client, created).json()["outcome"] == "stale"
    payment.refresh_from_db()
    assert payment.status == "lost"
    assert list(payment.disputes.values_list("status", flat=True)) == ["lost"]


def test_a_failed_invoice_payment_is_recorded_and_the_subscription_enters_dunning(client):
    workspace = WorkspaceFactory(slug="acme")
    subscription = SubscriptionFactory(workspace=workspace)
    invoice = {
        "id": "in_1",
        "currency": "usd",
        "amount_due": 4900,
        "metadata": {"workspace": "acme"},
        "last_finalization_error": {"message": "Your card has insufficient funds."},
    }
    assert post(client, event("evt_i", "invoice.payment_failed", invoice)).status_code == 200
    payment = Payment.objects.get(provider_reference="in_1")
    assert (payment.status, payment.amount, payment.failure_message) == (
        "failed",
        Decimal("49.00"),
        "Your card has insufficient funds.",
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.dunning_attempts) == ("past_due", 1)
    assert subscription.next_retry_at > subscription.past_due_since
    workspace.refresh_from_db()
    assert (workspace.status, workspace.suspension_reason) == ("restricted", "non_payment")


def test_an_event_for_an_unknown_object_is_acknowledged_and_ignored(client):
    body = event("evt_x", "refund.updated", {"id": "re_unknown", "status": "succeeded"})
    response = post(client, body)
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


def test_charge_refunded_finishes_the_refunds_it_lists(client):
    refund = processing_refund()
    charge = {"id": "ch_1", "refunds": {"data": [{"id": "re_1", "status": "succeeded"}]}}
    assert post(client, event("evt_c", "charge.refunded", charge)).json()["outcome"] == (
        "processed"
    )
    refund.refresh_from_db()
    assert refund.status == "succeeded"


def test_a_dispute_created_event_suspends_the_workspace_once(client):
    payment = PaymentFactory(provider="stripe", provider_reference="pi_7")
    dispute = {"id": "dp_7", "payment_intent": "pi_7", "amount": 5000, "currency": "usd"}
    assert post(client, event("evt_d", "charge.dispute.created", dispute)).json()["outcome"] == (
        "processed"
    )
    assert post(client, event("evt_d", "charge.dispute.created", dispute)).json()["outcome"] == (
        "replayed"
    )
    payment.workspace.refresh_from_db()
    assert payment.workspace.suspension_reason == "chargeback"
    assert payment.disputes.get().amount == Decimal("50.00")
