"""The structured policy editor: a Django form built from the `PolicyRules` dataclasses.

Generic: the form is derived from `dataclasses.fields` and the type hints, so a field added
to the rules appears in the editor (labelled by `billing.policy.wording`, or by its name)
without code here. Nested rules become sections; an optional rule gets a "this rule
applies" box; a list of rules gets one block per rule with a "remove" box and an empty
block to add one; a `Clause` becomes its reference and reading. Validation is the one of
`billing.policy.validation`, its problems shown on the field they name.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from django import forms

from billing.policy.codec import optional_of, to_json, type_hints
from billing.policy.rules import Clause, PolicyRules
from billing.policy.validation import RulesInvalid, parse_rules
from billing.policy.wording import help_text, label

PRESENT = "__present"
REMOVE = "__remove"
ADD = "__add"

# Plain top-level settings, grouped; a setting not listed gets its own "General" place.
SETTING_SECTIONS = {
    "name": "General",
    "currency": "General",
    "refund_destination": "Destination",
    "destination_choice_allowed": "Destination",
    "cancellation_effective": "Effective moment and access",
    "cancellation_effective_with_refund": "Effective moment and access",
    "access_until": "Effective moment and access",
    "fallback": "Fallback",
    "never_refunded_kinds": "Never refunded",
    "case_by_case_review": "General",
    "order_packs_reset_at_renewal": "General",
}
# The order a policy owner reads the sections in; sections not listed come before "General".
SECTION_ORDER = (
    "Refund window",
    "Trial rule",
    "Proration rule",
    "Service deduction",
    "Never refunded",
    "Destination",
    "Effective moment and access",
    "Cancellation notice",
    "Downgrade notice",
    "Fallback",
    "Data retention",
    "Failed payments",
    "Plan changes",
    "Refusal",
    "General clause",
)
# General clauses that explain a plain setting (`clauses[key]`), shown in its section.
CLAUSE_OF_SETTING = {"never_refunded": "never_refunded_kinds"}


@dataclass
class Section:
    title: str
    names: list[str] = field(default_factory=list)
    help: str = ""


def _enum_choices(tp: type[Enum], blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(str(m.value), str(m.value).replace("_", " ")) for m in tp]
    return [("", blank), *choices] if blank is not None else choices


class PolicyRulesForm(forms.Form):
    """Edit `rules` (a `PolicyRules`); `rules_json()` gives the validated JSON."""

    def __init__(self, *args: Any, rules: PolicyRules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = rules
        self.sections: dict[str, Section] = {}
        self._build_dataclass(type(rules), rules, "", top=True)
        self.sections = dict(sorted(self.sections.items(), key=lambda item: _rank(item[0])))

    # --- building the fields ------------------------------------------------
    def _section(self, title: str, help: str = "") -> Section:
        return self.sections.setdefault(title, Section(title, help=help))

    def _add(self, section: Section, name: str, form_field: forms.Field, initial: Any) -> None:
        form_field.required = False
        form_field.label = _capitalised(str(form_field.label))
        form_field.help_text = form_field.help_text or help_text(name)
        self.fields[name] = form_field
        self.initial[name] = initial
        section.names.append(name)

    def _build_dataclass(self, tp: type, value: Any, path: str, top: bool = False, section=None):
        hints = type_hints(tp)
        for f in dataclasses.fields(tp):
            name = f"{path}.{f.name}" if path else f.name
            hint = hints[f.name]
            current = getattr(value, f.name, None) if value is not None else None
            if top:
                section = self._top_section(f.name, hint)
            self._build(hint, current, name, section)

    def _top_section(self, name: str, hint: Any) -> Section:
        inner = optional_of(hint) or hint
        nested = dataclasses.is_dataclass(inner) or typing.get_origin(inner) in (tuple, dict)
        if nested and not _is_scalar_tuple(inner):
            title = label(name)
            return self._section(title[:1].upper() + title[1:], help_text(name))
        return self._section(SETTING_SECTIONS.get(name, "General"))

    def _build(self, hint: Any, value: Any, name: str, section: Section) -> None:
        inner = optional_of(hint)
        if hint is Clause:
            self._build_clause(value, name, section)
        elif dataclasses.is_dataclass(hint):
            self._build_dataclass(hint, value, name, section=section)
        elif inner is not None and dataclasses.is_dataclass(inner):
            self._add(
                section,
                name + PRESENT,
                forms.BooleanField(label=f"{label(name)} applies"),
                value is not None,
            )
            self._build_dataclass(inner, value, name, section=section)
        elif typing.get_origin(hint) is tuple and dataclasses.is_dataclass(
            typing.get_args(hint)[0]
        ):
            item_type = typing.get_args(hint)[0]
            items = tuple(value or ())
            for index, item in enumerate(items):
                self._add(
                    section,
                    f"{name}.{index}{REMOVE}",
                    forms.BooleanField(label=f"Remove {label(name)} {index + 1}"),
                    False,
                )
                self._build_dataclass(item_type, item, f"{name}.{index}", section=section)
            extra = f"{name}.{len(items)}"
            self._add(section, extra + ADD, forms.BooleanField(label=f"Add a {label(name)}"), False)
            self._build_dataclass(item_type, None, extra, section=section)
        elif typing.get_origin(hint) is dict and typing.get_args(hint)[1] is not Clause:
            self._add(
                section,
                name,
                forms.CharField(
                    label=label(name),
                    help_text="JSON object.",
                    widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                ),
                json.dumps(to_json(value or {}), indent=1),
            )
        elif typing.get_origin(hint) is dict:
            for key, clause in (value or {}).items():
                where = self._clause_section(key, section)
                self._build_clause(clause, f"{name}.{key}", where, title=key.replace("_", " "))
        else:
            initial = _initial(value)
            if (optional_of(hint) or hint) is bool and optional_of(hint) is not None:
                initial = {True: "true", False: "false"}.get(value, "")
            self._add(section, name, _scalar_field(hint, name), initial)

    def _clause_section(self, key: str, default: Section) -> Section:
        setting = CLAUSE_OF_SETTING.get(key, key)
        if setting in SETTING_SECTIONS:
            return self._section(SETTING_SECTIONS[setting])
        return default

    def _build_clause(self, value: Clause | None, name: str, section: Section, title: str = ""):
        prefix = f"{_capitalised(title)}: " if title else ""
        self._add(
            section,
            f"{name}.ref",
            forms.CharField(
                label=f"{prefix}clause" if prefix else "Clause",
                help_text="Where in the policy text this comes from.",
                widget=forms.TextInput(attrs={"size": 80}),
            ),
            value.ref if value else "",
        )
        self._add(
            section,
            f"{name}.reading",
            forms.CharField(
                label=f"{prefix}reading" if prefix else "Reading",
                help_text="How we read the clause where the text is ambiguous.",
                widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
            ),
            value.reading if value else "",
        )

    # --- reading the form back ----------------------------------------------
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.problems: list[tuple[str, str]] = []
        data = self._read_dataclass(type(self.base), "", cleaned, self.base)
        if self.problems:
            for name, message in self.problems:
                self.add_error(name if name in self.fields else None, message)
            return cleaned
        try:
            self.rules = parse_rules(data)
        except RulesInvalid as exc:
            for problem in exc.problems:
                target = self._field_for(problem.field)
                message = problem.message if target else str(problem)
                self.add_error(target, message)
        return cleaned

    def rules_json(self) -> dict[str, Any]:
        return self.rules.to_dict()

    def _field_for(self, path: str) -> str | None:
        """The form field a problem's path names (or the closest one that contains it)."""
        while path:
            for candidate in (path, path + PRESENT, path + ".ref"):
                if candidate in self.fields:
                    return candidate
            path = path.rpartition(".")[0]
        return None

    def _read_dataclass(self, tp: type, path: str, cleaned: dict, base: Any) -> dict[str, Any]:
        hints = type_hints(tp)
        out: dict[str, Any] = {}
        for f in dataclasses.fields(tp):
            name = f"{path}.{f.name}" if path else f.name
            out[f.name] = self._read(hints[f.name], name, cleaned, getattr(base, f.name, None))
        return out

    def _read(self, hint: Any, name: str, cleaned: dict, base: Any) -> Any:
        inner = optional_of(hint)
        if hint is Clause:
            return {
                "ref": cleaned.get(f"{name}.ref") or "",
                "reading": cleaned.get(f"{name}.reading") or "",
            }
        if dataclasses.is_dataclass(hint):
            return self._read_dataclass(hint, name, cleaned, base)
        if inner is not None and dataclasses.is_dataclass(inner):
            if not cleaned.get(name + PRESENT):
                return None
            return self._read_dataclass(inner, name, cleaned, base)
        origin = typing.get_origin(hint)
        if origin is tuple and dataclasses.is_dataclass(typing.get_args(hint)[0]):
            item_type = typing.get_args(hint)[0]
            items = list(base or ())
            rows = [
                self._read_dataclass(item_type, f"{name}.{i}", cleaned, item)
                for i, item in enumerate(items)
                if not cleaned.get(f"{name}.{i}{REMOVE}")
            ]
            if cleaned.get(f"{name}.{len(items)}{ADD}"):
                rows.append(self._read_dataclass(item_type, f"{name}.{len(items)}", cleaned, None))
            return rows
        if origin is dict and typing.get_args(hint)[1] is not Clause:
            try:
                return json.loads(cleaned.get(name) or "{}")
            except json.JSONDecodeError as exc:
                self.problems.append((name, f"not valid JSON: {exc}"))
                return {}
        if origin is dict:
            return {
                key: self._read(Clause, f"{name}.{key}", cleaned, clause)
                for key, clause in (base or {}).items()
            }
        return self._read_scalar(hint, name, cleaned.get(name))

    def _read_scalar(self, hint: Any, name: str, value: Any) -> Any:
        inner = optional_of(hint)
        tp = inner or hint
        if _is_scalar_tuple(tp):
            item = typing.get_args(tp)[0]
            if item is int:
                return self._int_list(name, value or "")
            if isinstance(item, type) and issubclass(item, Enum):
                return list(value or [])
            return [part.strip() for part in str(value or "").split(",") if part.strip()]
        if value in (None, "") and tp is not bool and tp is not str:
            if inner is None:
                self.problems.append((name, "is required"))
            return None
        if tp is Decimal:
            return str(value)
        if tp is bool:
            if inner is not None:
                return {"": None, "true": True, "false": False}.get(value)
            return bool(value)
        return value

    def _int_list(self, name: str, text: str) -> list[int]:
        numbers = []
        for part in str(text).replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                numbers.append(int(part))
            except ValueError:
                self.problems.append((name, f"{part!r} is not a whole number"))
        return numbers


