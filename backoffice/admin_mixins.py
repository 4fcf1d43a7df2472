"""Shared admin building blocks for large tables and append-only records."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils.functional import cached_property

from backoffice.identifiers import parse_id
from billing.money import format_money

ESTIMATE_THRESHOLD = 10_000
WORKSPACE_SEARCH_LIMIT = 500


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
    # Integer columns a numeric search term matches exactly, through their index. The
    # admin's own `=field` on an integer casts the column to text and scans the table.
    search_id_fields: tuple[str, ...] = ()

    # The foreign key to Workspace ("workspace", "payment__workspace"). Search fields under
    # it are looked up in the workspaces first (one indexed query), then the rows of those
    # workspaces are filtered by id: a join with an OR across two tables has no index.
    # With it set, every search field must name its lookup ("slug__startswith").
    search_workspace_path: str = ""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if self.search_id_fields and (number := parse_id(term)) is not None:
            matches = Q.create([(name, number) for name in self.search_id_fields], "OR")
            return queryset.filter(matches), False
        if self.search_workspace_path and term:
            return queryset.filter(self._workspace_first_search(request, term)), False
        return super().get_search_results(request, queryset, search_term)

    def _workspace_first_search(self, request, term: str) -> Q:
        from accounts.models import Workspace

        prefix = f"{self.search_workspace_path}__"
        fields = self.get_search_fields(request)
        on_workspace = [f.removeprefix(prefix) for f in fields if f.startswith(prefix)]
        own = [f for f in fields if not f.startswith(prefix)]
        workspaces = Workspace.objects.filter(Q.create([(f, term) for f in on_workspace], "OR"))
        ids = list(workspaces.values_list("pk", flat=True)[:WORKSPACE_SEARCH_LIMIT])
        return Q.create([(f"{prefix}in", ids)] + [(f, term) for f in own], "OR")


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
