"""Migration 0003 publishes the fixed readings as a new version where the stored preset is
older, and leaves a database with the current presets alone."""

import copy
import importlib

import pytest
from django.apps import apps

from billing.models import RefundPolicy
from billing.policy.presets import CONNEX, PRESETS
from billing.policy.rules import PolicyRules

pytestmark = pytest.mark.django_db
migration = importlib.import_module("billing.migrations.0003_fidelity_policy_readings")


def _stored_before_issue_11() -> dict:
    """connex v1 as migration 0002 stored it before amounts had a currency."""
    rules = copy.deepcopy(CONNEX.to_dict())
    rules["refund_window"]["counted_from"] = "purchase"
    del rules["refund_window"]["counted"]
    for deduction in rules["service_deductions"]:
        if deduction["amount"] is not None:
            deduction["amount"] = deduction["amount"][0]["amount"]
    for rule in rules["proration"]:
        rule["fixed_deduction"] = "0"
    for name in ("time_zone", "access_ends", "unpaid_period_due"):
        del rules[name]
    return rules


def test_an_older_stored_preset_gets_the_next_version_with_the_fixed_readings():
    RefundPolicy.objects.filter(slug="connex").update(rules=_stored_before_issue_11())

    migration.publish_fixed_readings(apps, None)

    latest = RefundPolicy.objects.filter(slug="connex").order_by("-version").first()
    assert latest.version == 2 and "issue #11" in latest.changelog
    assert PolicyRules.from_dict(latest.rules) == CONNEX
    old = PolicyRules.from_dict(RefundPolicy.objects.get(slug="connex", version=1).rules)
    assert old.service_deductions[0].amount == CONNEX.service_deductions[0].amount


def test_current_presets_are_left_alone():
    migration.publish_fixed_readings(apps, None)

    assert RefundPolicy.objects.filter(slug__in=PRESETS).count() == len(PRESETS)
