"""Refund-review requests (orgix §9/§18), accidental renewals and customer credit views."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Workspace
from billing.errors import DomainError, PermissionDenied
from billing.models import RefundReviewRequest
from billing.services.credit import credit_add
from billing.services.review_verification import review_request_verify
from billing.services.reviews import (
    accidental_renewal_propose_refund,
    accidental_renewals,
    review_request_answer,
    review_request_propose_refund,
    review_request_submit,
)
from tests.factories import PaymentFactory, SubscriptionFactory, UserFactory, WorkspaceFactory
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def body(workspace, **overrides):
    data = {
        "kind": "accidental_renewal",
        "workspace_name": workspace.name.upper(),
        "billing_email": workspace.billing_email,
        "approximate_payment_date": "2025-02-03",
        "amount_charged": "99.00",
        "currency": "USD",
        "explanation": "We stopped using it in January.",
    }
    return data | overrides


def submit(workspace, **overrides):
    data = body(workspace, **overrides)
    data["approximate_payment_date"] = dt.date.fromisoformat(data["approximate_payment_date"])
    data["amount_charged"] = Decimal(data["amount_charged"])
    return review_request_submit(submitted_by=workspace.owner, now=NOW, **data)


@pytest.fixture
def renewal():
    subscription = SubscriptionFactory(
        current_period_start=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
        current_period_end=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    return PaymentFactory(subscription=subscription, amount=Decimal("100.00"))


def test_a_request_is_matched_to_payments_near_the_date_and_amount(renewal):
    PaymentFactory(
        subscription=renewal.subscription, paid_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    request = submit(renewal.workspace)
    assert request.workspace == renewal.workspace
    assert list(request.candidate_payments.all()) == [renewal]
    assert not submit(renewal.workspace, amount_charged="80.00").candidate_payments.exists()


def test_a_future_payment_date_is_refused_naming_the_field(renewal):
    with pytest.raises(DomainError) as error:
        submit(renewal.workspace, approximate_payment_date="2025-04-01")
    assert error.value.field == "approximate_payment_date"


def test_billing_changes_need_a_verified_requester(renewal):
    request = submit(renewal.workspace)
    with pytest.raises(PermissionDenied, match="Verify"):
        review_request_propose_refund(
            request=request, payment=renewal, amount=Decimal("100"), agent=agent(), now=NOW
        )
    data = body(renewal.workspace) | {"amount_charged": Decimal("99.00")}
    data["approximate_payment_date"] = dt.date(2025, 2, 3)
    stranger = review_request_submit(submitted_by=UserFactory(), now=NOW, **data)
    with pytest.raises(DomainError) as error:
        review_request_verify(request=stranger, agent=agent(), method="member", now=NOW)
    assert error.value.field == "method"
    with pytest.raises(DomainError) as error:
        review_request_verify(request=stranger, agent=agent(), method="manual", now=NOW)
    assert error.value.field == "note"


def test_a_verified_request_gets_a_goodwill_refund_proposal_the_customer_can_follow(renewal):
    request = submit(renewal.workspace)
    review_request_verify(request=request, agent=agent(), method="member", now=NOW)
    refund = review_request_propose_refund(
        request=request, payment=renewal, amount=Decimal("100.00"), agent=agent(), now=NOW
    )
    assert refund.is_goodwill and refund.review_request == request
    client = APIClient()
    client.force_authenticate(renewal.workspace.owner)
    outcome = client.get(f"/api/reviews/{request.pk}/").json()["outcome"]
    assert outcome["status"] == "refund_proposed"
    assert outcome["refund"] == {
        "amount": "100.00",
        "currency": "USD",
        "status": "proposed",
        "destination": "original_payment_method",
        "rejection_reason": "",
    }


def test_an_answer_without_refund_is_shown_and_closes_the_request(renewal):
    request = submit(renewal.workspace)
    with pytest.raises(DomainError):
        review_request_answer(request=request, agent=agent(), answer="", now=NOW)
    review_request_answer(request=request, agent=agent(), answer="No charge found.", now=NOW)
    client = APIClient()
    client.force_login(renewal.workspace.owner)
    page = client.get("/billing/review/")
    assert "No charge found." in page.content.decode()
    with pytest.raises(DomainError):
        review_request_verify(request=request, agent=agent(), method="member", now=NOW)


def test_a_customer_cannot_process_requests():
    customer = UserFactory()
    request = submit(WorkspaceFactory(owner=customer))
    with pytest.raises(PermissionDenied):
        review_request_answer(request=request, agent=customer, answer="ok", now=NOW)


def test_the_api_honours_idempotency_keys(renewal):
    client = APIClient()
    client.force_authenticate(renewal.workspace.owner)
    headers = {"HTTP_IDEMPOTENCY_KEY": "review-1"}
    first = client.post("/api/reviews/", body(renewal.workspace), format="json", **headers)
    again = client.post("/api/reviews/", body(renewal.workspace), format="json", **headers)
    other = client.post(
        "/api/reviews/", body(renewal.workspace, amount_charged="1.00"), format="json", **headers
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert RefundReviewRequest.objects.count() == 1
    invalid = client.post("/api/reviews/", body(renewal.workspace, currency="XXX"), format="json")
    assert invalid.status_code == 400 and "currency" in invalid.json()["errors"]


def test_the_review_form_creates_a_request(renewal):
    client = APIClient()
    client.force_login(renewal.workspace.owner)
    response = client.post("/billing/review/", body(renewal.workspace))
    assert response.status_code == 302
    assert RefundReviewRequest.objects.get().submitted_by == renewal.workspace.owner


def test_an_unused_renewal_is_flagged_and_one_click_proposes_its_refund(renewal):
    Workspace.objects.filter(pk=renewal.workspace_id).update(
        last_activity_at=dt.datetime(2025, 1, 20, tzinfo=dt.UTC)
    )
    active = PaymentFactory(
        subscription=SubscriptionFactory(
            current_period_start=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
            current_period_end=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
            workspace=WorkspaceFactory(last_activity_at=dt.datetime(2025, 2, 5, tzinfo=dt.UTC)),
        )
    )
    assert [s.pk for s in accidental_renewals()] == [renewal.subscription_id]
    assert active.subscription_id not in {s.pk for s in accidental_renewals()}
    refund = accidental_renewal_propose_refund(
        subscription=renewal.subscription, agent=agent(), now=NOW
    )
    assert (refund.amount, refund.status, refund.is_goodwill) == (
        Decimal("100.00"),
        "proposed",
        True,
    )
    assert (refund.cancellation.status, refund.cancellation.subscription_id) == (
        "submitted",
        renewal.subscription_id,
    )
    assert not accidental_renewals().exists()


def test_credit_balance_is_shown_to_billing_members_only(renewal):
    workspace = renewal.workspace
    credit_add(workspace=workspace, amount=Decimal("12.50"), currency="USD", now=NOW, actor=None)
    client = APIClient()
    client.force_authenticate(workspace.owner)
    response = client.get(f"/api/workspaces/{workspace.slug}/credit/")
    assert response.json()["balances"] == {"USD": "12.50"}
    client.force_login(workspace.owner)
    assert "12.50 USD" in client.get(f"/workspaces/{workspace.slug}/credit/").content.decode()
    client.force_authenticate(UserFactory())
    assert client.get(f"/api/workspaces/{workspace.slug}/credit/").status_code == 404
