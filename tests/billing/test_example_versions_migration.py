"""Migration 0012 adds the example policies' later versions to a database that loaded the
examples before they existed, with the marks 0010 gives, and changes nothing where they
are already there (a fresh database)."""

import importlib

import pytest
from django.apps import apps

from billing.models import RefundPolicy
from billing.policy.examples import EXAMPLE_POLICIES, SLACK, SLACK_V1
from billing.policy.rules import PolicyRules

pytestmark = pytest.mark.django_db
migration = importlib.import_module("billing.migrations.0012_generality_example_versions")


def test_a_database_with_only_the_first_example_versions_gets_the_later_ones():
    RefundPolicy.objects.filter(slug="example-slack", version__gt=1).delete()

    migration.load_later_versions(apps, None)

    slack = RefundPolicy.objects.filter(slug="example-slack").order_by("version")
    assert [p.version for p in slack] == [1, 2]
    assert [PolicyRules.from_dict(p.rules) for p in slack] == [SLACK_V1, SLACK]
    assert slack[1].example and slack[1].title == EXAMPLE_POLICIES["example-slack"][1][0]


def test_a_database_with_every_version_is_left_alone():
    before = RefundPolicy.objects.filter(example=True).count()

    migration.load_later_versions(apps, None)

    assert (
        RefundPolicy.objects.filter(example=True).count()
        == before
        == sum(len(versions) for versions in EXAMPLE_POLICIES.values())
    )


def test_a_database_without_the_examples_gets_none():
    RefundPolicy.objects.filter(example=True).delete()

    migration.load_later_versions(apps, None)

    assert not RefundPolicy.objects.filter(slug__startswith="example-").exists()
