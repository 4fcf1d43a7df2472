import datetime as dt
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditRecord, DeletionTombstone, Workspace
from accounts.retention import (
    HOUSE_DEFAULT_RETENTION,
    DeletionReason,
    RetentionFacts,
    RetentionState,
    deletion_deadline,
    retention_status,
    retention_timeline,
)
from accounts.services.retention import (
    workspace_place_legal_hold,
    workspaces_recompute_retention,
    workspaces_refresh_retention,
    write_due_dates,
)
from billing.errors import InvalidTransition
from billing.models import Subscription
from billing.policy.presets import PRESETS
from tests.factories import (
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMemberFactory,
)
from tests.factories.retention import workspace_with_data

D = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return D + dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("slug", "last_activity", "ended", "due", "reason"),
    [
        ("connex", day(0), None, day(90), DeletionReason.INACTIVITY),
        ("connex", day(50), day(30), day(120), DeletionReason.RETENTION_ENDED),
        ("connex", day(0), day(30), day(90), DeletionReason.INACTIVITY),
        ("sync-with-connex", day(10), day(30), day(70), DeletionReason.INACTIVITY),
        ("orgix", day(0), day(30), day(120), DeletionReason.RETENTION_ENDED),
        ("orgix", day(0), None, None, None),
        ("prorated-credit", day(0), day(30), None, None),
    ],
)
def test_deletion_deadline_per_preset(slug, last_activity, ended, due, reason):
    facts = RetentionFacts(created_at=D, last_activity_at=last_activity, ended_at=ended)
    deadline = deletion_deadline(PRESETS[slug].retention, facts)
    assert (deadline.at, deadline.reason) == (due, reason) if due else deadline is None


def test_a_workspace_never_active_counts_from_its_creation_under_the_house_default():
    facts = RetentionFacts(created_at=day(5), last_activity_at=None, ended_at=None)
    assert deletion_deadline(HOUSE_DEFAULT_RETENTION, facts).at == day(95)


@pytest.mark.parametrize(
    ("facts", "now", "state", "label"),
    [
        (RetentionFacts(D, day(80), None), day(85), RetentionState.ACTIVE, "Active"),
        (
            RetentionFacts(D, day(10), None),
            day(45),
            RetentionState.INACTIVE,
            "Inactive since 11 Jan 2025",
        ),
        (
            RetentionFacts(D, day(0), day(10)),
            day(20),
            RetentionState.ENDED_KEPT,
            "Ended, kept until 1 Apr 2025",
        ),
        (
            RetentionFacts(D, day(0), None),
            day(83),
            RetentionState.SCHEDULED,
            "Scheduled for deletion on 1 Apr 2025",
        ),
        (
            RetentionFacts(D, day(0), None, warning_sent_at=day(88)),
            day(89),
            RetentionState.WARNING_SENT,
            "Warning sent, deletion on 6 Apr 2025",
        ),
        (
            RetentionFacts(D, day(0), None, legal_hold=True),
            day(95),
            RetentionState.LEGAL_HOLD,
            "On legal hold",
        ),
        (RetentionFacts(D, day(0), None, deleted=True), day(95), RetentionState.DELETED, "Deleted"),
    ],
)
def test_retention_status(facts, now, state, label):
    due = deletion_deadline(PRESETS["connex"].retention, facts).at
    status = retention_status(facts, deletion_due_at=due, now=now, warning_days=7)
    assert (status.state, status.label) == (state, label)


def test_timeline_orders_the_dates_that_matter():
    facts = RetentionFacts(created_at=D, last_activity_at=day(20), ended_at=day(30))
    timeline = retention_timeline(PRESETS["connex"].retention, facts, now=day(40), warning_days=7)
    assert [(e.at, e.label, e.past) for e in timeline] == [
        (D, "Workspace created", True),
        (day(20), "Last activity", True),
        (day(30), "Subscription ended", True),
        (day(103), "Deletion warning due", False),
        (day(110), "90 days without activity", False),
        (day(110), "Scheduled deletion", False),
        (day(120), "End of retention (90 days after end)", False),
    ]


@pytest.mark.django_db
def test_refresh_stores_the_due_date_of_the_latest_subscription_policy():
    ws = workspace_with_data(policy_slug="connex")
    bare = WorkspaceFactory()
    workspaces_refresh_retention(workspace_ids=[ws.pk, bare.pk])
    assert Workspace.objects.get(pk=ws.pk).deletion_due_at == day(90)
    assert Workspace.objects.get(pk=bare.pk).deletion_due_at == day(90)

    Workspace.objects.filter(pk=ws.pk).update(ended_at=day(-30))
    assert workspaces_refresh_retention(workspace_ids=[ws.pk]) == 1
    assert Workspace.objects.get(pk=ws.pk).deletion_due_at == day(60)
    Workspace.objects.filter(pk=ws.pk).update(ended_at=None)
    workspaces_refresh_retention(workspace_ids=[ws.pk])
    assert Workspace.objects.get(pk=ws.pk).deletion_due_at == day(90)

    ws.subscriptions.update(status=Subscription.Status.EXPIRED)
    SubscriptionFactory(
        workspace=ws, plan=PlanFactory(policy_slug="sync-with-connex"), started_at=day(5)
    )
    assert workspaces_recompute_retention(batch_size=1) == 1
    assert Workspace.objects.get(pk=ws.pk).deletion_due_at == day(60)


