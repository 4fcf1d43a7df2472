"""Shared admin building blocks for large tables and append-only records."""

import json
from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ORDER_VAR, SEARCH_VAR
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import JSONField, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from backoffice.admin_rows import RowLinksChangeList
from backoffice.identifiers import parse_id
from billing.money import format_money

# Lists the planner puts above this many rows show its estimate. Exact counts below it
# cost what reading that many rows costs (a filter on a JSON key or through a relation
# reads each row): at most about a thousand rows, whatever the table's size.
ESTIMATE_THRESHOLD = 1_000
# A search through a relation (a payment's workspace, a seat's user) first looks up at most
# this many related rows, then filters on their ids: a refined term narrows the list.
RELATED_SEARCH_LIMIT = 500
# ...and the rows of this table it then lists are read by id first, at most this many: a
# list of ids whose length the planner knows, so it fetches them by primary key and sorts
# them, where `fk IN (500 ids)` let it walk the list's ordering index hoping to meet them.
SEARCH_MATCH_LIMIT = 10_000
DISTINCT_VALUES_CACHE_SECONDS = 600


class EstimatedCount(int):
    """A row count read from the planner, rendered as "about 1.2 M" wherever the admin
    prints the result count (`__html__` keeps it through the template's number format)."""

    def __str__(self) -> str:
        value = int(self)
        if value >= 1_000_000:
            return f"about {value / 1_000_000:.1f} M"
        if value >= 10_000:
            return f"about {value / 1_000:.0f} k"
        return f"about {value:,}"

    def __html__(self) -> str:
        return str(self)


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, a changelist whose rows number more than `ESTIMATE_THRESHOLD` by the
    planner's estimate shows that estimate instead of running `COUNT(*)`: `pg_class` for the
    whole table, `EXPLAIN` for a filtered or searched list. Below the threshold, and on
    other databases, the rows are counted exactly."""

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return estimated_count(self.object_list)

    def page(self, number):
        """The page's ids first (an index scan of the ordering, OFFSET included), then its
        rows with their joins by primary key: a deep page of a joined list (page 50 of
        refunds with payments and workspaces) never hash-joins whole tables."""
        page = super().page(number)
        bottom = (page.number - 1) * self.per_page
        if not bottom or not isinstance(self.object_list, QuerySet):
            return page  # the first page's LIMIT walks the ordering's index already
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        page.object_list = self.object_list.filter(pk__in=ids)
        return page


def estimated_count(queryset) -> int:
    """`queryset.count()`, or on PostgreSQL the planner's estimate (an `EstimatedCount`)
    when it is above `ESTIMATE_THRESHOLD`: a count of a million rows reads them all."""
    estimate = planner_estimate(queryset)
    if estimate is not None and estimate > ESTIMATE_THRESHOLD:
        return EstimatedCount(estimate)
    return queryset.count()


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows `queryset` returns; None elsewhere or unknown."""
    query = getattr(queryset, "query", None)
    connection = connections[queryset.db] if query is not None else None
    if connection is None or connection.vendor != "postgresql":
        return None
    if not query.where and not query.distinct:
        return _table_estimate(connection, queryset.model._meta.db_table)
    # Django explains a query that can match nothing (`pk__in=[]`) as an empty string.
    explained = queryset.order_by().explain(format="json")
    return int(json.loads(explained)[0]["Plan"]["Plan Rows"]) if explained else None


