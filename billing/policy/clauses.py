"""`Clause`: where a rule comes from in the policy text, and the reading chosen where the
text is ambiguous. Every rule carries one; quote lines cite them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    """Where a rule comes from: `ref` names the section, `reading` explains our interpretation."""

    ref: str
    reading: str = ""
