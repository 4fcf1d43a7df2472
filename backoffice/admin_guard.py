"""Record pages that cannot change money, plans, status, ownership or lifecycle by hand.

Invariant: on an existing row, every model field is read-only except the admin's
`editable_on_change` (safe fields such as a workspace's name); those are saved through
`save_editable`, which the admin implements with an audited service. A row with nothing
editable is shown view-only: no Save buttons, and a POST to its page is refused (403).
State changes happen only through actions and record buttons that call the services.

Rows a service creates (subscriptions, add-ons, members...) are not added by hand either:
set `addable = False`.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest


def model_field_names(model: type[models.Model]) -> list[str]:
    """Every field a ModelForm could write: concrete editable fields and many-to-many."""
    fields = [f for f in model._meta.get_fields() if getattr(f, "editable", False)]
    return [
        f.name
        for f in fields
        if not f.auto_created and (f.concrete or f.many_to_many) and not f.primary_key
    ]


class GuardedAdmin(admin.ModelAdmin):
    editable_on_change: tuple[str, ...] = ()
    addable: bool = True

    def guarded_fields(self, request: HttpRequest, obj: models.Model) -> list[str]:
        editable = set(self.editable_fields(request, obj))
        return [name for name in model_field_names(self.model) if name not in editable]

    def editable_fields(self, request: HttpRequest, obj: models.Model) -> tuple[str, ...]:
        """Override to make the editable set depend on the row's state."""
        return self.editable_on_change

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return readonly + [f for f in self.guarded_fields(request, obj) if f not in readonly]

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self.editable_fields(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return self.addable and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            self.save_editable(request, obj, changed)

    def save_editable(self, request: HttpRequest, obj: models.Model, changes: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} edits fields without a service")


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on a record page, changed only through their own services."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            *(self.fields or model_field_names(self.model)),
        ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
