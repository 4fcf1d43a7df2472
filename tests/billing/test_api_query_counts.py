"""The cancellation API's hot paths in a fixed number of queries, whatever the history.

The quote GET and the submit POST are the customer API's busiest endpoints; `make
bench-api` measures them against a bare view. Their query counts are pinned here (real
token authentication, as clients call them) so a new read cannot creep in unnoticed, and
they must not grow with the workspace's payments, services or add-ons.
"""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.models import CancellationRequest, Payment
from tests.factories import (
    AddOnFactory,
    OnboardingServiceFactory,
    PaymentFactory,
    UserFactory,
    WorkspaceMemberFactory,
)
from tests.factories.cancellations import MID_PERIOD, PERIOD_START, free_plan, paid_subscription

pytestmark = pytest.mark.django_db

# token (with its user), the subscription with its workspace, the caller's seat, plan,
# policy and whether it has services or add-ons, and its payments with their open disputes
# (on PostgreSQL in the subscription's query, as a JSON array; a query of their own elsewhere)
PAYMENTS_APART = 0 if connection.vendor == "postgresql" else 1
QUOTE_QUERIES = 2 + PAYMENTS_APART
# where the policy falls back to a Free plan: that plan with the seats and modules the
# workspace would keep on it (counted in the same query)
FREE_PLAN_FALLBACK = 1
# token, seat, then in one transaction (2 statements: begin and commit, or a savepoint
# and its release): the workspace lock with the open request's id, the subscription (its
# payments as for the quote), and the request with its audit record (one statement on
# PostgreSQL, two saves elsewhere)
SUBMIT_QUERIES = 7 if connection.vendor == "postgresql" else 9
# a services or an add-ons table read only for a subscription that has some
PER_KIND_PRESENT = 1
# a user's first request in the activity interval also stamps their seats and workspaces
# (accounts.services.activity): one statement per table on PostgreSQL; SQLite reads the
# seats, the workspaces' dates and their policies before writing
FIRST_REQUEST_ACTIVITY = 2 if connection.vendor == "postgresql" else 5


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def _with_history(payments: int, *, policy: str = "orgix", services: int = 0, addons: int = 0):
    """A paid subscription with `payments` monthly payments, the latest paying for the
    current period; orgix falls back to its Free plan, sync-with-connex disables."""
    free_plan(policy)
    subscription = paid_subscription(policy, with_payment=False)
    for months_ago in range(payments):
        start = PERIOD_START - dt.timedelta(days=31 * months_ago)
        PaymentFactory(
            subscription=subscription,
            paid_at=start,
            period_start=start,
            period_end=start + dt.timedelta(days=31),
        )
    for _ in range(services):
        OnboardingServiceFactory(subscription=subscription)
    for _ in range(addons):
        AddOnFactory(subscription=subscription)
    return subscription


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _quote(client, subscription):
    return client.get(reverse("api:cancellation-quote", args=[subscription.workspace.slug]))


def _submit(client, subscription):
    return client.post(
        reverse("api:cancellation-submit", args=[subscription.workspace.slug]),
        {"reason": "too_expensive"},
        format="json",
    )


def _returning_client(subscription) -> APIClient:
    """The owner's token client, after one request: the activity write of a user's first
    request in the interval (accounts.middleware) is not this endpoint's cost."""
    client = _token_client(subscription.workspace.owner)
    assert _quote(client, subscription).status_code == 200
    return client


@pytest.mark.parametrize("payments", [3, 30])
@pytest.mark.parametrize(
    ("policy", "queries"),
    [("sync-with-connex", QUOTE_QUERIES), ("orgix", QUOTE_QUERIES + FREE_PLAN_FALLBACK)],
)
def test_the_quote_costs_a_fixed_number_of_queries_whatever_the_payments(
    policy, queries, payments, django_assert_num_queries
):
    subscription = _with_history(payments, policy=policy)
    client = _returning_client(subscription)

    with django_assert_num_queries(queries):
        response = _quote(client, subscription)

    assert response.status_code == 200
    assert response.json()["quote"]["policy"] == f"{policy}@1"


