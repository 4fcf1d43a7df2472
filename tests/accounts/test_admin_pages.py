import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from accounts.demo import seed_demo
from accounts.models import AuditRecord, User, Workspace, WorkspaceMember, WorkspaceModule
from bench.admin import changelist_variants
from billing import dashboard
from billing.models import Payment

from .conftest import DEMO_NOW

FOUNDATION_APPS = {"accounts", "billing"}


@pytest.fixture
def agent_client(client, demo_data):
    assert client.login(email="agent@example.com", password="agent")
    return client


@pytest.fixture
def beat_rows(db):
    """django-celery-beat ships no rows; one of each so their change pages open too."""
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(name="demo", task="demo.task", interval=every_hour)
    CrontabSchedule.objects.create(minute="0", hour="4")
    SolarSchedule.objects.create(event="sunrise", latitude=49.6, longitude=6.1)
    ClockedSchedule.objects.create(clocked_time=DEMO_NOW)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _agent_can_view(model) -> bool:
    agent = User.objects.get(email="agent@example.com")
    return agent.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


@pytest.mark.django_db
def test_the_agent_opens_every_changelist_it_may_view(agent_client):
    viewable = [model for model in admin.site._registry if _agent_can_view(model)]

    for model in admin.site._registry:
        response = agent_client.get(_changelist(model))
        expected = 200 if model in viewable else 403
        assert response.status_code == expected, model._meta.label
    foundation = {m for m in admin.site._registry if m._meta.app_label in FOUNDATION_APPS}
    assert foundation <= set(viewable)


@pytest.mark.django_db
def test_the_agent_opens_a_change_page_of_every_model(agent_client, beat_rows):
    opened = set()

    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None or not _agent_can_view(model):
            continue
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        assert agent_client.get(url).status_code == 200, model._meta.label
        opened.add(model)

    # The demo data holds a row of every foundation model the admin shows, except the
    # technical records that only live traffic creates.
    missing = {
        m._meta.label
        for m in admin.site._registry
        if m._meta.app_label in FOUNDATION_APPS and m not in opened
    }
    assert missing == {"accounts.UnqueuedTask", "billing.IdempotencyKey", "billing.WebhookEvent"}


def _queries(client, urls: list[str]) -> dict[str, int]:
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


@pytest.mark.django_db
def test_no_changelist_filter_search_or_dashboard_costs_more_queries_with_more_rows(
    client, demo_data, monkeypatch
):
    assert client.login(email="admin@example.com", password="admin")
    if connection.vendor == "postgresql":
        # A test that ran ANALYZE inside its transaction leaves its row estimates in
        # pg_class after the rollback (ANALYZE writes them in place): the paginator would
        # count thousands of workspaces, and page 50 of this small list would be loaded.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # Every registered admin, found at run time: a new admin is covered without a change.
    variants = changelist_variants(client, slug="demo-000007", choices_per_filter=1)
    for model_admin in admin.site._registry.values():
        # Every row on one page, so more rows means more rows rendered.
        monkeypatch.setattr(model_admin, "list_per_page", 5_000)
    monkeypatch.setattr(dashboard, "CHART_CACHE_SECONDS", 0)  # the charts' queries too
    urls = [variant.url for variant in variants]
    _queries(client, [v.url for v in variants if v.label == "list"])  # warm caches
    few = _queries(client, urls)
    payments_before = Payment.objects.count()

    seed_demo(workspaces=60, seed=7, now=DEMO_NOW)
    many = _queries(client, urls)

    assert Payment.objects.count() > payments_before + 50
    # The dashboard (the admin index) first, then every registered admin.
    assert variants[0].admin == "admin index"
    assert {v.admin for v in variants[1:]} == {m._meta.label for m in admin.site._registry}
    assert {"search word", "search slug", "search email"} <= {v.label for v in variants}
    assert any(v.label.startswith("filter ") for v in variants)
    assert many == few


