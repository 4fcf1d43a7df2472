"""backoffice.compiled: a queryset compiled once answers as the plain queryset does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.compiled import CompiledQuery
from billing.models import Subscription
from billing.selectors import with_snapshot_flags
from tests.factories import AddOnFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _of_workspace(*, slug: str):
    return with_snapshot_flags(
        Subscription.objects.select_related("plan", "workspace").filter(workspace__slug=slug)
    ).order_by("pk")


def _fields(subscription):
    return (
        subscription.pk,
        subscription.plan.code,
        subscription.workspace.slug,
        subscription.has_services,
        subscription.has_addons,
    )


def test_each_call_runs_one_query_with_its_own_values_and_returns_the_querysets_objects():
    compiled = CompiledQuery(_of_workspace, slug="marker")
    first, second = SubscriptionFactory(), SubscriptionFactory()
    AddOnFactory(subscription=second)

    for subscription in (first, second, first):
        slug = subscription.workspace.slug
        with CaptureQueriesContext(connection) as captured:
            found = compiled.all(slug=slug)
        assert len(captured) == 1  # related objects and annotations come with the row
        assert [_fields(s) for s in found] == [_fields(s) for s in _of_workspace(slug=slug)]
    assert compiled.all(slug="no-such-workspace") == []


def test_a_marker_that_is_not_exactly_one_parameter_is_refused():
    with pytest.raises(ValueError, match="slug='absent' is 0 parameters"):
        CompiledQuery(lambda slug: Subscription.objects.all(), slug="absent").all(slug="x")
