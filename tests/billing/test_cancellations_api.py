"""Cancellation API: who may call it, what it returns, idempotency, rate limits, schema."""

import hashlib
import json

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from billing.models import CancellationRequest, IdempotencyKey
from tests.factories import UserFactory, WorkspaceMemberFactory
from tests.factories.cancellations import (
    INSIDE_NOTICE,
    MID_PERIOD,
    paid_subscription,
    refundable_connex,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit_url(subscription) -> str:
    return reverse("api:cancellation-submit", args=[subscription.workspace.slug])


def quote_url(subscription) -> str:
    return reverse("api:cancellation-quote", args=[subscription.workspace.slug])


def test_a_token_from_the_token_endpoint_authenticates():
    subscription = paid_subscription("orgix")
    owner = subscription.workspace.owner
    client = APIClient()

    token = client.post(
        "/api/auth/token/", {"username": owner.email, "password": "password"}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.get(quote_url(subscription)).status_code == 200
    assert APIClient().get(quote_url(subscription)).status_code in (401, 403)


def test_quote_shows_refund_due_end_fallback_and_notice():
    subscription = paid_subscription("sync-with-connex")

    with time_machine.travel(INSIDE_NOTICE, tick=False):
        body = client_for(subscription.workspace.owner).get(quote_url(subscription)).json()

    assert body["quote"]["notice_applied"] is True
    assert body["quote"]["ends_at"].startswith("2026-05-01")
    assert body["quote"]["amount_due"] == "100.00"
    assert "7 days" in body["notice"] and body["quote"]["fallback"] == "disabled"


def test_the_quote_names_the_parts_of_the_data_kept_longer():
    """external.md §6 HEY: some account data indefinitely; orgix keeps no part longer."""
    hey = paid_subscription("example-basecamp")
    orgix = paid_subscription("orgix")

    kept = client_for(hey.workspace.owner).get(quote_url(hey)).json()["quote"]["data_kept"]
    none = client_for(orgix.workspace.owner).get(quote_url(orgix)).json()["quote"]["data_kept"]

    assert kept == [
        {
            "what": "Account credentials",
            "until": None,
            "clause": "external.md §6 HEY: some data indefinitely",
        }
    ]
    assert none == []


def test_submit_creates_then_returns_the_open_request(django_capture_on_commit_callbacks):
    subscription = refundable_connex()
    client = client_for(subscription.workspace.owner)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(submit_url(subscription), {"reason": "switched"}, format="json")
    second = client.post(submit_url(subscription), {"reason": "other"}, format="json")

    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["quote"]["refund"] == "100.00" and first.json()["status"] == "submitted"
    assert len(mail.outbox) == 1


def test_a_billing_admin_may_submit_a_member_gets_403_a_stranger_404():
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    admin = WorkspaceMemberFactory(workspace=workspace, billing_admin=True).user
    member = WorkspaceMemberFactory(workspace=workspace).user
    stranger = UserFactory()
    body = {"reason": "too_expensive"}

    assert client_for(member).get(quote_url(subscription)).status_code == 403
    assert client_for(stranger).get(quote_url(subscription)).status_code == 404
    assert client_for(member).post(submit_url(subscription), body).status_code == 403
    assert client_for(stranger).post(submit_url(subscription), body).status_code == 404
    assert client_for(admin).post(submit_url(subscription), body).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "bored"}, "reason"),
        ({"reason": "other", "reason_text": "x" * 2001}, "reason_text"),
        ({}, "reason"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(body, field):
    subscription = paid_subscription("orgix")

    response = client_for(subscription.workspace.owner).post(
        submit_url(subscription), body, format="json"
    )

    assert response.status_code == 400 and field in response.json()["errors"]
    assert not CancellationRequest.objects.exists()


@pytest.mark.parametrize("trait", ["cancelled", "expired"])
def test_an_ended_subscription_is_a_400_naming_the_subscription(trait):
    subscription = paid_subscription("orgix", **{trait: True})
    client = client_for(subscription.workspace.owner)

    quote = client.get(quote_url(subscription))
    submit = client.post(submit_url(subscription), {"reason": "other"})

    assert quote.status_code == submit.status_code == 400
    assert f"already {trait}" in submit.json()["errors"]["subscription"][0]


def test_status_and_withdraw_then_withdrawing_again_is_a_400():
    subscription = paid_subscription("orgix")
    owner = subscription.workspace.owner
    client = client_for(owner)
    pk = client.post(submit_url(subscription), {"reason": "other"}).json()["id"]

    status = client.get(reverse("api:cancellation-status", args=[pk]))
    withdrawn = client.post(reverse("api:cancellation-withdraw", args=[pk]))
    again = client.post(reverse("api:cancellation-withdraw", args=[pk]))

    assert status.status_code == 200 and status.json()["status"] == "submitted"
    assert withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 400 and "status" in again.json()["errors"]
    stranger = client_for(UserFactory())
    assert stranger.get(reverse("api:cancellation-status", args=[pk])).status_code == 404


def test_same_idempotency_key_and_body_replays_the_first_response():
    subscription = paid_subscription("orgix")
    client = client_for(subscription.workspace.owner)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}

    first = client.post(submit_url(subscription), {"reason": "other"}, format="json", **headers)
    replay = client.post(submit_url(subscription), {"reason": "other"}, format="json", **headers)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert CancellationRequest.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_a_422():
    subscription = paid_subscription("orgix")
    client = client_for(subscription.workspace.owner)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-2"}
    client.post(submit_url(subscription), {"reason": "other"}, format="json", **headers)

    response = client.post(
        submit_url(subscription), {"reason": "switched"}, format="json", **headers
    )

    assert response.status_code == 422 and "Idempotency-Key" in response.json()["errors"]