@pytest.mark.django_db
def test_the_agent_cannot_delete_payments_or_audit_records(agent_client):
    for model in (Payment, AuditRecord):
        obj = model.objects.first()
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk]
        )

        assert agent_client.post(url, {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.django_db
def test_only_the_billing_lead_approves_large_refunds(demo_data):
    agent = User.objects.get(email="agent@example.com")
    lead = User.objects.get(email="lead@example.com")

    for codename in ("billing.approve_large_refund", "billing.change_refund"):
        assert lead.has_perm(codename)
        assert not agent.has_perm(codename)
    assert agent.has_perm("billing.approve_refund") and agent.has_perm("billing.view_payment")
    assert not agent.has_perm("billing.delete_payment")
    assert not agent.has_perm("accounts.delete_auditrecord")
    shared = set(Group.objects.get(name="Support agent").permissions.all())
    assert shared < set(Group.objects.get(name="Billing lead").permissions.all())


@pytest.mark.django_db
def test_every_search_box_accepts_text_and_numbers(agent_client):
    searchable = [
        model
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in FOUNDATION_APPS and model_admin.search_fields
    ]

    for model in searchable:
        for term in ("acme", "42", "owner@example.com"):
            response = agent_client.get(_changelist(model), {"q": term})
            assert response.status_code == 200, (model._meta.label, term)
    assert len(searchable) >= 15


@pytest.mark.django_db
def test_a_number_finds_a_workspaces_audit_records_through_the_index(agent_client):
    record = AuditRecord.objects.exclude(workspace_id=None).first()

    response = agent_client.get(_changelist(AuditRecord), {"q": str(record.workspace_id)})

    shown = list(response.context["cl"].result_list)
    assert shown and {r.workspace_id for r in shown} == {record.workspace_id}
    sql = str(response.context["cl"].queryset.query)
    assert "CAST" not in sql.upper() and "::TEXT" not in sql.upper()


@pytest.mark.django_db
def test_a_billing_email_finds_its_workspace_whatever_the_case(agent_client):
    response = agent_client.get(
        reverse("admin:accounts_workspace_changelist"), {"q": "OWNER@EXAMPLE.COM"}
    )

    slugs = {workspace.slug for workspace in response.context["cl"].result_list}
    assert {"acme", "acme-connex"} <= slugs


@pytest.mark.django_db
def test_a_payment_search_finds_the_workspaces_first_then_their_payments(agent_client):
    acme_payments = set(Payment.objects.filter(workspace__slug="acme").values_list("pk", flat=True))
    other = Payment.objects.exclude(workspace__slug__startswith="acme").first()
    url = _changelist(Payment)

    with CaptureQueriesContext(connection) as queries:
        by_slug = agent_client.get(url, {"q": "acme"})
    # Read before the next request: the test client resets the query log per request.
    filters = [q["sql"].split("WHERE", 1)[-1] for q in queries if "billing_payment" in q["sql"]]
    by_reference = agent_client.get(url, {"q": other.provider_reference})

    shown = {p.pk for p in by_slug.context["cl"].result_list}
    assert acme_payments and acme_payments <= shown
    assert {p.pk for p in by_reference.context["cl"].result_list} == {other.pk}
    # The payment query filters on workspace ids, not on the joined workspace's columns.
    assert filters and not any("accounts_workspace" in where for where in filters)


@pytest.mark.django_db
def test_any_word_of_a_workspace_name_finds_it(agent_client):
    workspace = Workspace.objects.filter(slug__startswith="demo-").order_by("pk").first()
    word = workspace.name.split()[1].lower()  # "photo" in "Eastern Photo Collective"

    response = agent_client.get(_changelist(Workspace), {"q": word})

    shown = list(response.context["cl"].result_list)
    assert workspace in shown
    assert all(word in w.name.lower() or w.slug.startswith(word) for w in shown)
    assert "word of the name" in response.content.decode()


@pytest.mark.django_db
def test_a_seat_search_looks_up_users_and_workspaces_first(agent_client):
    seat = WorkspaceMember.objects.select_related("user").order_by("pk").last()

    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get(_changelist(WorkspaceMember), {"q": seat.user.email})

    assert seat in response.context["cl"].result_list
    seat_queries = [q["sql"] for q in queries if 'FROM "accounts_workspacemember"' in q["sql"]]
    assert seat_queries
    assert not any('"accounts_user"."email"' in sql.split("WHERE", 1)[-1] for sql in seat_queries)


@pytest.mark.django_db
def test_the_group_filter_uses_exists_not_a_distinct_join(agent_client):
    agents = Group.objects.get(name="Support agent")

    with CaptureQueriesContext(connection) as queries:
        in_group = agent_client.get(_changelist(User), {"group": str(agents.pk)})
    without = agent_client.get(_changelist(User), {"group": "none"})

    assert {u.email for u in in_group.context["cl"].result_list} == {"agent@example.com"}
    grouped = set(User.objects.filter(groups__isnull=False).values_list("pk", flat=True))
    shown = {u.pk for u in without.context["cl"].result_list}
    assert shown and not shown & grouped
    assert not any("DISTINCT" in q["sql"] for q in queries if '"accounts_user"' in q["sql"])


@pytest.mark.django_db
def test_module_codes_are_listed_from_the_index_and_filter_the_list(agent_client):
    codes = set(WorkspaceModule.objects.values_list("code", flat=True))

    response = agent_client.get(_changelist(WorkspaceModule), {"code": "events"})

    spec = next(s for s in response.context["cl"].filter_specs if s.title == "code")
    assert set(spec.lookup_choices) == codes
    assert {m.code for m in response.context["cl"].result_list} == {"events"}


@pytest.mark.django_db
def test_page_rows_are_read_by_id_in_the_lists_order(agent_client, monkeypatch):
    monkeypatch.setattr(admin.site._registry[Payment], "list_per_page", 10)
    expected = list(Payment.objects.order_by("-paid_at", "-pk").values_list("pk", flat=True))

    response = agent_client.get(_changelist(Payment), {"p": 2})

    assert [p.pk for p in response.context["cl"].result_list] == expected[10:20]
