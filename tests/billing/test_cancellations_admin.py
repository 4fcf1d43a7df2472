"""The agents' cancellation queue: columns without per-row queries, filters, search,
the change page, and actions that call the services and audit."""

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditRecord
from billing.models import CancellationRequest, Refund, Subscription
from billing.services.cancellations import cancellation_submit
from tests.factories import OnboardingServiceFactory, UserFactory
from tests.factories.cancellations import (
    MID_PERIOD,
    PERIOD_START,
    make_agent,
    paid_subscription,
)

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:billing_cancellationrequest_changelist")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


@pytest.fixture
def agent_client():
    client = Client()
    client.force_login(make_agent())
    return client


def requested(slug: str = "orgix", **kwargs) -> CancellationRequest:
    subscription = paid_subscription(slug, **kwargs)
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=MID_PERIOD,
    )
    return request


def act(client: Client, action: str, *requests, queue: str = QUEUE, **extra):
    data = {"action": action, "_selected_action": [r.pk for r in requests], **extra}
    return client.post(queue, data, follow=True)


def test_the_queue_costs_the_same_queries_for_more_rows(agent_client):
    requested("orgix")
    agent_client.get(QUEUE)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert agent_client.get(QUEUE).status_code == 200
    requested("connex", started_at=PERIOD_START)
    for slug in ("sync-with-connex", "prorated-credit", "orgix"):
        requested(slug)

    with CaptureQueriesContext(connection) as many:
        page = agent_client.get(QUEUE).content.decode()

    assert len(many) == len(few)
    assert "orgix@1" in page and "100.00 USD" in page and "Pro / monthly" in page
    assert "By policy" in page and "By plan interval" in page and "By age" in page


def test_the_queue_leaves_quotes_snapshots_and_policy_rules_in_the_database(agent_client):
    """The columns read none of them; decoding them for 50 rows cost more than the queries."""
    requested("orgix")
    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get(QUEUE).content.decode()

    listing = [q["sql"] for q in queries if 'FROM "billing_cancellationrequest" INNER' in q["sql"]]
    assert listing and "orgix@1" in page
    for column in ('."quote"', '."snapshot"', '."rules"'):
        assert not [sql for sql in listing if column in sql], column


@pytest.mark.parametrize(
    "query",
    [
        "status=submitted",
        "policy=connex",
        "plan_interval=month",
        "reason__exact=too_expensive",
        "age=day",
    ],
)
def test_filters_keep_matching_requests(agent_client, query):
    request = requested("connex", started_at=PERIOD_START)

    page = agent_client.get(f"{QUEUE}?{query}").content.decode()

    assert request.workspace.slug in page


def test_the_age_filter_drops_younger_requests(agent_client):
    request = requested("orgix")

    page = agent_client.get(f"{QUEUE}?age=older").content.decode()

    assert request.workspace.slug not in page


def test_search_by_slug_and_billing_email(agent_client):
    request = requested("orgix")
    other = requested("connex", started_at=PERIOD_START)

    by_slug = agent_client.get(f"{QUEUE}?q={request.workspace.slug}").content.decode()
    by_email = agent_client.get(f"{QUEUE}?q={other.workspace.billing_email}").content.decode()

    assert request.workspace.slug in by_slug
    assert other.workspace.slug in by_email and request.workspace.slug not in by_email


def test_the_change_page_shows_quote_lines_payments_services_and_retention(agent_client):
    request = requested("connex", started_at=PERIOD_START)
    OnboardingServiceFactory(subscription=request.subscription)

    page = agent_client.get(
        reverse("admin:billing_cancellationrequest_change", args=[request.pk])
    ).content.decode()

    assert "connex §" in page  # a clause of a quote line
    assert "Subscription payment" in page and "100.00 USD" in page
    assert "30-minute preliminary call" in page
    assert "Data kept until" in page and "8 Jun 2026" in page
    assert reverse("admin:accounts_workspace_change", args=[request.workspace_id]) in page


def test_assign_to_me_moves_to_review_and_audits(agent_client):
    request = requested("orgix")

    act(agent_client, "assign_to_me", request)

    request.refresh_from_db()
    assert request.status == "in_review" and request.assigned_to.email == "agent@support.example"
    assert AuditRecord.objects.filter(action="cancellation.in_review").exists()


def test_approve_proposes_the_quoted_refund_and_applies_an_immediate_end(agent_client):
    request = requested("connex", started_at=PERIOD_START)

    page = act(agent_client, "approve", request).content.decode()

    request.refresh_from_db()
    assert "Approved: 1 request(s)" in page
    assert request.status == "completed"
    assert Refund.objects.get().amount == request.quoted_refund
    assert Subscription.objects.get(pk=request.subscription_id).status == "cancelled"
    assert AuditRecord.objects.filter(action="cancellation.approved").exists()


def test_approve_refuses_several_at_once(agent_client):
    first, second = requested("orgix"), requested("orgix")

    page = act(agent_client, "approve", first, second).content.decode()

    assert "Approve one request at a time" in page
    assert set(CancellationRequest.objects.values_list("status", flat=True)) == {"submitted"}


def test_bulk_approve_skips_requests_with_a_refund(agent_client):
    with_refund, without = requested("connex", started_at=PERIOD_START), requested("orgix")

    page = act(agent_client, "bulk_approve_without_refund", with_refund, without).content.decode()

    with_refund.refresh_from_db()
    without.refresh_from_db()
    assert f"Skipped 1 request(s) with a quoted refund: #{with_refund.pk}" in page
    assert (with_refund.status, without.status) == ("submitted", "approved")
    assert not Refund.objects.exists()


def test_reject_asks_for_a_reason_then_rejects(agent_client):
    request = requested("orgix")

    form = act(agent_client, "reject", request)
    done = act(agent_client, "reject", request, apply="Reject", reason="Contract runs to June")

    assert "The customer sees this reason" in form.content.decode()
    assert "Rejected: 1 request(s)" in done.content.decode()
    request.refresh_from_db()
    assert request.status == "rejected" and request.rejection_reason == "Contract runs to June"


def test_rejecting_an_approved_request_is_reported_naming_the_status(agent_client):
    request = requested("orgix")
    act(agent_client, "bulk_approve_without_refund", request)

    page = act(
        agent_client,
        "reject",
        request,
        queue=f"{QUEUE}?status=all",
        apply="Reject",
        reason="Too late",
    ).content.decode()

    assert "status: The request is approved and cannot become rejected" in page


def test_an_agent_without_the_process_permission_cannot_act():
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_cancellationrequest"))
    client = Client()
    client.force_login(viewer)
    request = requested("orgix")

    act(client, "bulk_approve_without_refund", request)

    request.refresh_from_db()
    assert request.status == "submitted"
    assert "Assign to me" not in client.get(QUEUE).content.decode()
