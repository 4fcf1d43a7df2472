"""Policy admin: simulator page, live quote on subscriptions, versioning."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import AuditRecord
from billing.errors import DomainError
from billing.models import RefundPolicy
from billing.policy.presets import PRESETS
from billing.services.policies import PolicyInUse, policy_new_version, policy_update
from tests.factories import (
    OnboardingServiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
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


def _example(name: str) -> dict:
    return json.loads((settings.BASE_DIR / "scenarios" / name).read_text(encoding="utf-8"))


def test_simulator_quotes_a_plan_change_scenario_with_its_lines(agent_client):
    scenario = _example("prorated-credit-example.json")
    del scenario["cancel_at"]
    scenario["change_to"] = {"price": "200.00", "interval": "month", "name": "Business"}
    scenario["change_at"] = "2022-01-16T12:00:00Z"

    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": policy_version("prorated-credit").pk, "scenario": json.dumps(scenario)},
    )

    assert response.context["quote"].net == Decimal("50.00")
    assert b"Business from the change" in response.content


def test_simulator_names_the_rule_a_policy_cannot_apply_in_the_currency(agent_client):
    scenario = {**_example("connex-preliminary-call.json"), "currency": "EUR"}

    response = agent_client.post(
        reverse(SIMULATOR),
        {"policy": policy_version("connex").pk, "scenario": json.dumps(scenario)},
    )

    assert response.status_code == 200 and response.context["quote"] is None
    error = response.context["form"].errors["scenario"][0]
    assert error.startswith("service_deductions[0].amount: connex §30-Day Refund schedule 1")


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


def test_a_version_in_use_is_read_only_in_the_admin(admin_client_):
    policy = SubscriptionFactory(plan=PlanFactory(policy_slug="orgix")).policy
    url = reverse("admin:billing_refundpolicy_change", args=[policy.pk])

    response = admin_client_.get(url)

    assert "rules" in response.context["adminform"].readonly_fields
    admin_client_.post(url, {"title": "Edited"})
    policy.refresh_from_db()
    assert policy.title != "Edited"


def test_a_version_in_use_cannot_be_updated_by_the_service():
    policy = SubscriptionFactory(plan=PlanFactory(policy_slug="orgix")).policy
    policy.title = "Edited"

    with pytest.raises(PolicyInUse):
        policy_update(policy=policy, actor=None, now=dt.datetime.now(dt.UTC), fields=["title"])


def test_an_unused_version_can_be_corrected_and_is_audited():
    policy = policy_version("orgix")
    policy.title = "Orgix (typo fixed)"

    policy_update(policy=policy, actor=None, now=dt.datetime.now(dt.UTC), fields=["title"])

    policy.refresh_from_db()
    assert policy.title == "Orgix (typo fixed)"
    assert AuditRecord.objects.filter(action="policy.update", target_id=str(policy.pk)).exists()


def test_new_version_creates_n_plus_1_and_keeps_subscriptions_on_theirs():
    subscription = SubscriptionFactory(plan=PlanFactory(policy_slug="connex"))
    rules = PRESETS["connex"].to_dict()
    rules["retention"]["after_end_days"] = 60
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)

    created = policy_new_version(
        policy=subscription.policy,
        rules=rules,
        effective_from=dt.date(2026, 6, 1),
        actor=None,
        now=now,
        changelog="Keep data 60 days.",
    )

    assert created.label == "connex@2"
    assert created.rules["retention"]["after_end_days"] == 60
    subscription.refresh_from_db()
    assert subscription.policy.version == 1
    assert AuditRecord.objects.get(action="policy.new_version").note == "Keep data 60 days."


@pytest.mark.parametrize(
    ("rules", "effective_from", "field"),
    [
        pytest.param({"name": "x"}, dt.date(2026, 6, 1), "rules", id="invalid-rules"),
        pytest.param(None, dt.date(2020, 1, 1), "effective_from", id="before-previous"),
    ],
)
def test_new_version_rejects_bad_input_naming_the_field(rules, effective_from, field):
    with pytest.raises(DomainError) as raised:
        policy_new_version(
            policy=policy_version("orgix"),
            rules=rules,
            effective_from=effective_from,
            actor=None,
            now=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
            changelog="change",
        )

    assert raised.value.field == field
    assert RefundPolicy.objects.filter(slug="orgix").count() == 1


def test_new_version_admin_action_publishes_a_copy(admin_client_):
    policy = policy_version("prorated-credit")

    admin_client_.post(
        reverse("admin:billing_refundpolicy_changelist"),
        {"action": "publish_new_version", "_selected_action": [policy.pk]},
    )

    created = RefundPolicy.objects.get(slug="prorated-credit", version=2)
    assert created.rules == policy.rules


def test_new_version_page_publishes_edited_rules(admin_client_):
    policy = policy_version("orgix")
    rules = dict(policy.rules, case_by_case_review=False)

    response = admin_client_.post(
        reverse("admin:billing_policy_new_version", args=[policy.pk]),
        {"effective_from": "2026-07-01", "changelog": "No reviews", "rules": json.dumps(rules)},
    )

    created = RefundPolicy.objects.get(slug="orgix", version=2)
    assert response.status_code == 302
    assert created.rules["case_by_case_review"] is False


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
