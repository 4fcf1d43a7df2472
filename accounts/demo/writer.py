"""Writes a `Batch` of demo rows: COPY on PostgreSQL, multi-row INSERTs elsewhere.

Parents are written before children. On PostgreSQL each table's ids are taken from its
own sequence (`nextval` for the whole block at once, so a concurrent writer never gets
the same ids) and the rows are streamed with psycopg 3's `COPY ... FROM STDIN`, which
skips Django's per-row SQL compilation and is several times faster than `bulk_create`.
Elsewhere `bulk_create` returns the new ids (SQLite 3.35+ supports RETURNING).
"""

from __future__ import annotations

import json
from collections import Counter

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from accounts.models import (
    AuditRecord,
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from billing.models import (
    AddOn,
    CancellationRequest,
    CreditEntry,
    Dispute,
    OnboardingService,
    Payment,
    Refund,
    RefundReviewRequest,
    Subscription,
)

from .rows import Batch, IdOf, Row

# Parents before children: a child's foreign key reads its parent's id.
INSERT_ORDER: tuple[type[models.Model], ...] = (
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
    StoredFile,
    InternalMembership,
    Subscription,
    AddOn,
    OnboardingService,
    Payment,
    Dispute,
    CancellationRequest,
    Refund,
    CreditEntry,
    RefundReviewRequest,
    AuditRecord,
    DeletionTombstone,
)
BULK_BATCH_SIZE = 1_000


def write_batch(batch: Batch, created: Counter) -> None:
    """Insert every row of `batch` (inside the caller's transaction), counting per model."""
    copy = connection.vendor == "postgresql"
    for model in INSERT_ORDER:
        rows = batch.rows.get(model)
        if not rows:
            continue
        if copy:
            _copy_rows(model, rows)
        else:
            _bulk_create_rows(model, rows)
        created[model._meta.verbose_name_plural] += len(rows)


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.generated]


def _value(field: models.Field, row: Row):
    values = row.values
    if field.name in values:
        value = values[field.name]
    elif field.attname in values:
        value = values[field.attname]
    else:
        return field.get_default()
    kind = type(value)
    if kind is Row or isinstance(value, models.Model):
        return value.pk
    if kind is IdOf:
        return value.resolve()
    return value


def _copy_rows(model: type[models.Model], rows: list[Row]) -> None:
    """COPY is the hot path of a large seed: defaults are merged per row in one step and
    only the columns that can hold a row reference are resolved."""
    table = model._meta.db_table
    fields = [f for f in _columns(model) if not f.primary_key]
    names = [f.name for f in fields]
    defaults = {f.name: f.get_default() for f in fields}
    references = [i for i, f in enumerate(fields) if f.is_relation or not f.choices]
    as_json = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        columns = ", ".join(quote(f.column) for f in [model._meta.pk, *fields])
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                merged = {**defaults, **row.values}
                line = [merged[name] for name in names]
                for i in references:
                    kind = type(line[i])
                    if kind is Row or kind is IdOf or isinstance(line[i], models.Model):
                        line[i] = line[i].resolve() if kind is IdOf else line[i].pk
                for i in as_json:
                    line[i] = json.dumps(line[i], cls=DjangoJSONEncoder)
                copy.write_row([row.pk, *line])


def _bulk_create_rows(model: type[models.Model], rows: list[Row]) -> None:
    fields = [f for f in _columns(model) if not f.primary_key]
    objects = [model(**{f.attname: _value(f, row) for f in fields}) for row in rows]
    model.objects.bulk_create(objects, batch_size=BULK_BATCH_SIZE)
    for row, obj in zip(rows, objects, strict=True):
        row.pk = obj.pk
