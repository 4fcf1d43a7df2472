"""Agents in the subscription admin: dunning columns and filter, retry now, extend grace."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.models import AuditRecord
from billing.models import Subscription
from billing.services.dunning import subscription_charge_failed
from tests.factories import AddOnFactory, UserFactory
from tests.factories.lifecycle import family_plans, subscription_on

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:billing_subscription_changelist"


@pytest.fixture
def agent(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def past_due():
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    subscription = subscription_on(family_plans("orgix")["pro"], start=start)
    return subscription_charge_failed(
        subscription=subscription,
        payment_failure_message="Card declined",
        now=start + dt.timedelta(days=31),
    )


def test_the_changelist_shows_dunning_state_and_filters_retries_due(
    client, agent, past_due, django_assert_max_num_queries
):
    subscription_on(family_plans("orgix")["basic"], start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))

    with django_assert_max_num_queries(12):
        response = client.get(reverse(CHANGELIST), {"dunning": "retry_due"})

    assert response.status_code == 200
    assert b"1 failed, next retry" in response.content
    assert len(response.context["cl"].result_list) == 1


def test_retry_now_action_pays_and_reports(client, agent, past_due):
    response = client.post(
        reverse(CHANGELIST),
        {"action": "retry_charge_now", ACTION_CHECKBOX_NAME: [past_due.pk]},
        follow=True,
    )

    past_due.refresh_from_db()
    assert past_due.status == Subscription.Status.ACTIVE
    assert "paid, active again" in response.content.decode()
    assert AuditRecord.objects.filter(action="subscription.retry_now", actor=agent).exists()


def test_extend_grace_asks_for_days_and_reason_then_extends(client, agent, past_due):
    form = client.post(
        reverse(CHANGELIST), {"action": "extend_grace", ACTION_CHECKBOX_NAME: [past_due.pk]}
    )
    done = client.post(
        reverse(CHANGELIST),
        {
            "action": "extend_grace",
            ACTION_CHECKBOX_NAME: [past_due.pk],
            "apply": "1",
            "days": "10",
            "reason": "Bank transfer on its way",
        },
        follow=True,
    )

    assert b'name="days"' in form.content and b'name="reason"' in form.content
    assert done.status_code == 200
    before = past_due.grace_until
    past_due.refresh_from_db()
    assert past_due.grace_until == before + dt.timedelta(days=10)
    assert AuditRecord.objects.get(action="subscription.extend_grace").note == (
        "Bank transfer on its way"
    )


def test_change_plan_previews_the_charge_then_upgrades_on_confirmation(client, agent):
    plans = family_plans("orgix")
    subscription = subscription_on(
        plans["pro"], start=dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    )
    data = {"action": "change_plan", ACTION_CHECKBOX_NAME: [subscription.pk]}

    chooser = client.post(reverse(CHANGELIST), data)
    preview = client.post(reverse(CHANGELIST), {**data, "plan": plans["max"].pk, "preview": "1"})
    subscription.refresh_from_db()
    assert subscription.plan == plans["pro"]  # a preview changes nothing
    done = client.post(
        reverse(CHANGELIST), {**data, "plan": plans["max"].pk, "apply": "1"}, follow=True
    )

    assert b'name="plan"' in chooser.content
    assert b"Unused time on the current plan" in preview.content  # the credit line
    assert b"The new plan from the change" in preview.content  # the charge line
    assert "upgrade to Max done" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.plan == plans["max"]
    assert AuditRecord.objects.filter(action="subscription.upgrade", actor=agent).exists()


def test_an_agent_ends_an_add_on_with_the_period_and_an_order_pack_is_refused(client, agent):
    subscription = subscription_on(
        family_plans("orgix")["pro"], start=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    )
    seats = AddOnFactory(subscription=subscription, kind="extra_seats")
    pack = AddOnFactory(subscription=subscription, kind="order_pack")

    response = client.post(
        reverse("admin:billing_addon_changelist"),
        {"action": "end_with_period", ACTION_CHECKBOX_NAME: [seats.pk, pack.pk]},
        follow=True,
    )

    seats.refresh_from_db()
    pack.refresh_from_db()
    assert seats.ends_at == subscription.current_period_end and pack.ends_at is None
    texts = [str(m) for m in response.context["messages"]]
    assert "1 add-on(s) end with the current period." in texts
    assert any("Order packs are used up or reset at renewal." in t for t in texts)
