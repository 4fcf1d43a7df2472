"""The one way to write an audit record. Call it inside the transaction of the change
(`audit_entry` builds the same record unsaved, for bulk writes)."""

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection, models

from accounts.models import AuditRecord, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    workspace_id: int | None = None,
) -> AuditRecord:
    record = audit_entry(
        actor=actor,
        action=action,
        target=target,
        now=now,
        before=before,
        after=after,
        note=note,
        workspace_id=workspace_id,
    )
    record.save()
    return record


def audit_entry(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    workspace_id: int | None = None,
) -> AuditRecord:
    """The unsaved record, for a batch job that writes its records with one
    `AuditRecord.objects.bulk_create` in the transaction of its changes."""
    if workspace_id is None:
        workspace_id = getattr(target, "workspace_id", None)
        if workspace_id is None and target._meta.model_name == "workspace":
            workspace_id = target.pk
    return AuditRecord(
        actor=actor,
        actor_label=actor.email if actor else "system",
        action=action,
        target_type=target._meta.label,
        target_id=str(target.pk),
        workspace_id=workspace_id,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        note=note,
        created_at=now,
    )


def insert_with_audit_record(
    instance: models.Model,
    *,
    actor: User | None,
    action: str,
    now: datetime,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditRecord:
    """Insert the new row `instance` and its audit record (target: that row), inside the
    caller's transaction. On PostgreSQL one statement does both (a data-modifying CTE
    gives the record the row's id), one round trip instead of two on a request's path;
    elsewhere two saves. No signals are sent, as `bulk_create` sends none: nothing here
    listens to these models' saves."""
    record = audit_entry(
        actor=actor, action=action, target=instance, now=now, after=after, note=note
    )
    if connection.vendor != "postgresql":
        instance.save(force_insert=True)
        record.target_id = str(instance.pk)
        record.save(force_insert=True)
        return record
    model, sql = _insert_with_record_sql(type(instance))
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in model]
    params += [
        f.get_db_prep_save(f.pre_save(record, True), connection)
        for f in _audit_fields()
        if f.attname != "target_id"
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        record.pk, target_id = cursor.fetchone()
    instance.pk = int(target_id)
    record.target_id = target_id
    for saved in (instance, record):
        saved._state.adding = False
        saved._state.db = connection.alias
    return record


@lru_cache
def _audit_fields() -> tuple[models.Field, ...]:
    return tuple(f for f in AuditRecord._meta.concrete_fields if not f.primary_key)


@lru_cache
def _insert_with_record_sql(model: type[models.Model]) -> tuple[tuple[models.Field, ...], str]:
    """The statement of `insert_with_audit_record` for `model` (an integer primary key),
    and the fields whose values it takes before the record's."""
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    record_columns = ", ".join(quote(f.column) for f in _audit_fields())
    record_values = ", ".join(
        f"(SELECT {pk}::text FROM new_row)" if f.attname == "target_id" else "%s"
        for f in _audit_fields()
    )
    sql = (
        f"WITH new_row AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES ({placeholders}) RETURNING {pk}) "
        f"INSERT INTO {quote(AuditRecord._meta.db_table)} ({record_columns}) "
        f"VALUES ({record_values}) RETURNING {quote(AuditRecord._meta.pk.column)}, "
        f"{quote(AuditRecord._meta.get_field('target_id').column)}"
    )
    return fields, sql


def snapshot_fields(instance: models.Model, *names: str) -> dict[str, Any]:
    """The named fields of `instance` as JSON-ready values, for before/after."""
    return _jsonable({name: getattr(instance, name) for name in names})


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, dict):
            value = _jsonable(value)
        elif value is not None and not isinstance(value, bool | int | float | str | list):
            value = str(value) if not hasattr(value, "isoformat") else value.isoformat()
        out[key] = value
    return out


AUDIT_COLUMNS = (
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "workspace_id",
    "before",
    "after",
    "note",
    "created_at",
)


def audit_records_write(records: list[AuditRecord]) -> None:
    """Write the records of `audit_entry` for a batch job in one statement, inside the
    transaction of its changes. On PostgreSQL that statement is a COPY: a batch's audit
    records cost more to pass through `bulk_create` (each value prepared, each list dumped
    as an array) than the rest of the batch's writes together. The records get no ids."""
    if not records:
        return
    if connection.vendor != "postgresql":
        AuditRecord.objects.bulk_create(records)
        return
    statement = f"COPY {AuditRecord._meta.db_table} ({', '.join(AUDIT_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for r in records:
            copy.write_row(
                (
                    r.actor_id,
                    r.actor_label,
                    r.action,
                    r.target_type,
                    r.target_id,
                    r.workspace_id,
                    json.dumps(r.before),
                    json.dumps(r.after),
                    r.note,
                    r.created_at,
                )
            )
