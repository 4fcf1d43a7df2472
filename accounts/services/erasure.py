"""Erasure of a batch of workspaces: personal data deleted, people anonymised, the
workspace kept as an anonymised shell, a tombstone left as proof.

Invariants:
- Runs inside the caller's transaction, on rows the caller has locked and checked
  (the purge's batches, or deletion at the customer's request).
- Statements per batch do not depend on how much each workspace owns: personal data is
  deleted bottom-up with one DELETE per table (`workspace_id IN batch`), never through
  Django's collector.
- Financial records (subscriptions, payments, refunds, credit, disputes, cancellation and
  review requests) stay, pointing at the workspace row, which is kept as an anonymised
  shell (status `deleted`) because their foreign keys PROTECT it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from rest_framework.authtoken.models import Token

from accounts.models import (
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from accounts.retention import DeletionReason, retained_parts
from accounts.selectors import rules_for_rows
from billing.models import IdempotencyKey
from billing.policy.rules import RetentionRule

from .batching import id_list, pg_int_array
from .due_dates import fact_rows, row_facts
from .erasure_sql import erase_in_one_statement, erase_statement

logger = logging.getLogger(__name__)

ERASED_OWNER_EMAIL = "erased-owner@erased.invalid"
PERSONAL_DATA = (
    ("members", WorkspaceMember),
    ("files", StoredFile),
    ("modules", WorkspaceModule),
    ("internal_memberships", InternalMembership),
)


def _delete_counting(model, workspace_ids: list[int], anonymised: list[int]) -> list:
    """`DELETE FROM <leaf table> WHERE workspace_id IN batch`, one statement that never goes
    through Django's collector (the tables are leaves: nothing references them), returning
    per workspace how many rows it removed and, for seats, how many of them belonged to
    the `anonymised` users: `(workspace_id, removed, anonymised)`."""
    table = connection.ops.quote_name(model._meta.db_table)
    seats = model is WorkspaceMember
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE workspace_id IN ({', '.join(['%s'] * len(workspace_ids))}) "
            f"RETURNING workspace_id{', user_id' if seats else ''}",
            list(workspace_ids),
        )
        removed, by_anonymised, people = Counter(), Counter(), set(anonymised)
        for workspace_id, *user in cursor.fetchall():
            removed[workspace_id] += 1
            by_anonymised[workspace_id] += bool(user and user[0] in people)
        return [(pk, n, by_anonymised[pk]) for pk, n in removed.items()]


def erased_owner_id() -> int:
    """The inactive placeholder user that owns every deleted shell."""
    user, _ = User.objects.get_or_create(
        email=ERASED_OWNER_EMAIL,
        defaults={"is_active": False, "password": make_password(None)},
    )
    return user.pk


# The batch's people (seats and owners), less staff and those with a seat in, or owning
# a live, other workspace. Each check is a LATERAL probe with LIMIT 1, which PostgreSQL
# cannot turn into a join: a handful of index entries per person through the seat's user
# index and the owner index. Written as NOT EXISTS, it becomes an anti-join that hashes
# every seat and workspace of the table for every batch.
ORPHANS_SQL = """
WITH people AS MATERIALIZED (
    SELECT u.id FROM {user} u WHERE NOT u.is_staff AND NOT u.is_superuser AND u.id IN (
        SELECT m.user_id FROM {member} m
        WHERE m.workspace_id IN (SELECT unnest(%(batch)s::bigint[]))
        UNION ALL SELECT w.owner_id FROM {workspace} w
        WHERE w.id IN (SELECT unnest(%(batch)s::bigint[])))
)
SELECT p.id FROM people p
LEFT JOIN LATERAL (SELECT 1 AS kept FROM {member} m WHERE m.user_id = p.id
    AND m.workspace_id <> ALL(%(batch)s::bigint[]) LIMIT 1) seat ON true
LEFT JOIN LATERAL (SELECT 1 AS kept FROM {workspace} w WHERE w.owner_id = p.id
    AND w.status <> 'deleted' AND w.id <> ALL(%(batch)s::bigint[]) LIMIT 1) owned ON true
