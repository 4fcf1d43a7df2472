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

import json
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
    the `anonymised` users: `(workspace_id, removed, anonymised)`.

    On PostgreSQL the counting happens in the statement (`WITH d AS (DELETE ... RETURNING)
    SELECT ... GROUP BY`): one row per workspace comes back instead of one per seat or file.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    seats = model is WorkspaceMember
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            user_count = "count(*) FILTER (WHERE user_id = ANY(%s::bigint[]))" if seats else "0"
            cursor.execute(
                f"WITH d AS (DELETE FROM {table} WHERE workspace_id = ANY(%s::bigint[]) "
                f"RETURNING workspace_id{', user_id' if seats else ''}) "
                f"SELECT workspace_id, count(*), {user_count} FROM d GROUP BY workspace_id",
                [pg_int_array(workspace_ids)] + ([pg_int_array(anonymised)] if seats else []),
            )
            return cursor.fetchall()
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


def orphan_users(workspace_ids: list[int]) -> list[int]:
    """Customers of these workspaces who have no seat in, and own no live, other workspace.

    Staff are never touched: they are our agents, not the customer's data. Two queries,
    both driven from the batch's few people through the user and owner indexes: written as
    NOT EXISTS, PostgreSQL would hash-join every seat and workspace for every batch.
    """
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
    workspaces hold: one DELETE per table (counting what it removed), one UPDATE for
    users, one for the shells, one INSERT for the tombstones. `rows` are the workspaces'
    `fact_rows` when the caller already has them.
    """
    batch = id_list(workspace_ids)
    if rows is None:
        rows = fact_rows(Workspace.objects.filter(pk__in=batch))
    rules = rules_for_rows(rows)
    orphan_ids = orphan_users(workspace_ids)
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
    """One INSERT of (fact row, rule, policy label, counts, retained parts). On PostgreSQL
    the dates are read from the workspace rows themselves and the rest travels as array
    parameters: binding thousands of placeholders (or datetimes) costs more than the
    insert itself."""
    if not tombstones:
        return
    if connection.vendor != "postgresql":
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
        return
    kinds = _COUNT_KINDS
    pairs = ", ".join(f"'{kind}', b.{kind}" for kind in kinds)
    arrays = ", ".join(
        ["%s::bigint[]", "%s::text[]", "%s::text[]", "%s::text[]"]
        + ["%s::int[]"] * len(_COUNT_KINDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DeletionTombstone._meta.db_table} (workspace_id, "
            "workspace_created_at, last_activity_at, ended_at, deleted_at, rule, policy, "
            "counts, retained) SELECT w.id, w.created_at, w.last_activity_at, w.ended_at, %s, "
            f"b.rule, b.policy, jsonb_build_object({pairs}), b.retained::jsonb "
            f"FROM unnest({arrays}) AS b(id, rule, policy, retained, {', '.join(_COUNT_KINDS)}) "
            f"JOIN {Workspace._meta.db_table} w ON w.id = b.id",
            [
                now,
                pg_int_array(row["pk"] for row, *_ in tombstones),
                [rule for _, rule, *_ in tombstones],
                [policy for _, _, policy, *_ in tombstones],
                [json.dumps(retained) for *_, retained in tombstones],
                *[pg_int_array(t[3][kind] for t in tombstones) for kind in _COUNT_KINDS],
            ],
        )


_COUNT_KINDS = [name for name, _model in PERSONAL_DATA] + ["profiles_anonymised"]
