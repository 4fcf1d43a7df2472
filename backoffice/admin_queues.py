"""Queues open on what needs work, and export as filtered.

`QueueStatusFilter`: a status filter whose default (no parameter) is the work still to do
(open cancellation requests; proposed and failed refunds); "All" is an explicit choice.
`CsvExportAdmin`: "Export CSV" on the changelist streams the rows the agent is looking
at (same filters, search and ordering), in batches, with the columns of the list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    label_for_field,
    lookup_field,
)
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import capfirst

ALL = "all"
CSV_BATCH = 2_000


class QueueStatusFilter(admin.SimpleListFilter):
    """Subclasses set `default` (the key shown with no parameter) and `queues`: key →
    (label, Q)."""

    title = "status"
    parameter_name = "status"
    default = ""
    queues: dict[str, tuple[str, Q]] = {}

    def value(self):
        chosen = super().value()
        return chosen if chosen in self.queues or chosen == ALL else self.default

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.queues.items()] + [(ALL, "All")]

    def choices(self, changelist):
        current = self.value()
        for key, label in self.lookup_choices:
            yield {
                "selected": current == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": label,
            }

    def queryset(self, request, queryset):
        chosen = self.value()
        if chosen == ALL:
            return queryset
        return queryset.filter(self.queues[chosen][1])


def status_queues(model, *, work: tuple[str, str, tuple]) -> dict[str, tuple[str, Q]]:
    """The work queue first (key, label, statuses), then one entry per status."""
    key, label, statuses = work
    queues = {key: (label, Q(status__in=statuses))}
    for value, name in model._meta.get_field("status").choices:
        queues[value] = (name, Q(status=value))
    return queues


class _Echo:
    def write(self, value: str) -> str:
        return value


class CsvExportAdmin(admin.ModelAdmin):
    """Adds `<changelist>/export.csv`, linked from the changelist as "Export CSV"."""

    csv_filename = ""

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.csv_export_view),
                name=f"{opts.app_label}_{opts.model_name}_csv",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "csv_export_url": f"export.csv?{request.GET.urlencode()}".rstrip("?"),
        }
        return super().changelist_view(request, extra_context)

    def csv_export_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
            queryset = changelist.get_queryset(request)
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1"
            )
        columns = [name for name in changelist.list_display if name != "action_checkbox"]
        name = self.csv_filename or self.model._meta.model_name
        stamp = timezone.localtime(timezone.now()).strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            self._csv_rows(columns, queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response

    def _csv_rows(self, columns: list[str], queryset) -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(
            [capfirst(strip_tags(str(label_for_field(c, self.model, self)))) for c in columns]
        )
        for obj in queryset.iterator(chunk_size=CSV_BATCH):
            yield writer.writerow([self._csv_cell(obj, column) for column in columns])

    def _csv_cell(self, obj, column: str) -> str:
        field, attr, value = lookup_field(column, obj, self)
        empty = ""
        if field is None:
            boolean = getattr(attr, "boolean", False)
            shown = display_for_value(value, empty, boolean)
            if boolean:
                shown = "yes" if value else "no"
        elif getattr(field, "flatchoices", None):
            shown = dict(field.flatchoices).get(value, value)
        elif field.get_internal_type() == "BooleanField":
            shown = "yes" if value else "no"
        else:
            shown = display_for_field(value, field, empty)
        return strip_tags(str(shown))
