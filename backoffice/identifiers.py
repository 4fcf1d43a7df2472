"""Row ids typed by people (a search box, a query string, a posted field).

`str.isdigit()` accepts "²" and "٣", which `int()` then rejects, and any number of digits,
which the database then rejects: only ASCII digits within a BIGINT are an id.
"""

MAX_ID = 2**63 - 1


def parse_id(text: object) -> int | None:
    """The positive id `text` spells, or None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
