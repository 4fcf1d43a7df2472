"""The example policies as the migration loads them: marked as examples, versions in
order, and each one's scenario in `scenarios/` quoted through `manage.py quote_refund`."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from billing.errors import DomainError
from billing.models import RefundPolicy, Subscription
from billing.policy.examples import EXAMPLE_POLICIES
from billing.policy.rules import PolicyRules
from billing.policy.scenarios import EXAMPLES
from billing.services.policies import policy_draft_load
from tests.factories import UserFactory, policy_version

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

pytestmark = pytest.mark.django_db


def test_example_policies_are_loaded_as_examples_with_every_version():
    loaded = RefundPolicy.objects.filter(example=True)

    assert sorted(loaded.values_list("slug", "version")) == sorted(
        (slug, number)
        for slug, versions in EXAMPLE_POLICIES.items()
        for number in range(1, len(versions) + 1)
    )
    for policy in loaded:
        assert (
            PolicyRules.from_dict(policy.rules)
            == EXAMPLE_POLICIES[policy.slug][policy.version - 1][1]
        )
    assert not RefundPolicy.objects.filter(example=False, slug__startswith="example-").exists()


def test_no_subscription_uses_an_example_policy():
    assert not Subscription.objects.filter(policy__example=True).exists()


@pytest.mark.parametrize(
    ("slug", "figures"),
    [
        (
            "example-slack",
            {
                "policy": "example-slack@2",
                "refund": "58.87",
                "amount_due": "4.03",
                "destination": "customer_credit",
            },
        ),
        (
            "example-adobe",
            {"refund": "0.00", "amount_due": "219.96", "ends_at": "2022-05-01T00:00:00+00:00"},
        ),
        ("example-atlassian", {"refund": "1200.00", "access_until": "2023-04-04T00:00:00+00:00"}),
        (
            "example-github",
            {"policy": "example-github@2", "refund": "0.00", "fallback": "free_plan"},
        ),
        ("example-microsoft-365", {"policy": "example-microsoft-365@2", "refund": "49.23"}),
        ("example-basecamp", {"policy": "example-basecamp@3", "refund": "57.75"}),
        (
            "example-google-workspace",
            {
                "policy": "example-google-workspace@2",
                "amount_due": "108.97",
                "credit_payout": "20.00",
            },
        ),
    ],
)
def test_each_example_scenario_quotes_its_main_case(slug, figures):
    out = StringIO()

    call_command("quote_refund", str(SCENARIOS / EXAMPLES[slug]), stdout=out)

    quote = json.loads(out.getvalue())
    assert {key: quote[key] for key in figures} == figures


def test_loading_a_version_with_a_bad_variant_names_the_field_and_stores_nothing():
    policy = policy_version("example-microsoft-365")
    rules = json.loads(json.dumps(policy.rules))
    rules["variants"][0]["when"]["channels"] = ["kiosk"]

    with pytest.raises(DomainError) as error:
        policy_draft_load(
            data={"slug": policy.slug, "rules": rules},
            actor=UserFactory(),
            now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        )

    assert error.value.field.startswith("rules.variants")
    assert "kiosk" in error.value.message
    stored = len(EXAMPLE_POLICIES["example-microsoft-365"])
    assert RefundPolicy.objects.filter(slug="example-microsoft-365").count() == stored
