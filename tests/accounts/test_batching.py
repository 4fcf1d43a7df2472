import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Workspace
from accounts.services.batching import due_id_batches
from accounts.services.purge import purge_plan
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _with_due_dates(*days: int) -> list[int]:
    ids = []
    for offset in days:
        ws = WorkspaceFactory()
        Workspace.objects.filter(pk=ws.pk).update(deletion_due_at=DAY + dt.timedelta(days=offset))
        ids.append(ws.pk)
    return ids


def test_due_pages_return_each_due_workspace_once_across_ties_and_dates():
    ids = _with_due_dates(3, 0, 0, 0, 1, 3, 0, 2)
    _with_due_dates(30)  # not due

    pages = list(
        due_id_batches(
            Workspace.objects.filter(deletion_due_at__lte=DAY + dt.timedelta(days=3)),
            batch_size=3,
        )
    )

    assert [len(page) for page in pages] == [3, 3, 2]
    assert sorted(pk for page in pages for pk in page) == sorted(ids)


def test_due_pages_stop_at_the_limit():
    _with_due_dates(0, 0, 0, 1, 1)

    pages = list(due_id_batches(Workspace.objects.all(), batch_size=2, limit=3))

    assert [len(page) for page in pages] == [2, 1]


def _dry_run_queries(n: int) -> int:
    Workspace.objects.all().delete()
    _with_due_dates(*[0] * n)
    with CaptureQueriesContext(connection) as ctx:
        planned = list(purge_plan(now=DAY, batch_size=3))
    assert len(planned) == n
    return len(ctx.captured_queries)


def test_each_page_of_the_dry_run_costs_the_same_queries():
    three, six, nine = _dry_run_queries(3), _dry_run_queries(6), _dry_run_queries(9)

    assert nine - six == six - three


def test_each_dry_run_page_starts_at_the_cursor_and_reads_only_the_key():
    _with_due_dates(*[0] * 7)

    with CaptureQueriesContext(connection) as ctx:
        planned = list(purge_plan(now=DAY, batch_size=3))

    pages = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT "accounts_workspace"."deletion_due_at"')
    ]
    assert len(planned) == 7  # none warned yet: all 7 to warn, none to delete
    # Warnings: 7 rows in pages of 3, then the empty page; deletions: the empty page.
    assert len(pages) == 5
    later = [sql for sql in pages if '"deletion_due_at", "accounts_workspace"."id") >' in sql]
    assert len(later) == 3  # every page after a selection's first starts at the cursor
    assert all(sql.rstrip().endswith("LIMIT 3") for sql in pages)
    # Only the key is selected: the index answers the page without the table.
    selected = [sql.split(" FROM ", 1)[0] for sql in pages]
    assert all('"slug"' not in cols and '"created_at"' not in cols for cols in selected)


@pytest.mark.postgres("EXPLAIN names PostgreSQL's scan")
def test_a_dry_run_page_is_an_index_only_scan_of_the_due_keyset():
    from accounts.services.batching import due_page
    from accounts.services.purge_selection import due_for_deletion, due_for_warning

    _with_due_dates(*[0] * 5)
    with connection.cursor() as cursor:
        # A handful of rows: scanning the table and sorting would win. The question is
        # whether the index returns the page in order from the cursor with every column
        # it needs, which only an index-only plan without a sort shows.
        for plan_kind in ("seqscan", "bitmapscan", "sort", "incremental_sort"):
            cursor.execute(f"SET LOCAL enable_{plan_kind} = off")
    for selection in (due_for_deletion, due_for_warning):
        page = due_page(selection(now=DAY), after=(DAY, 0), size=100)
        plan = page.explain()
        assert "Index Only Scan using workspace_due_keyset" in plan, plan
        assert "ROW(deletion_due_at, id) >" in plan  # the cursor bounds the scan
        assert "Sort" not in plan
