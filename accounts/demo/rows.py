"""Unsaved demo rows: plain field values, no model instances, written in bulk by `writer`.

A `Row` is far cheaper to build than a model instance (a million workspaces make some
twenty million rows). Its attributes read like the model's: a field not given reads as
the field's default. A foreign key holds the parent `Row` (or a saved model instance);
the writer gives every row its id, parents first, and resolves the keys from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class Row:
    __slots__ = ("model", "pk", "values")

    def __init__(self, model: type[models.Model], **values):
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "pk", None)
        object.__setattr__(self, "values", values)

    def __getattr__(self, name: str):
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        return self.model._meta.get_field(name).get_default()

    def __setattr__(self, name: str, value) -> None:
        if name == "pk":
            object.__setattr__(self, "pk", value)
        else:
            self.values[name] = value


class IdOf:
    """A text column holding another row's id (an audit record's `target_id`)."""

    __slots__ = ("row",)

    def __init__(self, row: Row | models.Model):
        self.row = row

    def resolve(self) -> str:
        return str(self.row.pk)


@dataclass
class Batch:
    """Unsaved rows of one chunk of workspaces, by model."""

    rows: dict[type[models.Model], list[Row]] = field(default_factory=dict)

    def add(self, model: type[models.Model], **values) -> Row:
        row = Row(model, **values)
        self.rows.setdefault(model, []).append(row)
        return row
