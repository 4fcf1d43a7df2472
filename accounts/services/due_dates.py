"""The stored deletion date (`Workspace.deletion_due_at`) computed and written in bulk.

`deletion_due_at` is a denormalised copy of `accounts.retention.deletion_deadline` for the
policy of the workspace's latest subscription. These helpers compute it for many
workspaces with one policy query and write it with one UPDATE; the retention services,
activity tracking and the purge build on them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Case, DateTimeField, F, Func, Value, When

from accounts.models import Workspace
from accounts.retention import RetentionFacts, deletion_deadline
from accounts.selectors import latest_policy_id, latest_subscription_value, rules_for_rows

from .batching import id_list, pg_int_array

FACT_FIELDS = ("pk", "created_at", "last_activity_at", "ended_at", "deletion_due_at")


# The rows also carry the latest subscription's `cancelled_at` (retention counted from it).
DATE_FIELDS = (*FACT_FIELDS[1:], "cancelled_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fact_rows(queryset) -> list[dict[str, Any]]:
    """`FACT_FIELDS` and the latest subscription's `policy_id` and `cancelled_at` of each
    workspace.

    On PostgreSQL the dates travel as integer microseconds since the epoch: the driver
    decodes an integer in C, while each timestamptz goes through Django's time-zone loader
    in Python, which made decoding the rows cost more than the query in the purge."""
    queryset = queryset.annotate(
        policy_id=latest_policy_id(), cancelled_at=latest_subscription_value("cancelled_at")
    )
    if connection.vendor != "postgresql":
        return list(queryset.values(*FACT_FIELDS, "policy_id", "cancelled_at"))
    micros = {f"{name}_us": _Microseconds(name) for name in DATE_FIELDS}
    return [
        {
            "pk": row["pk"],
            "policy_id": row["policy_id"],
            **{name: _moment(row[f"{name}_us"]) for name in DATE_FIELDS},
        }
        for row in queryset.annotate(**micros).values("pk", "policy_id", *micros)
    ]


class _Microseconds(Func):
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def _moment(microseconds: int | None) -> datetime | None:
    return None if microseconds is None else _EPOCH + timedelta(microseconds=microseconds)


def row_facts(row: dict[str, Any], *, last_activity_at: datetime | None = None) -> RetentionFacts:
    """The retention facts of one of `fact_rows`' rows; `last_activity_at`, when given,
    replaces the row's own (the activity being recorded)."""
    return RetentionFacts(
        created_at=row["created_at"],
        last_activity_at=last_activity_at or row["last_activity_at"],
        ended_at=row["ended_at"],
        cancelled_at=row["cancelled_at"],
    )


def due_dates(rows: list[dict[str, Any]], *, last_activity_at: datetime | None = None) -> dict:
    """Deadline per workspace id for `fact_rows`' rows (`rules_for_rows`: one policy query,
    one more only for policies with retention variants)."""
    rules = rules_for_rows(rows)
    return {
        row["pk"]: deletion_deadline(
            rules[row["pk"]][0], row_facts(row, last_activity_at=last_activity_at)
        )
        for row in rows
    }


def write_due_dates(due_by_id: dict[int, datetime | None], **also: Any) -> int:
    """One UPDATE giving each workspace its own `deletion_due_at` (plus `also` for all).

    On PostgreSQL a bulk change joins two array parameters (`UPDATE ... FROM unnest`): a
    CASE with a branch per row would be evaluated branch by branch for every row."""
    if not due_by_id:
        return 0
    if connection.vendor == "postgresql" and not also:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Workspace._meta.db_table} AS w SET deletion_due_at = v.due "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE w.id = v.id",
                [pg_int_array(due_by_id), list(due_by_id.values())],
            )
            return cursor.rowcount
    # The column as default (never taken: every row has a branch) types the CASE for
    # PostgreSQL, which reads a CASE whose branches are all NULL as text.
    due = Case(
        *[When(pk=pk, then=Value(at)) for pk, at in due_by_id.items()],
        default=F("deletion_due_at"),
        output_field=DateTimeField(),
    )
    return Workspace.objects.filter(pk__in=id_list(due_by_id)).update(deletion_due_at=due, **also)
