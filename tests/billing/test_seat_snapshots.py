"""Seats as the snapshot builder reads them from the models: members with their last
activity (written by the activity middleware), members removed this period (from their
removal's audit record), the plan's seat price; read only where the policy has seat rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import WorkspaceMember
from accounts.services.workspace_content import member_remove
from billing.account_history import seat_snapshots
from billing.selectors import quote_for_subscription, subscription_for_quote
from tests.factories import PaymentFactory, PlanFactory, WorkspaceMemberFactory

pytestmark = pytest.mark.django_db
PERIOD_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
AT = dt.datetime(2025, 1, 11, tzinfo=dt.UTC)


def slack_subscription():
    """Slack (example, version 2) at 25.00 a member, three members billed this January."""
    plan = PlanFactory(policy_slug="example-slack", price=Decimal("75.00"), seat_price="25.00")
    payment = PaymentFactory(subscription__plan=plan, amount=Decimal("75.00"), paid_at=PERIOD_START)
    subscription = payment.subscription
    workspace = subscription.workspace
    WorkspaceMember.objects.filter(workspace=workspace).update(
        joined_at=PERIOD_START - dt.timedelta(days=40),
        last_active_at=PERIOD_START - dt.timedelta(days=31),  # inactive from 29 December
    )
    return subscription_for_quote(subscription.pk), workspace


def test_members_are_seats_with_their_activity_and_removals_this_period_are_kept():
    subscription, workspace = slack_subscription()
    owner = WorkspaceMember.objects.get(workspace=workspace)
    ana = WorkspaceMemberFactory(
        workspace=workspace,
        joined_at=PERIOD_START - dt.timedelta(days=40),
        last_active_at=dt.datetime(2024, 12, 10, tzinfo=dt.UTC),  # inactive from 7 January
    )
    ben = WorkspaceMemberFactory(
        workspace=workspace,
        joined_at=PERIOD_START - dt.timedelta(days=40),
        last_active_at=dt.datetime(2025, 1, 4, tzinfo=dt.UTC),
    )
    member_remove(member=ben, actor=None, now=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))

    seats = {seat.ref: seat for seat in seat_snapshots(subscription)}

    assert set(seats) == {f"member-{owner.pk}", f"member-{ana.pk}", f"member-{ben.pk}"}
    removed = seats[f"member-{ben.pk}"]
    assert (removed.added_at, removed.removed_at, removed.last_active_at) == (
        PERIOD_START - dt.timedelta(days=40),
        dt.datetime(2025, 1, 5, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 4, tzinfo=dt.UTC),
    )
    quote = quote_for_subscription(subscription, at=AT)
    # The owner was already inactive at the period start (not billed); Ana from 7 January
    # (4 days) and Ben from his removal on 5 January (6 days), one billed seat kept: with
    # two billed seats and a minimum of one, one at a time: 6 seat-days, 25.00 x 6 / 31.
    seat_line = next(line for line in quote.lines if line.label.startswith("Seats not used"))
    assert seat_line.amount == Decimal("4.84")


def test_a_signed_in_request_records_the_member_s_activity_on_each_seat(settings):
    settings.ACTIVITY_WRITE_INTERVAL_SECONDS = 300
    member = WorkspaceMemberFactory()
    client = Client()
    client.force_login(member.user)

    client.get(reverse("billing:home"))

    member.refresh_from_db()
    assert member.last_active_at is not None


def test_quotes_under_policies_without_seat_rules_read_no_members():
    payment = PaymentFactory(subscription__plan=PlanFactory(policy_slug="orgix"))
    subscription = subscription_for_quote(payment.subscription_id)
    quote_for_subscription(subscription, at=AT)  # warm the rules cache

    with CaptureQueriesContext(connection) as captured:
        quote_for_subscription(subscription, at=AT)

    assert not any("accounts_workspacemember" in q["sql"] for q in captured)
    assert not any("accounts_auditrecord" in q["sql"] for q in captured)