# The ORM's UPDATE (SQLite) or accounts.services.activity's (PostgreSQL), not the seats'.
WORKSPACE_UPDATE = re.compile(r'UPDATE "?accounts_workspace"?\s')


@pytest.mark.django_db
def test_middleware_writes_activity_at_most_once_per_workspace_per_interval(client, settings):
    settings.ACTIVITY_WRITE_INTERVAL_SECONDS = 300
    ws = WorkspaceFactory()
    colleague = WorkspaceMemberFactory(workspace=ws).user
    SubscriptionFactory(workspace=ws, plan=PlanFactory(policy_slug="sync-with-connex"))
    moment = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)

    def updates() -> int:
        with CaptureQueriesContext(connection) as ctx:
            for user in (ws.owner, colleague, ws.owner):
                client.force_login(user)
                assert client.get(reverse("admin:index")).status_code == 302
        return sum(bool(WORKSPACE_UPDATE.search(q["sql"])) for q in ctx)

    with time_machine.travel(moment, tick=False):
        assert updates() == 1
    ws.refresh_from_db()
    assert ws.last_activity_at == moment
    assert ws.deletion_due_at == moment + dt.timedelta(days=60)

    with time_machine.travel(moment + dt.timedelta(seconds=299), tick=False):
        assert updates() == 0
    with time_machine.travel(moment + dt.timedelta(seconds=301), tick=False):
        assert updates() == 1


def _changelist_queries(admin_client, query: str = "") -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse("admin:accounts_workspace_changelist") + query)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_changelist_retention_column_and_filters_cost_no_query_per_row(admin_client):
    workspace_with_data()
    workspaces_recompute_retention()
    _changelist_queries(admin_client)  # the admin's own activity is recorded once
    few = _changelist_queries(admin_client, "?retention=overdue")
    for _ in range(4):
        workspace_with_data()
    workspaces_recompute_retention()
    assert _changelist_queries(admin_client, "?retention=overdue") == few
    assert _changelist_queries(admin_client) == _changelist_queries(admin_client)

    response = admin_client.get(reverse("admin:accounts_workspace_changelist"))
    assert (
        "Scheduled for deletion" in response.text
        or "Warning sent" in response.text
        or ("Inactive since" in response.text)
    )


@pytest.mark.django_db
def test_retention_filters_select_due_soon_overdue_and_held(admin_client):
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    soon = WorkspaceFactory(deletion_due_at=now + dt.timedelta(days=3))
    overdue = WorkspaceFactory(deletion_due_at=now - dt.timedelta(days=1))
    held = WorkspaceFactory(deletion_due_at=now - dt.timedelta(days=1), legal_hold=True)
    WorkspaceFactory(deletion_due_at=now + dt.timedelta(days=30))
    url = reverse("admin:accounts_workspace_changelist")

    with time_machine.travel(now, tick=False):
        for value, expected in (("due_soon", soon), ("overdue", overdue), ("legal_hold", held)):
            response = admin_client.get(url, {"retention": value})
            shown = list(response.context["cl"].result_list)
            assert shown == [expected], value


@pytest.mark.django_db
def test_change_page_shows_timeline_and_standing(admin_client):
    ws = workspace_with_data(policy_slug="connex")
    response = admin_client.get(reverse("admin:accounts_workspace_change", args=[ws.pk]))
    text = response.text
    assert response.status_code == 200
    for expected in ("90 days without activity", "Subscription", "Credit balance", "No credit"):
        assert expected in text


def _post_action(admin_client, action: str, ws: Workspace, **data):
    return admin_client.post(
        reverse("admin:accounts_workspace_changelist"),
        {"action": action, "_selected_action": [ws.pk], **data},
    )


@pytest.mark.django_db
def test_legal_hold_is_placed_and_lifted_with_a_reason_and_audited(admin_client, admin_user):
    ws = WorkspaceFactory()

    form = _post_action(admin_client, "place_legal_hold", ws)
    assert form.status_code == 200 and b"reason" in form.content
    _post_action(admin_client, "place_legal_hold", ws, apply="1", reason="Court order 12")
    ws.refresh_from_db()
    assert (ws.legal_hold, ws.legal_hold_reason) == (True, "Court order 12")
    _post_action(admin_client, "lift_legal_hold", ws, apply="1", reason="Case closed")
    ws.refresh_from_db()
    assert ws.legal_hold is False

    records = AuditRecord.objects.filter(workspace_id=ws.pk).order_by("id")
    assert [(r.action, r.note, r.actor) for r in records] == [
        ("workspace.legal_hold.place", "Court order 12", admin_user),
        ("workspace.legal_hold.lift", "Case closed", admin_user),
    ]


