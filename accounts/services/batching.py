"""Batches of workspace ids for the set-based jobs (retention refresh, warnings, purge).

A batch travels to PostgreSQL as one array parameter, ids are read in keyset pages (never
OFFSET), and a batch's rows are claimed with SKIP LOCKED so concurrent runs or fanned-out
Celery tasks never take the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL


def id_list(ids: Iterable[int]) -> list[int] | RawSQL:
    """A batch of ids for `__in`: on PostgreSQL one array parameter
    (`IN (SELECT unnest(%s))`), so a batch of thousands neither costs thousands of
    placeholders to bind nor changes the statement's shape; a plain list elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [pg_int_array(ids)])
    return ids


def pg_int_array(ids: Iterable[int]) -> str:
    """An integer array literal, built once: cheaper than letting the driver dump a list
    element by element for every statement that uses the batch."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


def id_batches(queryset: QuerySet, *, batch_size: int, limit: int | None = None) -> Iterator[list]:
    """Primary keys in ascending pages (keyset, not OFFSET): flat memory, no rereads.

    Each page is `WHERE <conditions> AND pk > last ORDER BY pk LIMIT size`, read with
    `values_list("pk")`: PostgreSQL walks the primary key (or the due-date index) from the
    cursor on and stops after `size` matches, so the pages together read each due row once.
    """
    last_pk, remaining = 0, limit
    ordered = queryset.order_by("pk")
    while remaining is None or remaining > 0:
        size = batch_size if remaining is None else min(batch_size, remaining)
        ids = list(ordered.filter(pk__gt=last_pk).values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last_pk = ids[-1]
        if remaining is not None:
            remaining -= len(ids)


def lock_skipping_taken(queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` locked in primary-key order, skipping rows another
    transaction holds (PostgreSQL); SQLite has one writer and locks nothing."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk")
    return queryset.select_for_update().order_by("pk")


def due_id_batches(
    queryset: QuerySet, *, batch_size: int, limit: int | None = None
) -> Iterator[list[int]]:
    """Ids of `queryset` (a selection of workspaces by `deletion_due_at`) in due pages."""
    for rows in due_pages(queryset, fields=(), batch_size=batch_size, limit=limit):
        yield [row["pk"] for row in rows]


def due_pages(
    queryset: QuerySet, *, fields: tuple[str, ...], batch_size: int, limit: int | None = None
) -> Iterator[list[dict]]:
    """Rows (`fields` of `queryset`, a selection of workspaces by `deletion_due_at`) in
    pages keyed on `(deletion_due_at, id)`.

    The `workspace_due_keyset` index holds exactly that key (and the flags the selections
    test), so each page is one index range scan from the cursor that stops after
    `batch_size` matches: the pages together read each due row once. With no `fields`
    the scan reads the index alone (an index-only scan: no table page is visited for
    rows the visibility map marks as visible to all). Paging on `id` alone would make
    PostgreSQL collect every due row above the cursor and sort them, for every page
    (quadratic in due rows).
    """
    last, remaining = None, limit
    while remaining is None or remaining > 0:
        size = batch_size if remaining is None else min(batch_size, remaining)
        rows = list(due_page(queryset, after=last, size=size, fields=fields))
        if not rows:
            return
        yield rows
        last = (rows[-1]["deletion_due_at"], rows[-1]["pk"])
        if remaining is not None:
            remaining -= len(rows)


def due_page(
    queryset: QuerySet,
    *,
    after: tuple | None,
    size: int,
    fields: tuple[str, ...] = (),
) -> QuerySet:
    """One keyset page: `WHERE <selection> AND (deletion_due_at, id) > after ORDER BY
    deletion_due_at, id LIMIT size`, as `values("deletion_due_at", "pk", *fields)`."""
    page = queryset.order_by("deletion_due_at", "pk")
    if after is not None:
        table = queryset.model._meta.db_table
        due_field = queryset.model._meta.get_field("deletion_due_at")
        cursor = RawSQL(
            f'("{table}"."deletion_due_at", "{table}"."id") > (%s, %s)',
            (due_field.get_db_prep_value(after[0], connection), after[1]),
            output_field=BooleanField(),
        )
        page = page.alias(after_cursor=cursor).filter(after_cursor=True)
    return page.values("deletion_due_at", "pk", *fields)[:size]
