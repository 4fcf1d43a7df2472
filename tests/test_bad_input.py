"""The bad inputs the audit found, each answered with a message naming the field and
nothing changed (no 500). The fuzz tests (tests/fuzz/) cover the rest of each class."""

import hashlib
import hmac
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import AuditRecord
from billing.models import RefundPolicy, RefundReviewRequest, WebhookEvent
from tests.factories import PaymentFactory, UserFactory
from tests.factories.refunds import agent, staff

pytestmark = pytest.mark.django_db
SCENARIOS = Path(settings.BASE_DIR) / "scenarios"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("tax", "message"),
    [("-1.00", "tax"), ("30.01", "tax part must be between 0")],
)
def test_a_refund_proposal_with_a_tax_outside_0_and_the_amount_is_a_400(tax, message):
    payment = PaymentFactory(amount=Decimal("100.00"))
    body = {"payment": payment.pk, "amount": "30.00", "tax_amount": tax, "reason": "x"}

    response = api_for(agent()).post("/api/refunds/", body, format="json")

    assert response.status_code == 400
    assert message in json.dumps(response.json()["errors"]["tax_amount"])
    assert not payment.refunds.exists()


def test_the_admin_propose_form_refuses_a_tax_above_the_amount(client):
    payment = PaymentFactory(amount=Decimal("100.00"))
    client.force_login(agent())

    response = client.post(
        f"/admin/billing/refund/propose/{payment.pk}/",
        {"amount": "30.00", "tax_amount": "31.00", "reason": "x"},
    )

    assert response.status_code == 200
    assert "tax part must be between 0" in response.content.decode()
    assert not payment.refunds.exists()


def test_the_admin_propose_page_needs_the_propose_refund_permission(client):
    payment = PaymentFactory()
    viewer = staff("Support agent")
    viewer.groups.clear()
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_refund", "view_payment"])
    )
    client.force_login(viewer)
    url = f"/admin/billing/refund/propose/{payment.pk}/"

    page = client.get(url)
    posted = client.post(url, {"amount": "10.00", "tax_amount": "0", "reason": "x"})

    assert (page.status_code, posted.status_code) == (403, 403)
    assert not payment.refunds.exists()


REVIEW = {
    "kind": "accidental_payment",
    "workspace_name": "Acme",
    "billing_email": "billing@acme.example",
    "approximate_payment_date": "2026-01-10",
    "amount_charged": "35.00",
    "currency": "EUR",
    "explanation": "Charged twice",
}
BAD_REVIEWS = [
    ("approximate_payment_date", "0001-01-01"),
    ("approximate_payment_date", "1999-12-31"),
    ("billing_email", "a" * 250 + "@example.com"),
    ("amount_charged", "999999999999.99"),
]


@pytest.mark.parametrize(("field", "value"), BAD_REVIEWS)
def test_a_bad_review_request_is_a_400_naming_the_field_on_the_api(field, value):
    response = api_for(UserFactory()).post(
        "/api/reviews/", REVIEW | {field: value}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not RefundReviewRequest.objects.exists()


@pytest.mark.parametrize(("field", "value"), BAD_REVIEWS)
def test_a_bad_review_request_is_a_form_error_on_the_page(client, field, value):
    client.force_login(UserFactory())

    response = client.post("/billing/review/", REVIEW | {field: value})

    assert response.status_code == 200
    assert response.context["form"].errors.get(field)
    assert not RefundReviewRequest.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/auditrecord/?q=%C2%B2",
        "/admin/accounts/auditrecord/?q=99999999999999999999999",
        "/admin/accounts/deletiontombstone/?q=%C2%B2",
        "/admin/authtoken/tokenproxy/?q=owner",
        "/admin/billing/refundpolicy/simulator/?subscription=%C2%B2",
        "/admin/billing/refundpolicy/simulator/?subscription=99999999999999999999999",
    ],
)
def test_admin_searches_and_ids_that_are_not_numbers_answer_a_page(admin_client, url):
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("value", ["abc", "²", "99999999999999999999999", ""])
def test_an_accidental_renewal_post_with_a_bad_subscription_is_a_message(admin_client, value):
    response = admin_client.post(
        "/admin/billing/refund/accidental-renewals/", {"subscription": value}, follow=True
    )

    assert response.status_code == 200
    assert "No such subscription." in [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("key", "value"),
    [("cancel_at", "9999-05-25T08:00:00Z"), ("period_end", "9999-06-15T08:00:00Z")],
)
def test_a_simulator_scenario_in_year_9999_is_a_form_error(admin_client, key, value):
    scenario = json.loads((SCENARIOS / "orgix-monthly.json").read_text()) | {key: value}
    policy = RefundPolicy.objects.filter(slug="orgix").first()

    response = admin_client.post(
        "/admin/billing/refundpolicy/simulator/",
        {"policy": policy.pk, "scenario": json.dumps(scenario)},
    )

    assert response.status_code == 200
    assert "between 2000 and 2100" in str(response.context["form"].errors["scenario"])


WEBHOOK_SECRET = "whsec_test_secret"


def _signed_post(client, payload: bytes):
    timestamp = int(time.time())
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return client.post(
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}",
    )


MALFORMED_EVENTS = [
    {"id": "evt_1", "type": "refund.updated"},
    {"id": "evt_2", "type": "refund.updated", "created": "yesterday", "data": {"object": {}}},
    {"id": 7, "type": "refund.updated", "created": 1_700_000_000, "data": {"object": {}}},
    {"id": "evt_3", "type": "refund.updated", "created": 1_700_000_000, "data": []},
    {
        "id": "evt_4",
        "type": "charge.dispute.created",
        "created": 1_700_000_000,
        "data": {"object": {"id": "dp_1", "charge": "ch_known"}},
    },
    {"id": "evt_5", "type": "refund.updated", "created": 10**20, "data": {"object": {}}},
    [1, 2, 3],
]


@pytest.mark.parametrize("event", MALFORMED_EVENTS)
def test_a_validly_signed_malformed_stripe_event_is_a_400_and_logged(
    client, settings, caplog, event
):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    PaymentFactory(provider="stripe", provider_reference="ch_known")

    response = _signed_post(client, json.dumps(event).encode())

    assert response.status_code == 400
    assert "Malformed Stripe event" in response.json()["detail"]
    assert "malformed Stripe event" in caplog.text
    assert not WebhookEvent.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="dispute").exists()


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no/such/endpoint/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such API endpoint.", "errors": {}}
