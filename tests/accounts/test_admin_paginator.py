import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditRecord
from backoffice import admin_mixins
from backoffice.admin_mixins import EstimatedCount, EstimatedCountPaginator

from .conftest import DEMO_NOW

pytestmark = pytest.mark.postgres("the row estimate is read from pg_class")


def _audit_rows(count: int) -> None:
    AuditRecord.objects.bulk_create(
        AuditRecord(
            actor_label="system",
            action="demo.row",
            target_type="accounts.Workspace",
            target_id=str(number),
            created_at=DEMO_NOW,
        )
        for number in range(count)
    )


def _count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.django_db
def test_a_large_unfiltered_table_is_not_counted(monkeypatch):
    _audit_rows(300)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
    _audit_rows(50)  # after ANALYZE: the estimate is stale, an exact count would see 350
    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 100)

    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(AuditRecord.objects.all(), 50).count

    assert count == 300
    assert _count_queries(queries) == []


@pytest.mark.django_db
def test_filtered_or_small_tables_are_counted_exactly(monkeypatch):
    _audit_rows(300)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
    _audit_rows(50)

    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 100)
    filtered = AuditRecord.objects.filter(target_id__in=["1", "2"])
    assert EstimatedCountPaginator(filtered, 50).count == 4
    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 10_000)
    assert EstimatedCountPaginator(AuditRecord.objects.all(), 50).count == 350


@pytest.mark.django_db
def test_the_changelist_of_a_large_table_runs_no_count(admin_client, monkeypatch):
    _audit_rows(300)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 100)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:accounts_auditrecord_changelist"))

    assert response.status_code == 200
    assert _count_queries(queries) == []


@pytest.mark.django_db
def test_a_large_filtered_list_shows_the_planners_estimate(admin_client, monkeypatch):
    _audit_rows(300)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
    monkeypatch.setattr(admin_mixins, "ESTIMATE_THRESHOLD", 100)
    url = reverse("admin:accounts_auditrecord_changelist")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"q": "demo"})  # action__startswith: a WHERE

    count = response.context["cl"].result_count
    assert isinstance(count, EstimatedCount) and 150 <= count <= 600
    assert _count_queries(queries) == []
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    assert f"about {int(count):,}" in response.content.decode()


@pytest.mark.django_db
def test_a_search_that_matches_nothing_counts_zero(admin_client):
    response = admin_client.get(reverse("admin:billing_payment_changelist"), {"q": "no-such"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.django_db
def test_a_filtered_estimate_is_for_the_value_chosen_even_once_the_statement_is_prepared():
    """Statements are prepared after five runs (`DATABASE_PREPARE`), and a generic plan
    estimates the same rows for every value of a filter. EXPLAIN is not such a plan:
    PostgreSQL plans the explained query with the values bound on each run, even with
    generic plans forced."""
    AuditRecord.objects.bulk_create(
        AuditRecord(
            actor_label="system",
            action="demo.common" if number % 100 else "demo.rare",
            target_type="accounts.Workspace",
            target_id=str(number),
            created_at=DEMO_NOW,
        )
        for number in range(5_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    try:
        for _ in range(6):
            common = admin_mixins.planner_estimate(AuditRecord.objects.filter(action="demo.common"))
            rare = admin_mixins.planner_estimate(AuditRecord.objects.filter(action="demo.rare"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")
    assert common > 4_000
    assert rare < 500
