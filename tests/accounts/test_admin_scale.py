"""Changelist queries that stay on one indexed path at a million workspaces: email
searches, searches through several relations, the cancellation queue's subscription
filters, policies in use and the dashboard's estimated counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Workspace
from backoffice import admin_mixins
from backoffice.admin_mixins import EstimatedCount
from billing.models import AddOn, CancellationRequest, Plan, RefundPolicy, Subscription


@pytest.fixture
def agent_client(client, demo_data):
    assert client.login(email="agent@example.com", password="agent")
    return client


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _where_clauses(queries, table: str) -> list[str]:
    return [
        q["sql"].split("WHERE", 1)[-1].split("ORDER BY")[0]
        for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and "WHERE" in q["sql"]
    ]


@pytest.mark.django_db
def test_an_email_is_searched_in_the_email_fields_only(agent_client):
    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get(_changelist(Workspace), {"q": "owner@example.com"})

    slugs = {workspace.slug for workspace in response.context["cl"].result_list}
    assert {"acme", "acme-connex"} <= slugs
    searches = _where_clauses(queries, "accounts_workspace")
    assert any('"billing_email"' in sql for sql in searches)
    assert not any('"name"' in sql or '"slug"' in sql for sql in searches)


@pytest.mark.django_db
def test_a_word_is_still_searched_in_the_name_and_slug(agent_client):
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(_changelist(Workspace), {"q": "acme"})

    searches = _where_clauses(queries, "accounts_workspace")
    assert any('"name"' in sql and '"slug"' in sql for sql in searches)


@pytest.mark.django_db
def test_an_add_on_search_reads_subscription_ids_then_lists_add_ons_by_id(agent_client):
    addon = AddOn.objects.select_related("subscription__workspace").order_by("pk").first()
    slug = addon.subscription.workspace.slug

    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get(_changelist(AddOn), {"q": slug})

    assert addon in response.context["cl"].result_list
    assert all(
        a.subscription.workspace.slug.startswith(slug) for a in response.context["cl"].result_list
    )
    filters = _where_clauses(queries, "billing_addon")
    # The matching add-ons by their subscriptions' ids, then the page by those add-ons' ids.
    assert any('"billing_addon"."subscription_id" IN' in sql for sql in filters)
    assert not any("accounts_workspace" in sql or "workspace_id" in sql for sql in filters)
    listed = [q["sql"] for q in queries.captured_queries if 'FROM "billing_addon"' in q["sql"]]
    assert any('"billing_addon"."id" IN' in sql and "ORDER BY" in sql for sql in listed)


@pytest.mark.django_db
def test_search_results_read_by_id_are_listed_newest_first(agent_client):
    response = agent_client.get(_changelist(AddOn), {"q": "demo"})

    shown = [addon.pk for addon in response.context["cl"].result_list]
    assert len(shown) > 1 and shown == sorted(shown, reverse=True)


def _plan_filter(response):
    return next(s for s in response.context["cl"].filter_specs if s.title == "plan interval")


@pytest.mark.django_db
def test_the_cancellation_queue_offers_only_billed_intervals(agent_client):
    response = agent_client.get(_changelist(CancellationRequest), {"status": "all"})

    offered = [
        choice["display"] for choice in _plan_filter(response).choices(response.context["cl"])
    ]
    assert offered == ["All", "Monthly", "Yearly"]


@pytest.mark.django_db
def test_the_interval_and_policy_filters_match_without_a_join(agent_client):
    everything = CancellationRequest.objects.select_related(
        "subscription__plan", "subscription__policy"
    )
    yearly = {r.pk for r in everything if r.subscription.plan.interval == Plan.Interval.YEAR}
    connex = {r.pk for r in everything if r.subscription.policy.slug == "connex"}
    url = _changelist(CancellationRequest)

    with CaptureQueriesContext(connection) as queries:
        by_interval = agent_client.get(url, {"status": "all", "plan_interval": "year"})
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    by_policy = agent_client.get(url, {"status": "all", "policy": "connex"})

    assert yearly and {r.pk for r in by_interval.context["cl"].result_list} == yearly
    assert connex and {r.pk for r in by_policy.context["cl"].result_list} == connex
    # Counted without a join: the quote's policy, the subscriptions on the plans by id.
    assert counted and not any("JOIN" in sql for sql in counted)


@pytest.mark.django_db
def test_policies_in_use_are_those_subscriptions_hold(agent_client):
    used = set(Subscription.objects.values_list("policy_id", flat=True))

    response = agent_client.get(_changelist(RefundPolicy))

    shown = {policy.pk: policy.is_in_use for policy in response.context["cl"].result_list}
    assert shown and {pk for pk, in_use in shown.items() if in_use} == used & set(shown)
    assert not all(shown.values())  # the example presets are published but unused


@pytest.mark.django_db
@pytest.mark.postgres("the estimate is the planner's")
def test_the_dashboard_shows_an_estimate_for_a_large_count(admin_client, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_subscription")
    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 0)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:index"))

    figures = {f.label: f.count for f in response.context["figures"]}
    assert isinstance(figures["Subscriptions in dunning"], EstimatedCount)
    assert not any(
        "COUNT(" in q["sql"] and "billing_subscription" in q["sql"]
        for q in queries.captured_queries
    )


@pytest.mark.django_db
def test_the_dashboard_charts_are_computed_once_per_cache_period(admin_client):
    def chart_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse("admin:index")).status_code == 200
        return sum(
            "DATE_TRUNC" in q["sql"].upper()
            or "STRFTIME" in q["sql"].upper()
            or "DJANGO_DATETIME_TRUNC" in q["sql"].upper()
            for q in queries.captured_queries
        )

    assert chart_queries() == 4  # one per chart
    assert chart_queries() == 0  # read from the cache
