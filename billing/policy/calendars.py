"""Calendar arithmetic: months that clamp to the month's last day, and days as a text names
them (a window "within 30 days", "the 15th is the last day") in the policy's time zone."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .rules import DayCount, Interval


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = moment.day
    if day > 28:  # only the last days of a month can fall off a shorter one
        day = min(day, calendar.monthrange(year, month0 + 1)[1])
    # The constructor, not `replace(**kwargs)`: twice as fast, and this is the hot path.
    return type(moment)(
        year,
        month0 + 1,
        day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        moment.tzinfo,
        fold=moment.fold,
    )


def interval_months(interval: Interval) -> int:
    return 12 if interval == Interval.YEAR else 1


def whole_months(start: datetime, moment: datetime) -> int:
    """The largest k with add_months(start, k) <= moment."""
    k = (moment.year - start.year) * 12 + moment.month - start.month
    if start.tzinfo is moment.tzinfo:
        # Same zone: datetimes compare field by field, so compare the fields of
        # add_months(start, k) (same year and month as `moment`) without building it.
        day = start.day
        if day > 28:
            day = min(day, calendar.monthrange(moment.year, moment.month)[1])
        later = (day, start.hour, start.minute, start.second, start.microsecond) > (
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond,
        )
        return k - 1 if later else k
    return k - 1 if add_months(start, k) > moment else k


def window_closes(start: datetime, days: int, counted: DayCount, time_zone: str) -> datetime:
    """The first instant outside "within `days` days of `start`" (the window is inclusive).

    By calendar days the window runs to the end of the `days`-th day after the start's day
    in the policy's time zone; by elapsed time, to the minute `days` x 24 hours later.
    """
    if counted == DayCount.ELAPSED:
        return start + timedelta(days=days, minutes=1)
    zone = ZoneInfo(time_zone)
    last_day = start.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def end_of_day(moment: datetime, time_zone: str) -> datetime:
    """The first instant of the day after `moment`'s day, in the policy's time zone."""
    zone = ZoneInfo(time_zone)
    day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
