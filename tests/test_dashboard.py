"""The admin index is the agents' dashboard: counts that link to the filtered queues and
charts, each figure checked against data counted by hand, at a query count that does not
grow with the rows."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditRecord
from billing.dashboard import (
    approval_time,
    cancellations_per_week,
    dunning_outcomes,
    refunds_per_month,
    work_counts,
)
from billing.models import CancellationRequest, Refund
from tests.factories import PaymentFactory, SubscriptionFactory, WorkspaceFactory
from tests.factories.refunds import DisputeFactory, RefundFactory, agent, lead, review_for

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)  # a Wednesday
INDEX = reverse("admin:index")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _cancellation(created_at, *, status="submitted", reason="too_expensive"):
    subscription = SubscriptionFactory()
    return CancellationRequest.objects.create(
        workspace=subscription.workspace,
        subscription=subscription,
        status=status,
        reason=reason,
        quote={},
        currency="USD",
        effective_at=created_at,
        created_at=created_at,
    )


def _figures(user) -> dict[str, int]:
    return {figure.label: figure.count for figure in work_counts(user, now=NOW)}


def _world(proposer):
    """Hand-counted: 2 open requests (oldest 3 days), 1 approved; refunds: 1 small and 1
    large proposed by `proposer`'s colleague, 1 own, 2 failed, 1 succeeded; 1 review to
    verify; 1 workspace due in 3 days, 1 due in 10 days, 1 due in 3 days on legal hold;
    2 subscriptions in dunning; 1 open and 1 closed dispute."""
    _cancellation(NOW - dt.timedelta(days=3))
    _cancellation(NOW - dt.timedelta(hours=5), status="in_review")
    _cancellation(NOW - dt.timedelta(days=1), status="approved")
    colleague = agent()
    RefundFactory(proposed_by=colleague, amount=Decimal("40.00"))
    RefundFactory(proposed_by=colleague, amount=Decimal("900.00"), payment__amount=Decimal("900"))
    RefundFactory(proposed_by=proposer, amount=Decimal("20.00"))
    RefundFactory(status=Refund.Status.FAILED)
    RefundFactory(status=Refund.Status.FAILED)
    RefundFactory(status=Refund.Status.SUCCEEDED)
    review_for(PaymentFactory())
    WorkspaceFactory(deletion_due_at=NOW + dt.timedelta(days=3))
    WorkspaceFactory(deletion_due_at=NOW + dt.timedelta(days=10))
    WorkspaceFactory(deletion_due_at=NOW + dt.timedelta(days=3), legal_hold=True)
    SubscriptionFactory(status="past_due")
    SubscriptionFactory(status="suspended")
    DisputeFactory()
    DisputeFactory(status="won")


def test_the_counts_match_the_hand_counted_data_for_an_agent():
    me = agent()
    _world(me)

    figures = _figures(me)

    assert figures == {
        "Open cancellation requests": 2,
        "Refunds awaiting my approval": 1,  # not my own, not the large one
        "Refunds needing a Billing lead": 1,
        "Failed refunds": 2,
        "Review requests to verify": 1,
        "Deletions due within 7 days": 1,
        "Subscriptions in dunning": 2,
        "Open disputes": 1,
    }
    oldest = work_counts(me, now=NOW)[0]
    assert oldest.detail == "oldest 3 days" and oldest.urgent


def test_a_billing_lead_awaits_the_large_refund_too():
    me = lead()
    _world(me)

    assert _figures(me)["Refunds awaiting my approval"] == 2


def test_each_count_links_to_its_filtered_queue(client):
    me = agent()
    _world(me)
    client.force_login(me)

    for figure in work_counts(me, now=NOW):
        response = client.get(figure.url)
        assert response.status_code == 200, figure.label
        assert response.context["cl"].result_count == figure.count, figure.label


def test_the_dashboard_is_the_admin_index_and_draws_offline(client):
    client.force_login(agent())

    page = client.get(INDEX).content.decode()

    assert "Open cancellation requests" in page
    assert "/static/vendor/chartjs/chart.umd.js" in page
    assert 'id="chart-cancellations"' in page and 'id="cancellations"' in page
    assert "All records" in page  # the app list is still there


def _index_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    return len(queries)


def test_the_dashboard_query_count_does_not_grow_with_rows(client):
    me = agent()
    client.force_login(me)
    _index_queries(client)  # warm the session and permission caches
    few = _index_queries(client)

    _world(me)
    _world(agent())
    for weeks in range(6):
        _cancellation(NOW - dt.timedelta(weeks=weeks), reason="switched")

    assert _index_queries(client) == few


def test_cancellations_per_week_by_reason_counts_each_week():
    _cancellation(NOW - dt.timedelta(days=1))  # Tuesday this week
    _cancellation(NOW - dt.timedelta(days=2), reason="switched")  # Monday this week
    _cancellation(NOW - dt.timedelta(days=3))  # Sunday: last week
    _cancellation(NOW - dt.timedelta(weeks=20))  # outside the window

    chart = cancellations_per_week(now=NOW, weeks=12)

    assert chart["labels"][-2:] == ["9 Nov", "16 Nov"]
    series = {d["label"]: d["data"] for d in chart["datasets"]}
    assert series["Too expensive"][-2:] == [1, 1]
    assert series["Switched to another product"][-1] == 1
    assert sum(sum(data) for data in series.values()) == 3


def test_refunds_per_month_sums_committed_amounts_by_destination_and_currency():
    october = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    for amount, destination, status in [
        ("10.00", "original_payment_method", "succeeded"),
        ("15.50", "original_payment_method", "approved"),
        ("7.25", "customer_credit", "succeeded"),
        ("99.00", "original_payment_method", "rejected"),  # not committed
    ]:
        RefundFactory(
            amount=Decimal(amount), destination=destination, status=status, created_at=october
        )
    RefundFactory(amount=Decimal("3.00"), status="processing", created_at=NOW)

    chart = refunds_per_month(now=NOW, months=12)

    assert chart["labels"][-2:] == ["Oct 2026", "Nov 2026"]
    series = {d["label"]: d["data"] for d in chart["datasets"]}
    assert series["Original payment method (USD)"][-2:] == ["25.50", "3.00"]
    assert series["Customer credit (USD)"][-2:] == ["7.25", "0.00"]


def test_approval_time_averages_hours_from_proposal_to_decision():
    proposed_at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    RefundFactory(
        created_at=proposed_at, decided_at=proposed_at + dt.timedelta(hours=2), status="approved"
    )
    RefundFactory(
        created_at=proposed_at, decided_at=proposed_at + dt.timedelta(hours=6), status="rejected"
    )
    RefundFactory(created_at=proposed_at)  # still proposed: not counted

    chart = approval_time(now=NOW, months=3)

    assert chart["datasets"][0]["data"] == [None, None, 4.0]


def test_dunning_outcomes_count_the_audited_transitions_per_month():
    for action, day in [
        ("subscription.past_due", 3),
        ("subscription.past_due", 4),
        ("subscription.recovered", 9),
        ("subscription.expire", 12),
        ("subscription.renew", 12),  # not a dunning outcome
    ]:
        AuditRecord.objects.create(
            actor_label="system",
            action=action,
            target_type="billing.Subscription",
            target_id="1",
            created_at=dt.datetime(2026, 11, day, tzinfo=dt.UTC),
        )

    chart = dunning_outcomes(now=NOW, months=2)

    series = {d["label"]: d["data"] for d in chart["datasets"]}
    assert series == {
        "Entered dunning": [0, 2],
        "Recovered (paid)": [0, 1],
        "Suspended": [0, 0],
        "Expired unpaid": [0, 1],
    }