@pytest.mark.django_db
def test_legal_hold_needs_a_reason_and_cannot_be_placed_twice():
    ws = WorkspaceFactory()
    with pytest.raises(InvalidTransition) as error:
        workspace_place_legal_hold(workspace=ws, reason=" ", actor=None, now=D)
    assert error.value.field == "reason"
    workspace_place_legal_hold(workspace=ws, reason="Audit", actor=None, now=D)
    with pytest.raises(InvalidTransition):
        workspace_place_legal_hold(workspace=ws, reason="Audit", actor=None, now=D)


@pytest.mark.django_db
def test_agent_export_downloads_json_and_is_audited(admin_client, admin_user):
    ws = workspace_with_data()

    response = _post_action(admin_client, "export_data", ws)

    assert response["Content-Disposition"] == f'attachment; filename="{ws.slug}-export.json"'
    data = json.loads(response.content)
    assert data["workspace"]["slug"] == ws.slug
    assert len(data["members"]) == 2 and len(data["files"]) == 2
    assert AuditRecord.objects.get(action="workspace.export").actor == admin_user


@pytest.mark.django_db
def test_only_the_owner_downloads_the_export_page(client):
    ws = workspace_with_data()
    url = reverse("accounts:workspace-export", args=[ws.slug])
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(ws.owner)
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.content)["owner"]["email"] == ws.owner.email
    assert AuditRecord.objects.get(action="workspace.export").actor == ws.owner


@pytest.mark.django_db
def test_deletion_on_request_needs_confirmation_and_is_audited(admin_client, admin_user):
    ws = workspace_with_data()

    page = _post_action(admin_client, "delete_on_request", ws)
    assert page.status_code == 200 and b"cannot be undone" in page.content
    _post_action(admin_client, "delete_on_request", ws, apply="1", note="Ticket 42")
    assert Workspace.objects.get(pk=ws.pk).status != Workspace.Status.DELETED

    _post_action(admin_client, "delete_on_request", ws, apply="1", note="Ticket 42", confirm="on")

    assert Workspace.objects.get(pk=ws.pk).status == Workspace.Status.DELETED
    assert DeletionTombstone.objects.get(workspace_id=ws.pk).rule == "customer_request"
    record = AuditRecord.objects.get(action="workspace.delete_on_request")
    assert (record.actor, record.note) == (admin_user, "Ticket 42")


@pytest.mark.django_db
def test_deletion_on_request_refused_on_legal_hold(admin_client):
    ws = workspace_with_data()
    workspace_place_legal_hold(workspace=ws, reason="Court order", actor=None, now=D)

    page = _post_action(admin_client, "delete_on_request", ws)
    assert b"cannot be deleted: legal hold" in page.content
    _post_action(admin_client, "delete_on_request", ws, apply="1", note="T", confirm="on")

    assert Workspace.objects.get(pk=ws.pk).status != Workspace.Status.DELETED
    assert not AuditRecord.objects.filter(action="workspace.delete_on_request").exists()


@pytest.mark.django_db
def test_standing_shows_dunning_disputes_restrictions_and_credit(admin_client):
    from decimal import Decimal

    from billing.models import CreditEntry, Dispute
    from tests.factories import PaymentFactory

    subscription = SubscriptionFactory(
        plan=PlanFactory(policy_slug="connex"),
        past_due=True,
        dunning_attempts=2,
        grace_until=day(14),
    )
    ws = subscription.workspace
    Workspace.objects.filter(pk=ws.pk).update(status="restricted", suspension_reason="non_payment")
    payment = PaymentFactory(subscription=subscription)
    dispute = Dispute.objects.create(
        payment=payment, amount=Decimal("100.00"), currency="USD", opened_at=day(3)
    )
    for amount in ("30.00", "-12.50"):
        CreditEntry.objects.create(
            workspace=ws, kind="adjustment", amount=Decimal(amount), currency="USD", created_at=D
        )

    text = admin_client.get(reverse("admin:accounts_workspace_change", args=[ws.pk])).text

    assert "past due since 1 Jan 2025, 2 attempt(s), grace until 15 Jan 2025" in text
    assert f"#{dispute.pk} 100.00 USD since 4 Jan 2025" in text
    assert "Restricted (over Free plan limits or unpaid) — Non-payment" in text
    assert "17.50 USD" in text
    assert "held by open dispute, live paid subscription" in text


@pytest.mark.django_db
def test_bulk_due_date_writes_keep_the_column_type_for_dates_and_for_none():
    """A CASE whose branches are all NULL is typed text on PostgreSQL; one with dates must
    compare as dates on SQLite (no reformatting of the stored value)."""
    dated, undated = WorkspaceFactory(), WorkspaceFactory()
    due = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    write_due_dates({dated.pk: due}, last_activity_at=now)
    write_due_dates({undated.pk: None}, last_activity_at=now)

    assert Workspace.objects.filter(deletion_due_at__lte=due).get() == dated
    assert Workspace.objects.get(pk=undated.pk).deletion_due_at is None