def _table_estimate(connection, table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class IndexedValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """The values of a free-text column (module codes, currencies) as filter choices without
    `SELECT DISTINCT` over the table: a skip scan walks the column's index one value at a
    time (a recursive CTE, cheap when few values repeat over many rows), and the list is
    cached for `DISTINCT_VALUES_CACHE_SECONDS`. The column needs an index leading with it."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        parent_model = self.lookup_choices.model
        self.lookup_choices = distinct_values(parent_model, field)


def distinct_values(model, field) -> list:
    db = router.db_for_read(model)
    key = f"admin-distinct:{connections[db].settings_dict['NAME']}:{model._meta.label}.{field.name}"
    values = cache.get(key)
    if values is None:
        values = _skip_scan(connections[db], model._meta.db_table, field.column)
        cache.set(key, values, DISTINCT_VALUES_CACHE_SECONDS)
    return values


def indexed_distinct(model, field_name: str) -> list:
    """The distinct values of an indexed column, read now (not cached) by the skip scan:
    one index probe per value, whatever the rows. A correlated `EXISTS` per row would be
    planned with the column's average selectivity and may scan the table for a value that
    no row holds."""
    db = router.db_for_read(model)
    column = model._meta.get_field(field_name).column
    return _skip_scan(connections[db], model._meta.db_table, column)


def _skip_scan(connection, table: str, column: str) -> list:
    quote = connection.ops.quote_name
    t, c = quote(table), quote(column)
    sql = (
        f"WITH RECURSIVE walk(v) AS ("
        f" SELECT * FROM (SELECT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} LIMIT 1) AS first"
        f" UNION ALL"
        f" SELECT (SELECT {c} FROM {t} WHERE {c} > walk.v ORDER BY {c} LIMIT 1)"
        f" FROM walk WHERE walk.v IS NOT NULL"
        f") SELECT v FROM walk WHERE v IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class LargeTableAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    show_full_result_count = False
    list_per_page = 50
    # Integer columns a numeric search term matches exactly, through their index. The
    # admin's own `=field` on an integer casts the column to text and scans the table.
    search_id_fields: tuple[str, ...] = ()

    # JSON columns a changelist's columns read. Every other JSON column of the listed rows,
    # and of the rows they `list_select_related`, stays in the database on the changelist:
    # decoding a stored quote, snapshot or policy's rules for each of 50 rows cost more
    # than the page's queries.
    list_json_fields: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return RowLinksChangeList

    def action_checkbox(self, obj):
        """Django's row checkbox, the same markup written directly: rendering a
        `CheckboxInput` through the form renderer's three templates cost more than the
        rest of the row's cells together (1.3 ms a row of a 50-row page)."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if request.method != "GET" or match is None or not match.url_name.endswith("_changelist"):
            return queryset  # actions and change pages read the whole rows
        related = self.list_select_related
        paths = related if isinstance(related, list | tuple) else ()
        deferred = [
            name for name in json_fields(self.model, paths) if name not in self.list_json_fields
        ]
        return queryset.defer(*deferred) if deferred else queryset

    def get_search_results(self, request, queryset, search_term):
        """A numeric term matches `search_id_fields`. Search fields through a relation
        ("workspace__slug__startswith", "user__email__startswith") are looked up in the
        related table first (one indexed query per relation), then this table is filtered
        on those ids: an OR across a join has no index, an OR of `fk IN (...)` has one per
        foreign key. Such search fields name their lookup. A term that is an email address
        only searches the email fields (`_fields_for_term`)."""
        term = search_term.strip()
        if self.search_id_fields and (number := parse_id(term)) is not None:
            matches = Q.create([(name, number) for name in self.search_id_fields], "OR")
            return queryset.filter(matches), False
        if term and self._searches_by_ids(request, term):
            fields = _fields_for_term(list(self.get_search_fields(request)), term)
            by_relation = _search_fields_by_relation(self.model, fields)
            matches = searched_rows(self.model).filter(
                _relation_first_search(self.model, by_relation, term)
            )
            ids = matches.order_by().values_list("pk", flat=True)[:SEARCH_MATCH_LIMIT]
            return queryset.filter(pk__in=list(ids)), False
        return super().get_search_results(request, queryset, search_term)

    def _searches_by_ids(self, request, term: str) -> bool:
        """Whether a search reads the matching ids first: through a relation, or an email
        looked for in the email fields only."""
        every_field = list(self.get_search_fields(request))
        fields = _fields_for_term(every_field, term)
        return any(_search_fields_by_relation(self.model, fields)) or fields != every_field

    # A direct search with many matches (a word of a workspace name) is listed newest
    # first when this is set: walking the primary key stops after a page of matches,
    # where the list's own order (names) may skip a fixed share of the table before the
    # first match. Searches that read ids first are always listed newest first: the
    # primary key index returns a page of those ids in order, where the list's ordering
    # index would be walked in the hope of meeting them (the planner's bet, lost when the
    # matches are old rows).
    search_ordering: tuple[str, ...] = ()

    def get_ordering(self, request):
        term = request.GET.get(SEARCH_VAR, "").strip()
        if term and ORDER_VAR not in request.GET and parse_id(term) is None:
            if self.search_ordering:
                return list(self.search_ordering)
            if self._searches_by_ids(request, term):
                return ["-pk"]
        return super().get_ordering(request)


def json_fields(model, select_related: Iterable[str]) -> list[str]:
    """The JSON columns of `model` and of the models along `select_related`'s paths, as
    `defer()` names them ("quote", "subscription__policy__rules")."""
    found = [f.name for f in model._meta.concrete_fields if isinstance(f, JSONField)]
    for path in select_related:
        related, prefix = model, []
        for name in path.split(LOOKUP_SEP):
            related = related._meta.get_field(name).related_model
            prefix.append(name)
            found.extend(
                LOOKUP_SEP.join([*prefix, f.name])
                for f in related._meta.concrete_fields
                if isinstance(f, JSONField)
            )
    return list(dict.fromkeys(found))


def searched_rows(model):
    """The rows of `model` a search looks among: those its secondary indexes hold, when a
    model keeps them for some rows only and names them `LIVE` (a `Q`; the workspace's erased
    shells are in none). Looking among every row would leave those indexes unused."""
    live = getattr(model, "LIVE", None)
    manager = model._default_manager
    return manager.all() if live is None else manager.filter(live)


def is_email(term: str) -> bool:
    return "@" in term and " " not in term


def _fields_for_term(fields: list[str], term: str) -> list[str]:
    """An email is looked for in the email fields only, when the admin has any: matched
    against a name's trigram index as well, its many common trigrams ("exa", "com") make
    PostgreSQL read posting lists that grow with the table, for a term no name holds."""
    emails = [field for field in fields if "email" in field]
    return emails if emails and is_email(term) else fields


def _search_fields_by_relation(model, fields: list[str]) -> dict[str, list[str]]:
    """{"workspace": ["slug__startswith", ...], "": ["provider_reference__exact"]}."""
    grouped: dict[str, list[str]] = {}
    for field_path in fields:
        opts, relation, parts = model._meta, [], field_path.split(LOOKUP_SEP)
        while len(parts) > 1:
            try:
                field = opts.get_field(parts[0])
            except FieldDoesNotExist:
                break
            if not field.is_relation or field.many_to_many or field.one_to_many:
                break
            relation.append(parts.pop(0))
            opts = field.related_model._meta
        grouped.setdefault(LOOKUP_SEP.join(relation), []).append(LOOKUP_SEP.join(parts))
    return grouped


def _relation_first_search(model, by_relation: dict[str, list[str]], term: str) -> Q:
    conditions = []
    for relation, lookups in by_relation.items():
        match = Q.create([(lookup, term) for lookup in lookups], "OR")
        if not relation:
            conditions.append(match)
            continue
        hops, related = relation.split(LOOKUP_SEP), model
        path = []  # (model reached, the foreign key that reaches it)
        for name in hops:
            path.append((related, name))
            related = related._meta.get_field(name).related_model
        ids = searched_rows(related).filter(match).order_by().values_list("pk", flat=True)
        ids = list(ids[:RELATED_SEARCH_LIMIT])
        # Through several hops (an add-on's subscription's workspace), the ids of each
        # intermediate table are looked up in turn, each on its foreign key's index: a
        # join to the far table would hash the intermediate one whole.
        for intermediate, name in reversed(path[1:]):
            rows = intermediate._default_manager.filter((f"{name}__in", ids))
            ids = list(rows.order_by().values_list("pk", flat=True))
        conditions.append(Q((f"{hops[0]}__in", ids)))
    return Q.create(conditions, "OR")


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