WHERE seat.kept IS NULL AND owned.kept IS NULL
ORDER BY p.id
"""


def orphan_users(workspace_ids: list[int]) -> list[int]:
    """Customers of these workspaces who have no seat in, and own no live, other workspace.

    Staff are never touched: they are our agents, not the customer's data. On PostgreSQL
    one statement (`ORPHANS_SQL`); elsewhere the people, then those of them kept.
    """
    if connection.vendor == "postgresql":
        tables = {
            "member": WorkspaceMember._meta.db_table,
            "workspace": Workspace._meta.db_table,
            "user": User._meta.db_table,
        }
        with connection.cursor() as cursor:
            cursor.execute(ORPHANS_SQL.format(**tables), {"batch": pg_int_array(workspace_ids)})
            return [pk for (pk,) in cursor.fetchall()]
    batch = id_list(workspace_ids)
    people = set(
        WorkspaceMember.objects.filter(workspace_id__in=batch)
        .order_by()
        .values_list("user_id", flat=True)
        .union(Workspace.objects.filter(pk__in=batch).order_by().values_list("owner_id"))
    )
    if not people:
        return []
    candidates = id_list(people)
    kept = set(
        WorkspaceMember.objects.filter(user_id__in=candidates)
        .exclude(workspace_id__in=batch)
        .order_by()
        .values_list("user_id", flat=True)
        .union(
            Workspace.objects.filter(owner_id__in=candidates)
            .exclude(pk__in=batch)
            .exclude(status=Workspace.Status.DELETED)
            .order_by()
            .values_list("owner_id"),
            User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), pk__in=candidates)
            .order_by()
            .values_list("pk"),
        )
    )
    return sorted(people - kept)


def workspaces_erase(
    *,
    workspace_ids: list[int],
    now: datetime,
    reasons: dict[int, DeletionReason],
    rows: list[dict[str, Any]] | None = None,
) -> int:
    """Erase the personal data of these (locked) workspaces and leave a tombstone each.

    Must run inside the caller's transaction. A fixed number of statements whatever the
    workspaces hold: on PostgreSQL the orphans' query and one statement for the rest
    (`erasure_sql`); elsewhere one DELETE per table (counting what it removed), one UPDATE
    for users, one for the shells, one INSERT for the tombstones. `rows` are the
    workspaces' `fact_rows` when the caller already has them.
    """
    batch = id_list(workspace_ids)
    if rows is None:
        rows = fact_rows(Workspace.objects.filter(pk__in=batch))
    rules = rules_for_rows(rows)
    orphan_ids = orphan_users(workspace_ids)
    if connection.vendor == "postgresql":
        erased = erase_in_one_statement(
            statement=erase_statement(PERSONAL_DATA, tuple(_COUNT_KINDS)),
            tombstones=[
                (
                    row,
                    str(reasons[row["pk"]]),
                    rules[row["pk"]][1],
                    _retained(rules[row["pk"]][0], row),
                )
                for row in rows
            ],
            orphan_ids=orphan_ids,
            owner_id=erased_owner_id(),
            password=make_password(None),
            now=now,
        )
        logger.info("purge: erased %d workspaces", erased)
        return erased
    orphans = id_list(orphan_ids)
    counts: dict[int, Counter] = defaultdict(Counter)
    for name, model in PERSONAL_DATA:
        for workspace_id, removed, anonymised in _delete_counting(model, workspace_ids, orphan_ids):
            counts[workspace_id][name] += removed
            counts[workspace_id]["profiles_anonymised"] += anonymised
    if orphan_ids:
        Token.objects.filter(user_id__in=orphans).delete()
        IdempotencyKey.objects.filter(user_id__in=orphans).delete()
        User.objects.filter(pk__in=orphans).update(
            email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@erased.invalid")),
            full_name="",
            first_name="",
            last_name="",
            password=make_password(None),
            is_active=False,
            last_login=None,
        )
    Workspace.objects.filter(pk__in=batch).update(
        status=Workspace.Status.DELETED,
        name=Concat(Value("Deleted workspace #"), Cast("pk", CharField())),
        slug=Concat(Value("deleted-"), Cast("pk", CharField())),
        owner_id=erased_owner_id(),
        billing_email="",
        vat_number="",
        suspension_reason="",
        storage_used_mb=0,
        legal_hold_reason="",
        deletion_due_at=None,
    )
    tombstones = [
        (
            row,
            str(reasons[row["pk"]]),
            rules[row["pk"]][1],
            {kind: counts[row["pk"]].get(kind, 0) for kind in _COUNT_KINDS},
            _retained(rules[row["pk"]][0], row),
        )
        for row in rows
    ]
    _insert_tombstones(tombstones, now=now)
    logger.info("purge: erased %d workspaces", len(tombstones))
    return len(tombstones)


def _retained(rule: RetentionRule, row: dict[str, Any]) -> list[dict[str, str | None]]:
    """The parts of the data this workspace's rule keeps beyond the erasure, for its
    tombstone: they live outside what the purge erases (backups, the provider's records
    of credentials), so the tombstone says what remains, until when, and by which clause."""
    return [
        {
            "what": part.what,
            "until": until.isoformat() if until else None,
            "clause": part.clause.ref,
        }
        for part, until in retained_parts(rule, row_facts(row))
    ]


def _insert_tombstones(
    tombstones: list[tuple[dict, str, str, dict, list]], *, now: datetime
) -> None:
    """One INSERT of (fact row, rule, policy label, counts, retained parts)."""
    DeletionTombstone.objects.bulk_create(
        DeletionTombstone(
            workspace_id=row["pk"],
            workspace_created_at=row["created_at"],
            last_activity_at=row["last_activity_at"],
            ended_at=row["ended_at"],
            deleted_at=now,
            rule=rule,
            policy=policy,
            counts=counts,
            retained=retained,
        )
        for row, rule, policy, counts, retained in tombstones
    )


_COUNT_KINDS = [name for name, _model in PERSONAL_DATA] + ["profiles_anonymised"]
