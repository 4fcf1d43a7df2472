"""Activity: the last time a member made a signed-in request, per seat (seat rules credit
seats left unused) and per workspace (retention: `last_activity_at` moves the inactivity
deadline `deletion_due_at` and makes a pending deletion warning moot).

A user's first request of each interval pays this write (`accounts.middleware`), so on
PostgreSQL each table takes one statement, with no transaction around them and no
read-then-write: the seats' UPDATE returns the workspaces, and the workspaces' UPDATE
computes `deletion_due_at` in SQL from the latest subscription's policy. Each statement is
its own transaction and commits with `synchronous_commit` off (set inside the statement,
for that transaction only): a crash can lose the last fraction of a second of activity
timestamps, which the next request writes again, while waiting for the WAL flush made
every user's first request pay a disk flush. The two stamps are independent facts: a seat
stamped without its workspace (the second statement failing) is what the per-workspace
guard does on purpose anyway. Elsewhere (SQLite) the same writes go through the ORM and
`accounts.retention.deletion_deadline`; the PostgreSQL suite checks both agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db import connection

from accounts.models import Workspace, WorkspaceMember
from accounts.retention import HOUSE_DEFAULT_RETENTION
from billing.models import RefundPolicy, Subscription
from billing.policy.rules import RetentionFrom

from .batching import pg_int_array
from .due_dates import due_dates, fact_rows, write_due_dates

# Referenced by each statement so PostgreSQL evaluates it (a CTE nobody reads is skipped).
_NO_FLUSH = "no_flush AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))"


def members_touch_activity(
    *, user_id: int, now: datetime, claim_workspace: Callable[[int], bool] = lambda _: True
) -> list[int]:
    """Stamp every seat of this user active now, then the workspaces of those seats that
    `claim_workspace` accepts (the middleware's per-workspace guard). Returns the ids of
    the workspaces stamped. Two statements on PostgreSQL, one when no workspace is due."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {_NO_FLUSH} UPDATE {WorkspaceMember._meta.db_table} "
                "SET last_active_at = %s FROM no_flush WHERE user_id = %s RETURNING workspace_id",
                [now, user_id],
            )
            seats = [row[0] for row in cursor.fetchall()]
    else:
        members = WorkspaceMember.objects.filter(user_id=user_id)
        members.update(last_active_at=now)
        seats = list(members.values_list("workspace_id", flat=True))
    due = [workspace_id for workspace_id in seats if claim_workspace(workspace_id)]
    if due:
        workspaces_touch_activity(workspace_ids=due, now=now)
    return due


def workspaces_touch_activity(*, workspace_ids: Iterable[int], now: datetime) -> int:
    """Mark these live workspaces as active now and move their `deletion_due_at` (computed
    from the policy for the new activity); clear a deletion warning: activity makes the
    warned deletion moot. One UPDATE on PostgreSQL (then the way below for what it leaves:
    workspaces under a policy with retention variants); a SELECT (dates and policy), a
    policy read and an UPDATE elsewhere."""
    ids = list(workspace_ids)
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        done = _touch_in_sql(ids, now)
        ids = [pk for pk in ids if pk not in done]
        if not ids:
            return len(done)
        return len(done) + _touch_in_python(ids, now)
    return _touch_in_python(ids, now)


def _touch_in_python(ids: list[int], now: datetime) -> int:
    rows = fact_rows(Workspace.objects.filter(pk__in=ids).exclude(status=Workspace.Status.DELETED))
    deadlines = due_dates(rows, last_activity_at=now)
    return write_due_dates(
        {pk: deadline.at if deadline else None for pk, deadline in deadlines.items()},
        last_activity_at=now,
        deletion_warning_sent_at=None,
    )


def _touch_in_sql(ids: list[int], now: datetime) -> set[int]:
    """`accounts.retention.deletion_deadline` in SQL, with `accounts.selectors`' rule
    lookup: the retention rule is the latest subscription's policy's `rules.retention`
    (the house default without a subscription; stored rules always hold one, the policy
    services validate them with the one reader, `billing.policy.codec`);
    the deadline is the earliest of the end of the data kept after the end and `now +
    inactivity_days`, for the parts defined (LEAST skips NULLs; none defined: NULL). Kept
    after the end: `ended_at + after_end_days`, or for a rule counted from the request
    `cancelled_at + after_end_days` but never before `ended_at`. Days are 24 hours, as
    Python's timedelta, whatever the session's time zone. A policy with retention variants
    is left to Python (`retention_terms` decides them): the ids updated come back."""
    workspace = Workspace._meta.db_table
    custom = "policy.retention IS NOT NULL"
    # One workspace (nearly every user) is its own statement: prepared, its generic plan
    # costs what a custom one does, so PostgreSQL stops planning it; for an array the
    # generic plan guesses several rows, costs more, and every call was planned again.
    ids_match, ids_param = (
        ("w.id = %s", ids[0]) if len(ids) == 1 else ("w.id = ANY(%s::bigint[])", pg_int_array(ids))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {_NO_FLUSH}, rule AS ("
            f" SELECT w.id, policy.cancelled_at, CASE WHEN {custom}"
            "  THEN (policy.retention ->> 'after_end_days')::int ELSE %s::int END AS after_end,"
            f" CASE WHEN {custom}"
            "  THEN (policy.retention ->> 'inactivity_days')::int ELSE %s::int END AS inactive,"
            f" {custom} AND policy.retention ->> 'counted_from' = %s AS from_request"
            f" FROM {workspace} AS w LEFT JOIN LATERAL ("
            "  SELECT p.rules -> 'retention' AS retention, s.cancelled_at,"
            "   jsonb_path_exists(p.rules, '$.variants[*].rules.retention') AS varied"
            f"  FROM {Subscription._meta.db_table} AS s"
            f"  JOIN {RefundPolicy._meta.db_table} AS p ON p.id = s.policy_id"
            "  WHERE s.workspace_id = w.id ORDER BY s.started_at DESC, s.id DESC LIMIT 1"
            " ) AS policy ON true"
            f" WHERE {ids_match} AND w.status <> %s"
            "  AND policy.varied IS NOT TRUE"
            f") UPDATE {workspace} AS w SET last_activity_at = %s,"
            " deletion_warning_sent_at = NULL,"
            " deletion_due_at = LEAST("
            "  CASE WHEN w.ended_at IS NULL OR rule.after_end IS NULL THEN NULL"
            "   WHEN rule.from_request AND rule.cancelled_at IS NOT NULL THEN GREATEST("
            "    rule.cancelled_at + rule.after_end * interval '24 hours', w.ended_at)"
            "   ELSE w.ended_at + rule.after_end * interval '24 hours' END,"
            "  %s::timestamptz + rule.inactive * interval '24 hours')"
            " FROM rule, no_flush WHERE w.id = rule.id RETURNING w.id",
            [
                HOUSE_DEFAULT_RETENTION.after_end_days,
                HOUSE_DEFAULT_RETENTION.inactivity_days,
                RetentionFrom.REQUEST.value,
                ids_param,
                Workspace.Status.DELETED,
                now,
                now,
            ],
        )
        return {row[0] for row in cursor.fetchall()}
