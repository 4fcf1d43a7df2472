"""Policy admin: simulator page, live quote on subscriptions, versioning."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.policy.presets import PRESETS
from tests.factories import (
    OnboardingServiceFactory,
    PaymentFactory,
    PlanFactory,
    UserFactory,
    policy_version,
)

pytestmark = pytest.mark.django_db
SIMULATOR = "admin:billing_policy_simulator"


@pytest.fixture
def agent_client(client):
    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name="Support agent"))
    client.force_login(agent)
    return client


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_policy_changelist_links_to_the_simulator(agent_client):
    response = agent_client.get(reverse("admin:billing_refundpolicy_changelist"))

    assert response.status_code == 200
    assert reverse(SIMULATOR).encode() in response.content


@pytest.mark.parametrize("slug", list(PRESETS))
def test_simulator_quotes_the_example_of_every_preset(agent_client, slug):
    page = agent_client.get(reverse(SIMULATOR), {"example": slug})
    form = page.context["form"]

    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": form.initial["policy"], "scenario": form.initial["scenario"]},
    )

    assert response.status_code == 200
    quote = response.context["quote"]
    assert quote.policy == f"{slug}@1"
    assert b"Policy clause" in response.content


def test_simulator_shows_the_prorated_credit_example_result(agent_client):
    scenario = agent_client.get(reverse(SIMULATOR)).context["form"].initial["scenario"]

    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": policy_version("prorated-credit").pk, "scenario": scenario},
    )

    assert response.context["quote"].refund == Decimal("67.74")
    assert b"67.74" in response.content


def test_simulator_names_the_bad_field(agent_client):
    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": policy_version("connex").pk, "scenario": json.dumps({"currency": "USD"})},
    )

    assert response.context["quote"] is None
    assert "plan: this field is required" in response.context["form"].errors["scenario"][0]


@time_machine.travel(dt.datetime(2025, 1, 11, tzinfo=dt.UTC), tick=False)
def test_simulator_starts_from_an_existing_subscription(agent_client):
    payment = PaymentFactory(subscription__plan=PlanFactory(policy_slug="prorated-credit"))

    response = agent_client.get(reverse(SIMULATOR), {"subscription": payment.subscription_id})

    assert response.context["quote"].refund == Decimal("67.74")


def test_simulator_needs_staff(client):
    client.force_login(UserFactory(is_staff=False))

    response = client.get(reverse(SIMULATOR))

    assert response.status_code == 302


@time_machine.travel(dt.datetime(2025, 1, 11, tzinfo=dt.UTC), tick=False)
def test_subscription_page_shows_the_live_quote(agent_client):
    payment = PaymentFactory(subscription__plan=PlanFactory(policy_slug="prorated-credit"))
    OnboardingServiceFactory(subscription=payment.subscription)
    url = reverse("admin:billing_subscription_change", args=[payment.subscription_id])

    response = agent_client.get(url)

    assert response.status_code == 200
    assert b"If cancelled now" in response.content
    assert b"67.74" in response.content
    assert b"prorated-credit \xc2\xa7Refund" in response.content


def test_policy_page_renders_rules_with_clauses_and_readings(agent_client):
    policy = policy_version("connex")

    response = agent_client.get(reverse("admin:billing_refundpolicy_change", args=[policy.pk]))

    content = response.content.decode()
    assert "Service deduction schedule" in content
    assert "connex §30-Day Refund schedule 1: 30 minute preliminary call" in content
    assert "contradicts the 30-day clause" in content
    assert "connex §Can I use Connex until the end of my billing period" in content


@pytest.mark.parametrize(
    ("slug", "shown"),
    [
        ("example-slack", "Or, at the customer's choice"),
        ("example-adobe", "Cancellation fee: 50% of 8 remaining months"),
        ("example-microsoft-365", "Variants applied"),
    ],
)
def test_simulator_quotes_the_example_policies_with_what_they_add(agent_client, slug, shown):
    page = agent_client.get(reverse(SIMULATOR), {"example": slug})
    form = page.context["form"]

    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": form.initial["policy"], "scenario": form.initial["scenario"]},
    )

    assert response.context["quote"].policy.startswith(slug)
    assert shown in response.content.decode()


def test_example_policy_page_shows_its_variants_readably(agent_client):
    policy = policy_version("example-microsoft-365")

    response = agent_client.get(reverse("admin:billing_refundpolicy_change", args=[policy.pk]))

    content = response.content.decode()
    assert "Variants (first match wins per rule)" in content
    assert "countries: CA, DK, FR, IL, KR, TR" in content
