"""Customer pages: preview and confirm, status and withdraw, roles, CSRF, bad input."""

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.models import CancellationRequest
from billing.services.cancellations import cancellation_reject, cancellation_submit
from tests.factories import SubscriptionFactory, UserFactory, WorkspaceMemberFactory
from tests.factories.cancellations import (
    INSIDE_NOTICE,
    MID_PERIOD,
    crowd,
    free_plan,
    make_agent,
    paid_subscription,
    refundable_connex,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def cancel_url(workspace) -> str:
    return reverse("billing:cancellation", args=[workspace.slug])


def status_url(workspace) -> str:
    return reverse("billing:cancellation-status", args=[workspace.slug])


def test_home_lists_the_users_workspaces_with_links():
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace

    page = signed_in(workspace.owner).get("/").content.decode()

    assert workspace.name in page and cancel_url(workspace) in page
    assert Client().get("/").status_code == 302


def test_the_page_shows_what_the_customer_gets_back_and_the_free_limits():
    subscription = paid_subscription("orgix")
    free_plan("orgix")
    crowd(subscription.workspace, seats=5)

    page = signed_in(subscription.workspace.owner).get(cancel_url(subscription.workspace))

    html = page.content.decode()
    assert page.status_code == 200
    assert "0.00 USD" in html and "1 April 2026" in html
    assert "moved to the Free plan" in html and "allows 3 seats; this workspace uses 5" in html
    assert "30 June 2026" in html  # data kept 90 days after the end
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_explains_the_notice_period_before_confirming():
    subscription = paid_subscription("sync-with-connex")

    with time_machine.travel(INSIDE_NOTICE, tick=False):
        html = signed_in(subscription.workspace.owner).get(cancel_url(subscription.workspace))

    text = html.content.decode()
    assert "at least 7 days before the renewal" in text and "1 May 2026" in text
    assert "100.00 USD" in text  # still owed for the following period


def test_the_connex_page_shows_the_refund_and_where_it_goes():
    subscription = refundable_connex()

    html = signed_in(subscription.workspace.owner).get(cancel_url(subscription.workspace))

    assert "100.00 USD to your original payment method" in html.content.decode()


def test_confirming_submits_emails_and_shows_the_status(django_capture_on_commit_callbacks):
    subscription = paid_subscription("prorated-credit")
    workspace = subscription.workspace
    admin = WorkspaceMemberFactory(workspace=workspace, billing_admin=True).user
    client = signed_in(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cancel_url(workspace), {"reason": "not_using", "reason_text": "x"})

    assert response.status_code == 302 and response["Location"] == status_url(workspace)
    request = CancellationRequest.objects.get()
    assert request.requested_by == admin and request.quote["destination"] == "customer_credit"
    assert mail.outbox[0].subject == "We received your cancellation request"
    status = client.get(status_url(workspace)).content.decode()
    assert "Submitted" in status and "Withdraw my request" in status
    assert client.get(cancel_url(workspace)).status_code == 302  # open request: go to status


def test_a_member_gets_403_and_a_stranger_404():
    workspace = paid_subscription("orgix").workspace
    member = WorkspaceMemberFactory(workspace=workspace).user

    for url in (cancel_url(workspace), status_url(workspace)):
        assert signed_in(member).get(url).status_code == 403
        assert signed_in(UserFactory()).get(url).status_code == 404
    assert signed_in(member).post(cancel_url(workspace), {"reason": "other"}).status_code == 403
    assert not CancellationRequest.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "bored"}, "Reason: Select a valid choice"),
        ({"reason": "other", "reason_text": "x" * 2001}, "Reason text: Ensure this value"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(data, message):
    workspace = paid_subscription("orgix").workspace

    response = signed_in(workspace.owner).post(cancel_url(workspace), data)

    assert response.status_code == 400 and message in response.content.decode()
    assert not CancellationRequest.objects.exists()


@pytest.mark.parametrize("state", ["free", "cancelled", "expired"])
def test_nothing_to_cancel_is_a_400_naming_the_subscription(state):
    if state == "free":
        workspace = SubscriptionFactory(plan=free_plan("orgix")).workspace
    else:
        workspace = paid_subscription("orgix", **{state: True}).workspace
    client = signed_in(workspace.owner)

    page = client.get(cancel_url(workspace))
    response = client.post(cancel_url(workspace), {"reason": "other"})

    assert "Subscription:" in page.content.decode() and "Confirm cancellation" not in (
        page.content.decode()
    )
    assert response.status_code == 400 and "Subscription:" in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_browser_posts_need_a_csrf_token():
    workspace = paid_subscription("orgix").workspace
    client = signed_in(workspace.owner, enforce_csrf_checks=True)

    refused = client.post(cancel_url(workspace), {"reason": "other"})
    page = client.get(cancel_url(workspace)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = client.post(cancel_url(workspace), {"reason": "other", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 302 and CancellationRequest.objects.count() == 1


def test_withdraw_asks_for_confirmation_then_withdrawing_again_is_a_400_naming_the_status():
    workspace = paid_subscription("orgix").workspace
    request, _ = cancellation_submit(
        workspace=workspace, actor=workspace.owner, reason="other", reason_text="", now=MID_PERIOD
    )
    client = signed_in(workspace.owner)
    url = reverse("billing:cancellation-withdraw", args=[workspace.slug, request.pk])

    confirmation = client.get(url)
    request.refresh_from_db()
    first = client.post(url)
    again = client.post(url)

    assert confirmation.status_code == 200 and request.status == "submitted"
    assert "Yes, withdraw my request" in confirmation.content.decode()
    assert first.status_code == 302
    assert again.status_code == 400 and "Status: The request is withdrawn" in again.content.decode()
    assert client.get(url).status_code == 302
    assert "Start a new cancellation" in client.get(status_url(workspace)).content.decode()


def test_the_customer_sees_the_rejection_reason():
    workspace = paid_subscription("orgix").workspace
    request, _ = cancellation_submit(
        workspace=workspace, actor=workspace.owner, reason="other", reason_text="", now=MID_PERIOD
    )
    cancellation_reject(
        request=request, actor=make_agent(), reason="Your contract runs to June", now=MID_PERIOD
    )

    html = signed_in(workspace.owner).get(status_url(workspace)).content.decode()

    assert "Rejected" in html and "Your contract runs to June" in html


def test_login_page_renders_and_signs_in():
    user = UserFactory(email="ann@example.com")
    client = Client()

    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": user.email, "password": "password"})

    assert response.status_code == 302 and response["Location"] == "/"


def test_page_posts_share_the_customer_rate_limit_and_change_nothing_over_it(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer": "2/min", "anon": "2/min"},
    }
    workspace = paid_subscription("orgix").workspace
    client = signed_in(workspace.owner)
    bad = {"reason": "bored"}

    codes = [client.post(cancel_url(workspace), bad).status_code for _ in range(2)]
    over = client.post(cancel_url(workspace), {"reason": "too_expensive"})

    assert codes == [400, 400]
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert "Nothing was changed" in over.content.decode()
    assert not CancellationRequest.objects.exists()
    assert client.get(cancel_url(workspace)).status_code == 200


def test_the_login_form_is_rate_limited_per_address(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer": "60/min", "anon": "1/min"},
    }
    client = Client()
    wrong = {"username": "nobody@example.com", "password": "guess"}

    first = client.post(reverse("login"), wrong)
    second = client.post(reverse("login"), wrong)

    assert (first.status_code, second.status_code) == (200, 429)
    assert "Retry-After" in second
