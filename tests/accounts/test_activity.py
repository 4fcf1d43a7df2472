"""The activity write (accounts.services.activity): what it stamps, what it costs, and that
PostgreSQL's one-statement deadline agrees with `accounts.retention.deletion_deadline`."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Workspace, WorkspaceMember
from accounts.retention import deletion_deadline
from accounts.selectors import facts_of, workspace_retention_rule
from accounts.services.activity import members_touch_activity, workspaces_touch_activity
from billing.models import Subscription
from tests.factories import (
    PlanFactory,
    SubscriptionFactory,
    WorkspaceFactory,
    WorkspaceMemberFactory,
)
from tests.factories.billing import policy_version

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
ENDED = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
EPOCH_TRIAL = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
# PostgreSQL: the seats' UPDATE (returning their workspaces) and the workspaces' UPDATE.
# SQLite: the seats' UPDATE and SELECT, the workspaces' dates, their policies and UPDATE.
ACTIVITY_QUERIES = 2 if connection.vendor == "postgresql" else 5
SEATS_ONLY = 1 if connection.vendor == "postgresql" else 2


def _member_of_two_workspaces():
    member = WorkspaceMemberFactory(workspace__last_activity_at=None)
    other = WorkspaceMemberFactory(user=member.user, workspace__last_activity_at=None)
    for seat in (member, other):
        SubscriptionFactory(workspace=seat.workspace, plan=PlanFactory(policy_slug="orgix"))
    return member.user, [member.workspace_id, other.workspace_id]


def test_the_first_request_s_write_costs_one_statement_per_table_on_postgresql():
    user, workspace_ids = _member_of_two_workspaces()

    with CaptureQueriesContext(connection) as captured:
        stamped = members_touch_activity(user_id=user.pk, now=NOW)

    assert len(captured) == ACTIVITY_QUERIES
    assert sorted(stamped) == sorted(workspace_ids)
    seats = WorkspaceMember.objects.filter(user=user).values_list("last_active_at", flat=True)
    assert set(seats) == {NOW}
    assert set(
        Workspace.objects.filter(pk__in=workspace_ids).values_list("last_activity_at", flat=True)
    ) == {NOW}


def test_workspaces_the_guard_refuses_keep_their_stamp_and_cost_no_statement():
    user, workspace_ids = _member_of_two_workspaces()

    with CaptureQueriesContext(connection) as captured:
        stamped = members_touch_activity(user_id=user.pk, now=NOW, claim_workspace=lambda _: False)

    assert (len(captured), stamped) == (SEATS_ONLY, [])
    seats = WorkspaceMember.objects.filter(user=user).values_list("last_active_at", flat=True)
    assert set(seats) == {NOW}
    assert set(
        Workspace.objects.filter(pk__in=workspace_ids).values_list("last_activity_at", flat=True)
    ) == {None}


def _policy_with_retention(retention, *, version: int):
    """A copy of a preset whose `rules.retention` is `retention`."""
    policy = policy_version("orgix")
    policy.pk, policy.version = None, version
    policy.rules = {**policy.rules, "retention": retention}
    policy.save()
    return policy


@pytest.mark.parametrize("ended", [None, ENDED])
def test_the_stored_deadline_is_the_retention_rule_s_for_every_kind_of_rule(ended):
    """connex (after end and inactivity), sync-with-connex (inactivity only), orgix (after
    end only), prorated-credit (neither), no subscription (the house default), rules
    counted from the request, a policy with retention variants; the latest subscription's
    policy counts, not an older one's."""
    workspaces = []
    for slug in ("connex", "sync-with-connex", "orgix", "prorated-credit"):
        subscription = SubscriptionFactory(
            plan=PlanFactory(policy_slug=slug), workspace__ended_at=ended
        )
        workspaces.append(subscription.workspace)
    workspaces.append(WorkspaceFactory(ended_at=ended))
    older = SubscriptionFactory(
        plan=PlanFactory(policy_slug="orgix"),
        workspace__ended_at=ended,
        status=Subscription.Status.EXPIRED,
        started_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC),
    )
    SubscriptionFactory(
        workspace=older.workspace,
        plan=PlanFactory(policy_slug="sync-with-connex"),
        started_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )
    workspaces.append(older.workspace)
    # Counted from the request: a request long before the end (the end decides, never
    # earlier), one shortly before it, none recorded; and Atlassian, whose trial variant
    # leaves the workspace to Python, cancelled in the trial and after it.
    from_request = {
        "after_end_days": 60,
        "inactivity_days": None,
        "clause": {"ref": "request"},
        "counted_from": "request",
        "partial": [],
    }
    for version, asked in enumerate(
        (ENDED - dt.timedelta(days=90), ENDED - dt.timedelta(days=5), None), start=80
    ):
        subscription = SubscriptionFactory(workspace__ended_at=ended, cancelled_at=asked)
        subscription.policy = _policy_with_retention(from_request, version=version)
        subscription.save(update_fields=["policy"])
        workspaces.append(subscription.workspace)
    for asked in (EPOCH_TRIAL + dt.timedelta(days=3), EPOCH_TRIAL + dt.timedelta(days=40)):
        subscription = SubscriptionFactory(
            workspace__ended_at=ended,
            plan=PlanFactory(policy_slug="example-atlassian"),
            trial_end=EPOCH_TRIAL + dt.timedelta(days=14),
            started_at=EPOCH_TRIAL,
            cancelled_at=asked,
        )
        workspaces.append(subscription.workspace)
    Workspace.objects.update(deletion_warning_sent_at=NOW - dt.timedelta(days=1))

    assert workspaces_touch_activity(workspace_ids=[w.pk for w in workspaces], now=NOW) == len(
        workspaces
    )

    expected, stored = {}, {}
    for workspace in workspaces:
        workspace.refresh_from_db()
        rule, _, cancelled_at = workspace_retention_rule(workspace)
        deadline = deletion_deadline(rule, facts_of(workspace, cancelled_at=cancelled_at))
        expected[workspace.pk] = deadline.at if deadline else None
        stored[workspace.pk] = workspace.deletion_due_at
        assert (workspace.last_activity_at, workspace.deletion_warning_sent_at) == (NOW, None)
    assert stored == expected
    assert len({at for at in stored.values()}) > 2  # the cases differ


def test_a_deleted_workspace_is_not_stamped():
    workspace = WorkspaceFactory(status=Workspace.Status.DELETED, last_activity_at=None)

    assert workspaces_touch_activity(workspace_ids=[workspace.pk], now=NOW) == 0

    workspace.refresh_from_db()
    assert workspace.last_activity_at is None
