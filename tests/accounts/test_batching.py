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