@pytest.mark.parametrize("payments", [3, 30])
def test_the_submit_costs_a_fixed_number_of_queries_whatever_the_payments(
    payments, django_assert_num_queries
):
    subscription = _with_history(payments)
    client = _returning_client(subscription)

    with django_assert_num_queries(SUBMIT_QUERIES):
        response = _submit(client, subscription)

    assert response.status_code == 201
    request = CancellationRequest.objects.get(pk=response.json()["id"])
    assert len(request.snapshot["payments"]) == payments


def test_a_user_s_first_request_adds_only_the_activity_write(django_assert_num_queries):
    subscription = _with_history(3, policy="sync-with-connex")
    client = _token_client(subscription.workspace.owner)

    with django_assert_num_queries(QUOTE_QUERIES + FIRST_REQUEST_ACTIVITY):
        assert _quote(client, subscription).status_code == 200
    with django_assert_num_queries(QUOTE_QUERIES):
        assert _quote(client, subscription).status_code == 200

    subscription.workspace.refresh_from_db()
    assert subscription.workspace.last_activity_at == MID_PERIOD


@pytest.mark.parametrize("many", [1, 10])
def test_services_and_add_ons_cost_one_query_each_however_many(many, django_assert_num_queries):
    subscription = _with_history(3, policy="sync-with-connex", services=many, addons=many)
    client = _returning_client(subscription)

    with django_assert_num_queries(QUOTE_QUERIES + 2 * PER_KIND_PRESENT):
        assert _quote(client, subscription).status_code == 200
    with django_assert_num_queries(SUBMIT_QUERIES + 2 * PER_KIND_PRESENT):
        response = _submit(client, subscription)

    snapshot = CancellationRequest.objects.get(pk=response.json()["id"]).snapshot
    assert (len(snapshot["services"]), len(snapshot["addons"])) == (many, many)


def test_the_stored_snapshot_is_the_one_the_quote_was_computed_from():
    subscription = _with_history(3, addons=1)
    PaymentFactory(subscription=subscription, status=Payment.Status.FAILED)
    client = _returning_client(subscription)

    quote = _quote(client, subscription).json()["quote"]
    request = CancellationRequest.objects.get(pk=_submit(client, subscription).json()["id"])

    assert request.quote["refund"] == quote["refund"]
    assert [p["ref"] for p in request.snapshot["payments"]] == [
        str(p.pk)
        for p in subscription.payments.filter(status=Payment.Status.SUCCEEDED).order_by("paid_at")
    ]
    assert request.snapshot["addons"][0]["quantity"] == 5


def test_the_quote_keeps_its_answers_off_the_one_query_path():
    """The single-query lookup falls back to the step-by-step checks, so a member still
    gets a 403, a stranger or a deleted workspace a 404, a Free plan or an already
    cancelled subscription a 400 naming the subscription."""
    subscription = _with_history(1)
    workspace = subscription.workspace
    member = WorkspaceMemberFactory(workspace=workspace).user
    billing_admin = WorkspaceMemberFactory(workspace=workspace, billing_admin=True).user

    assert _quote(_token_client(member), subscription).status_code == 403
    assert _quote(_token_client(UserFactory()), subscription).status_code == 404
    assert _quote(_token_client(billing_admin), subscription).status_code == 200

    owner = _token_client(workspace.owner)
    subscription.cancel_effective_at = MID_PERIOD + dt.timedelta(days=5)
    subscription.save(update_fields=["cancel_effective_at"])
    already = _quote(owner, subscription)
    assert already.status_code == 400
    assert "already cancelled" in already.json()["errors"]["subscription"][0]

    subscription.cancel_effective_at = None
    subscription.plan = free_plan()
    subscription.save(update_fields=["cancel_effective_at", "plan"])
    free = _quote(owner, subscription)
    assert free.status_code == 400 and "Free plan" in free.json()["errors"]["subscription"][0]

    workspace.status = workspace.Status.DELETED
    workspace.save(update_fields=["status"])
    assert _quote(owner, subscription).status_code == 404