def test_a_key_still_in_progress_is_a_409():
    subscription = paid_subscription("orgix")
    owner = subscription.workspace.owner
    body = {"reason": "other"}
    IdempotencyKey.objects.create(
        user=owner,
        key="k-3",
        scope=f"POST {submit_url(subscription)}",
        request_hash=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
    )

    response = client_for(owner).post(
        submit_url(subscription), body, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )

    assert response.status_code == 409
    assert not CancellationRequest.objects.exists()


def test_idempotency_keys_are_scoped_per_user():
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    admin = WorkspaceMemberFactory(workspace=workspace, billing_admin=True).user
    body = {"reason": "other"}
    client_for(workspace.owner).post(submit_url(subscription), body, HTTP_IDEMPOTENCY_KEY="same")

    response = client_for(admin).post(
        submit_url(subscription), {"reason": "switched"}, HTTP_IDEMPOTENCY_KEY="same"
    )

    assert response.status_code == 200  # not a 422: a fresh key for this user; the open request
    assert "Idempotent-Replayed" not in response


def test_a_failed_request_releases_its_key():
    subscription = paid_subscription("orgix")
    client = client_for(subscription.workspace.owner)

    bad = client.post(submit_url(subscription), {"reason": "nope"}, HTTP_IDEMPOTENCY_KEY="k-4")
    good = client.post(submit_url(subscription), {"reason": "nope"}, HTTP_IDEMPOTENCY_KEY="k-4")

    assert bad.status_code == good.status_code == 400
    assert not IdempotencyKey.objects.exists()


def test_too_many_requests_is_a_429_with_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer": "2/min", "anon": "2/min"},
    }
    subscription = paid_subscription("orgix")
    client = client_for(subscription.workspace.owner)

    codes = [client.get(quote_url(subscription)).status_code for _ in range(3)]
    response = client.get(quote_url(subscription))

    assert codes == [200, 200, 429]
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_schema_and_offline_docs_are_served(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"cancellation_submit" in schema.content
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content and b"unpkg" not in docs.content


def test_the_token_endpoint_is_rate_limited_per_caller(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer": "60/min", "anon": "1/min"},
    }
    client = APIClient()
    wrong = {"username": "nobody@example.com", "password": "guess"}

    first = client.post("/api/auth/token/", wrong)
    second = client.post("/api/auth/token/", wrong)

    assert first.status_code == 400 and second.status_code == 429
    assert "Retry-After" in second


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/workspaces/{slug}/cancellations/" in target.read_text()


def test_session_authenticated_posts_need_a_csrf_token():
    from django.test import Client

    subscription = paid_subscription("orgix")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(subscription.workspace.owner)

    response = browser.post(submit_url(subscription), {"reason": "other"})

    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not CancellationRequest.objects.exists()
