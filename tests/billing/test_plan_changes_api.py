"""Plan change and add-on API: roles, preview then confirm, idempotent money moves."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from billing.models import AddOn, Payment
from tests.factories import UserFactory, WorkspaceMemberFactory
from tests.factories.lifecycle import family_plans, subscription_on

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
BASE = "/api/workspaces/{slug}/subscription/"


@pytest.fixture
def setup():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    client = APIClient()
    client.force_authenticate(subscription.workspace.owner)
    with time_machine.travel(dt.datetime(2025, 1, 11, tzinfo=dt.UTC), tick=False):
        yield client, subscription, plans


def url(subscription, path: str) -> str:
    return BASE.format(slug=subscription.workspace.slug) + path


def test_preview_then_upgrade_once_with_an_idempotency_key(setup):
    client, subscription, plans = setup

    preview = client.post(url(subscription, "plan-change/preview/"), {"plan": plans["max"].code})
    first = client.post(
        url(subscription, "upgrade/"), {"plan": plans["max"].code}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    replay = client.post(
        url(subscription, "upgrade/"), {"plan": plans["max"].code}, HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert preview.status_code == 200 and preview.json()["charge_now"] == "67.74"
    assert first.status_code == 200 and first.json()["payment"]["amount"] == "67.74"
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert Payment.objects.get().amount == Decimal("67.74")


def test_downgrade_reports_when_it_takes_effect(setup):
    client, subscription, plans = setup

    response = client.post(url(subscription, "downgrade/"), {"plan": plans["basic"].code})

    assert response.status_code == 200
    assert response.json()["subscription"]["pending_plan"] == plans["basic"].code
    assert response.json()["subscription"]["pending_plan_effective_at"].startswith("2025-02-01")


def test_addons_and_order_packs_are_bought_and_removed(setup):
    client, subscription, _ = setup

    preview = client.post(
        url(subscription, "addons/preview/"), {"kind": "extra_seats", "quantity": 2}
    )
    added = client.post(url(subscription, "addons/"), {"kind": "extra_seats", "quantity": 2})
    removed = client.post(url(subscription, f"addons/{added.json()['addon']['id']}/remove/"))
    pack = client.post(url(subscription, "order-packs/"), {"packs": 1})

    assert preview.json()["amount"] == "6.77"
    assert added.status_code == 201 and added.json()["payment"]["amount"] == "6.77"
    assert removed.json()["ends_at"].startswith("2025-02-01")
    assert pack.status_code == 201 and pack.json()["payment"]["kind"] == "one_time_purchase"
    assert AddOn.objects.count() == 2


def test_bad_input_names_the_field(setup):
    client, subscription, plans = setup

    unknown = client.post(url(subscription, "upgrade/"), {"plan": "nope"})
    cheaper = client.post(url(subscription, "upgrade/"), {"plan": plans["basic"].code})

    assert unknown.status_code == 400 and "plan" in unknown.json()["errors"]
    assert cheaper.status_code == 400 and "downgrade" in cheaper.json()["errors"]["plan"][0]


def test_only_owners_and_billing_admins_may_change_the_subscription(setup):
    client, subscription, plans = setup
    member = WorkspaceMemberFactory(workspace=subscription.workspace)
    billing_admin = WorkspaceMemberFactory(workspace=subscription.workspace, billing_admin=True)
    body = {"plan": plans["max"].code}

    client.force_authenticate(UserFactory())
    assert client.post(url(subscription, "plan-change/preview/"), body).status_code == 404
    client.force_authenticate(member.user)
    assert client.post(url(subscription, "upgrade/"), body).status_code == 403
    client.force_authenticate(billing_admin.user)
    assert client.post(url(subscription, "plan-change/preview/"), body).status_code == 200
    assert not Payment.objects.exists()