def _rank(title: str) -> int:
    if title in SECTION_ORDER:
        return SECTION_ORDER.index(title)
    return len(SECTION_ORDER) + (1 if title == "General" else 0)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _is_scalar_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple and not dataclasses.is_dataclass(typing.get_args(tp)[0])


def _scalar_field(hint: Any, name: str) -> forms.Field:
    inner = optional_of(hint)
    tp = inner or hint
    text = label(name)
    title = text[:1].upper() + text[1:]
    if isinstance(tp, type) and issubclass(tp, Enum):
        blank = "none / any" if inner is not None else "—"
        return forms.ChoiceField(label=title, choices=_enum_choices(tp, blank))
    if _is_scalar_tuple(tp):
        item = typing.get_args(tp)[0]
        if isinstance(item, type) and issubclass(item, Enum):
            return forms.MultipleChoiceField(
                label=title, choices=_enum_choices(item), widget=forms.CheckboxSelectMultiple
            )
        return forms.CharField(label=title, help_text="Comma-separated.")
    if tp is bool and inner is not None:
        return forms.ChoiceField(
            label=title, choices=[("", "either"), ("true", "yes"), ("false", "no")]
        )
    if tp is bool:
        return forms.BooleanField(label=title)
    if tp is int:
        return forms.IntegerField(label=title, help_text="Empty: not stated." if inner else "")
    if tp is Decimal:
        return forms.DecimalField(label=title, help_text="Empty: none." if inner else "")
    return forms.CharField(label=title, widget=forms.TextInput(attrs={"size": 60}))


def _initial(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        if value and isinstance(value[0], Enum):
            return [v.value for v in value]
        return ", ".join(str(v) for v in value)
    return value
