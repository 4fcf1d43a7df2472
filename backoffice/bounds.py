"""Bounds on dates and amounts that come from outside (forms, the API, commands,
scenario files). Inside them every calculation is safe: `date ± timedelta` cannot leave
Python's year range, and amounts fit the database's `NUMERIC(14, 2)` with room for sums.
"""

import datetime as dt
from decimal import Decimal

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
EARLIEST_DATE = dt.date(EARLIEST_YEAR, 1, 1)
LATEST_DATE = dt.date(LATEST_YEAR, 12, 31)
MAX_AMOUNT = Decimal("999999999.99")
MAX_EMAIL_LENGTH = 254


def date_out_of_range(value: dt.date) -> str | None:
    """Why `value` is not a date we accept, or None."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        return f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}"
    return None


def amount_out_of_range(value: Decimal) -> str | None:
    """Why `value` is not an amount we accept (not finite, or too large), or None."""
    if not value.is_finite():
        return "must be a number"
    if abs(value) > MAX_AMOUNT:
        return f"must be at most {MAX_AMOUNT:,}"
    return None
