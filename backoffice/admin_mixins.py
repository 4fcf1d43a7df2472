"""Shared admin building blocks for large tables and append-only records."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from billing.money import format_money

ESTIMATE_THRESHOLD = 10_000


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered changelist uses the planner's row estimate instead of
    `COUNT(*)` once the table is large; filtered or small tables are counted exactly."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            estimate = _estimated_rows(self.object_list)
            if estimate is not None and estimate > ESTIMATE_THRESHOLD:
                return estimate
        return super().count


def _estimated_rows(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class LargeTableAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    show_full_result_count = False
    list_per_page = 50


class AppendOnlyAdmin(LargeTableAdmin):
    """Records that nobody edits or deletes from the admin (audit, ledger, tombstones)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def money(amount_attr: str, *, description: str, currency_attr: str = "currency"):
    """An @admin.display column showing an amount with its currency."""

    @admin.display(description=description, ordering=amount_attr)
    def column(self, obj):
        return format_money(getattr(obj, amount_attr), getattr(obj, currency_attr))

    return column
