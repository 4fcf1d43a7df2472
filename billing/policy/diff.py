"""What changes between two versions of a policy, rule by rule, in words.

Generic over the rules dataclasses: it walks both values field by field, so a rule field
added later shows in the diff with its label from `wording` (or a label built from its
name). Lists of rules are matched by the field that identifies an item (a service, a
refusal code) when every item has a distinct one, else by position (proration rules are
ordered: the first match applies). A clause change is reported with its reference and
reading, the words a policy author wrote.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from .rules import Clause, PolicyRules
from .wording import label, unit, words


def rules_diff(old: PolicyRules, new: PolicyRules) -> list[str]:
    """One sentence per change: "refund window: 30 → 14 days from first payment"."""
    lines: list[str] = []
    _diff(old, new, "", lines)
    return lines


def _diff(old: Any, new: Any, path: str, lines: list[str], parent_old=None, parent_new=None):
    if old == new or _same_kinds(old, new):
        return
    if isinstance(old, Clause) or isinstance(new, Clause):
        _clause_diff(old, new, path, lines)
    elif dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
        for f in dataclasses.fields(old):
            _diff(
                getattr(old, f.name, None),
                getattr(new, f.name, None),
                _join(path, f.name),
                lines,
                old,
                new,
            )
    elif old is None or new is None:
        if dataclasses.is_dataclass(old) or dataclasses.is_dataclass(new):
            what = "added" if old is None else "removed"
            lines.append(f"{label(path)} {what}: {describe(new if old is None else old, path)}")
        else:
            lines.append(_change(old, new, path, parent_old, parent_new))
    elif isinstance(old, tuple) and isinstance(new, tuple) and _rule_list(old + new):
        _list_diff(old, new, path, lines)
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            item = _join(path, key)
            if key not in new:
                lines.append(f"{label(path)} {key} removed")
            elif key not in old:
                lines.append(f"{label(path)} {key} added: {describe(new[key], item)}")
            else:
                _diff(old[key], new[key], item, lines)
    else:
        lines.append(_change(old, new, path, parent_old, parent_new))


def _same_kinds(old: Any, new: Any) -> bool:
    """Lists of kinds are sets: the same kinds in another order are no change."""
    both = (old, new)
    if not all(isinstance(v, tuple) and all(isinstance(i, Enum) for i in v) for v in both):
        return False
    return set(old) == set(new)


def _change(old: Any, new: Any, path: str, parent_old: Any, parent_new: Any) -> str:
    if isinstance(old, tuple) and isinstance(new, tuple):
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        if added or removed:
            parts = ([f"adds {words(added)}"] if added else []) + (
                [f"no longer {words(removed)}"] if removed else []
            )
            return f"{label(path)}: {'; '.join(parts)}"
    old_unit, new_unit = unit(path, parent_old), unit(path, parent_new)
    if old_unit == new_unit and old is not None and new is not None:
        tail = f" {new_unit}" if new_unit else ""
        return f"{label(path)}: {words(old)} → {words(new)}{tail}"
    before = f"{words(old)} {old_unit}".strip() if old is not None else "none"
    after = f"{words(new)} {new_unit}".strip() if new is not None else "none"
    return f"{label(path)}: {before} → {after}"


def _clause_diff(old: Clause | None, new: Clause | None, path: str, lines: list[str]) -> None:
    """A rule's clause ("refund window clause: ..."), or a general clause by its key
    ("clause on fallback: ...")."""
    if path.endswith("clause"):
        owner_path = path.rsplit(".", 1)[0] if "." in path else path
        in_list = owner_path.rsplit(".", 1)[-1].isdigit()
        ref_name = "clause" if in_list else f"{label(owner_path)} clause"
        reading_name = "reading" if in_list else f"{label(owner_path)} reading"
    else:
        key = path.rsplit(".", 1)[-1].replace("_", " ")
        ref_name, reading_name = f"clause on {key}", f"reading on {key}"
    if old is None or new is None:
        lines.append(f"{ref_name}: {_quoted(old)} → {_quoted(new)}")
        return
    if old.ref != new.ref:
        lines.append(f"{ref_name}: “{old.ref}” → “{new.ref}”")
    if old.reading != new.reading:
        lines.append(f"{reading_name}: “{old.reading or 'none'}” → “{new.reading or 'none'}”")


def _quoted(clause: Clause | None) -> str:
    return f"“{clause.ref}”" if clause else "none"


def _rule_list(items: tuple) -> bool:
    return bool(items) and all(dataclasses.is_dataclass(item) for item in items)


# Lists whose items are told apart by a field; None: by position (order matters).
IDENTITY: dict[str, str | None] = {"proration": None}


def _identity(items: tuple, path: str = "") -> str | None:
    """The field whose value tells the items of a list apart, if there is one."""
    if path in IDENTITY:
        return IDENTITY[path]
    first = items[0]
    for f in dataclasses.fields(first):
        values = [getattr(item, f.name, None) for item in items]
        if all(isinstance(v, Enum | str) and v for v in values) and len(set(values)) == len(values):
            return f.name
    return None


def _list_diff(old: tuple, new: tuple, path: str, lines: list[str]) -> None:
    key = _identity(old or new, path)
    if key and not all(_identity(items, path) == key for items in (old, new) if items):
        key = None
    if key is None:
        for index in range(max(len(old), len(new))):
            item = _join(path, str(index))
            name = f"{label(path)} {index + 1}"
            if index >= len(new):
                lines.append(f"{name} removed: {describe(old[index], item)}")
            elif index >= len(old):
                lines.append(f"{name} added: {describe(new[index], item)}")
            else:
                _item_diff(old[index], new[index], item, name, lines)
        return
    old_by = {getattr(item, key): item for item in old}
    new_by = {getattr(item, key): item for item in new}
    for index, (ident, item) in enumerate(new_by.items()):
        name = f"{label(path)} for {words(ident)}"
        where = _join(path, str(index))
        if ident not in old_by:
            lines.append(f"{name} added: {describe(item, where)}")
        else:
            _item_diff(old_by[ident], item, where, name, lines)
    for ident in old_by:
        if ident not in new_by:
            lines.append(f"{label(path)} for {words(ident)} removed")


def _item_diff(old: Any, new: Any, path: str, name: str, lines: list[str]) -> None:
    inner: list[str] = []
    _diff(old, new, path, inner)
    lines.extend(f"{name}, {line}" for line in inner)


def describe(value: Any, path: str) -> str:
    """A whole rule in words: "days 14, counted from first payment, ..." (clause last)."""
    if isinstance(value, Clause):
        return f"“{value.ref}”" + (f" (reading: {value.reading})" if value.reading else "")
    if not dataclasses.is_dataclass(value):
        return words(value)
    parts = []
    clause = None
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if isinstance(item, Clause):
            clause = item
            continue
        if item == "":
            continue
        parts.append(f"{f.name.replace('_', ' ')} {describe(item, _join(path, f.name))}")
    if clause is not None and clause.ref:
        parts.append(f"clause “{clause.ref}”")
    return ", ".join(parts)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
