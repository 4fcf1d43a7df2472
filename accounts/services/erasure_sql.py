"""The erasure of a batch as one PostgreSQL statement (`erasure.workspaces_erase`).

Invariants:
- The same end state as the statement-by-statement erasure: every table of
  `erasure.PERSONAL_DATA` emptied of the batch's rows, the orphans' tokens and idempotency
  keys deleted and their profiles anonymised, the workspaces turned into shells, one
  tombstone each with the rows removed per kind and the parts of the data kept longer.
- One statement: each step is a data-modifying CTE (`DELETE ... RETURNING`, `UPDATE`),
  all run on one snapshot, and the tombstones are counted from what the DELETEs returned,
  in the database; the batch travels once as arrays instead of once per statement.
- The batch's ids reach every step through `= ANY(array)`, which PostgreSQL serves from
  each table's workspace (or user) index; a join to a set of the ids would let it hash
  whole child tables.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from rest_framework.authtoken.models import Token

from accounts.models import DeletionTombstone, User, Workspace, WorkspaceMember
from billing.models import IdempotencyKey

from .batching import pg_int_array


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def erase_statement(personal_data: tuple, kinds: tuple[str, ...]) -> str:
    """The statement for these (name, model) tables; `kinds` are the tombstone's counts
    (each table's name, then `profiles_anonymised`: seats of users anonymised)."""
    deletes = [
        f"{name} AS (DELETE FROM {_table(model)} WHERE workspace_id = ANY(%(ids)s::bigint[]) "
        f"RETURNING workspace_id, {'user_id' if model is WorkspaceMember else 'NULL::bigint'}"
        " AS user_id)"
        for name, model in personal_data
    ]
    removed = " UNION ALL ".join(
        f"SELECT workspace_id, '{name}' AS kind, user_id FROM {name}" for name, _ in personal_data
    )
    counted = {name: f"count(*) FILTER (WHERE kind = '{name}')" for name, _ in personal_data}
    counted["profiles_anonymised"] = "count(*) FILTER (WHERE user_id = ANY(%(orphans)s::bigint[]))"
    counts = ", ".join(f"'{kind}', {counted[kind]}" for kind in kinds)
    zeros = ", ".join(f"'{kind}', 0" for kind in kinds)
    return f"""
WITH {", ".join(deletes)},
counts AS (SELECT workspace_id, jsonb_build_object({counts}) AS counts
    FROM ({removed}) AS removed GROUP BY workspace_id),
tokens AS (DELETE FROM {_table(Token)} WHERE user_id = ANY(%(orphans)s::bigint[])),
keys AS (DELETE FROM {_table(IdempotencyKey)} WHERE user_id = ANY(%(orphans)s::bigint[])),
people AS (UPDATE {_table(User)} SET email = 'erased-' || id || '@erased.invalid',
    full_name = '', first_name = '', last_name = '', password = %(password)s,
    is_active = false, last_login = NULL
    WHERE id = ANY(%(orphans)s::bigint[])),
shells AS (UPDATE {_table(Workspace)} SET status = %(deleted)s,
    name = 'Deleted workspace #' || id, slug = 'deleted-' || id, owner_id = %(owner)s,
    billing_email = '', vat_number = '', suspension_reason = '', storage_used_mb = 0,
    legal_hold_reason = '', deletion_due_at = NULL
    WHERE id = ANY(%(ids)s::bigint[]))
INSERT INTO {_table(DeletionTombstone)} (workspace_id, workspace_created_at,
    last_activity_at, ended_at, deleted_at, rule, policy, counts, retained)
SELECT w.id, w.created_at, w.last_activity_at, w.ended_at, %(now)s, b.rule, b.policy,
    coalesce(c.counts, jsonb_build_object({zeros})), b.retained::jsonb
FROM unnest(%(ids)s::bigint[], %(rules)s::text[], %(policies)s::text[], %(retained)s::text[])
    AS b(id, rule, policy, retained)
JOIN {_table(Workspace)} w ON w.id = b.id
LEFT JOIN counts c ON c.workspace_id = b.id
"""


def erase_in_one_statement(
    *,
    statement: str,
    tombstones: list[tuple[dict[str, Any], str, str, list]],
    orphan_ids: list[int],
    owner_id: int,
    password: str,
    now: datetime,
) -> int:
    """Run `erase_statement` for these (fact row, rule, policy label, parts kept longer)
    workspaces; returns the tombstones written."""
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "ids": pg_int_array(row["pk"] for row, *_ in tombstones),
                "rules": [rule for _, rule, *_ in tombstones],
                "policies": [policy for _, _, policy, _ in tombstones],
                "retained": [json.dumps(retained) for *_, retained in tombstones],
                "orphans": pg_int_array(orphan_ids),
                "owner": owner_id,
                "password": password,
                "deleted": Workspace.Status.DELETED,
                "now": now,
            },
        )
        return cursor.rowcount
