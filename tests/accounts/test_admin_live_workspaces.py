"""The workspace's secondary indexes hold live workspaces only (`Workspace.LIVE`): the
changelist and the searches through a workspace look among live ones, the erased shells
are listed on their own, and an id finds any workspace."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Workspace
from tests.factories import PaymentFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_workspace_changelist"


def _listed(client, **params) -> list[Workspace]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _shell(**kwargs) -> Workspace:
    return WorkspaceFactory(status=Workspace.Status.DELETED, **kwargs)


def test_the_changelist_lists_live_workspaces_unless_the_deleted_are_asked_for(admin_client):
    live = WorkspaceFactory(name="Alpha Photo Club")
    suspended = WorkspaceFactory(name="Beta Photo Club", status=Workspace.Status.SUSPENDED)
    older, newer = _shell(name="Deleted workspace #1"), _shell(name="Deleted workspace #2")

    listed = _listed(admin_client)
    deleted = _listed(admin_client, status=Workspace.Status.DELETED)
    searched = _listed(admin_client, q="photo")

    assert {live, suspended} <= set(listed) and not {older, newer} & set(listed)
    assert deleted == [newer, older]
    assert set(searched) == {live, suspended}
    assert _listed(admin_client, status=Workspace.Status.SUSPENDED) == [suspended]


def test_the_default_choice_says_the_deleted_are_left_out(admin_client):
    response = admin_client.get(reverse(CHANGELIST))

    assert "All but deleted" in response.text


def test_an_id_finds_an_erased_shell(admin_client):
    shell = _shell()

    assert _listed(admin_client, q=str(shell.pk)) == [shell]


def test_a_search_through_a_workspace_looks_among_live_workspaces(admin_client):
    live, erased = PaymentFactory(), PaymentFactory()
    live_slug, erased_slug = live.workspace.slug, erased.workspace.slug
    Workspace.objects.filter(pk=erased.workspace_id).update(status=Workspace.Status.DELETED)
    url = reverse("admin:billing_payment_changelist")

    with CaptureQueriesContext(connection) as queries:
        found = admin_client.get(url, {"q": live_slug})
    lookups = [
        q["sql"] for q in queries.captured_queries if 'FROM "accounts_workspace"' in q["sql"]
    ]
    missed = admin_client.get(url, {"q": erased_slug})

    assert list(found.context["cl"].result_list) == [live]
    assert list(missed.context["cl"].result_list) == []
    assert lookups and all("\"status\" = 'deleted'" in sql for sql in lookups)


def _workspaces(count: int, *, name: str) -> None:
    """`count` live workspaces named "<name> <n>", with their own slug and billing email."""
    first = WorkspaceFactory()
    Workspace.objects.bulk_create(
        Workspace(
            created_at=first.created_at,
            name=f"{name} {n}",
            slug=f"ws-{n:05d}",
            owner=first.owner,
            billing_email=f"billing{n}@example.com",
        )
        for n in range(count)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_planner_knows_how_rare_a_billing_email_is_without_an_index_over_every_row():
    """A search's OR of the slug, name and billing email indexes is only chosen when the
    planner sees that a billing email matches few rows; the indexes hold live rows only,
    so those statistics come from `CREATE STATISTICS` (accounts 0013), not the index."""
    _workspaces(3000, name="Workspace")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_workspace")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM accounts_workspace "
            "WHERE UPPER(billing_email::text) = UPPER('billing42@example.com')"
        )
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    assert plan[0]["Plan"]["Plan Rows"] <= 2  # 0.5% of the table (15) without statistics


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN index")
def test_a_name_search_reads_a_short_pending_list_however_many_names_were_written():
    """New trigram entries wait in the GIN index's pending list, which every search reads
    whole: bounded at 64 kB (accounts 0014), not 4 MB. With 4 MB the 5,000 names stay
    pending (309 pages), and the search reads either that list or the table."""
    _workspaces(5000, name="Riverside Chess Club")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table: no table scan
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM accounts_workspace "
            "WHERE UPPER(name::text) LIKE '%CHESS QZ%' AND NOT (status = 'deleted')"
        )
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    root = plan[0]["Plan"]
    assert root["Shared Hit Blocks"] + root["Shared Read Blocks"] <= 40  # 20 here; 4 MB: 96
