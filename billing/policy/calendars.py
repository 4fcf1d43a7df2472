"""Calendar arithmetic for billing periods: months that clamp to the month's last day."""

from __future__ import annotations

import calendar
from datetime import datetime

from .rules import Interval


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def interval_months(interval: Interval) -> int:
    return 12 if interval == Interval.YEAR else 1


def whole_months(start: datetime, moment: datetime) -> int:
    """The largest k with add_months(start, k) <= moment."""
    k = (moment.year - start.year) * 12 + moment.month - start.month
    return k - 1 if add_months(start, k) > moment else k
