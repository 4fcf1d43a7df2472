"""How the admin writes dates: as dates, in the agent's time zone, with the zone named.

The zone is the one `backoffice.middleware.AgentTimezoneMiddleware` activated for the
request (the browser's, else UTC), so every page and column agrees."""

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value


def local_datetime(value: dt.datetime | str | None, *, empty: str = "—") -> str:
    """`1 Dec 2026, 16:43 CET`."""
    moment = _aware(value)
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def local_date(value: dt.datetime | dt.date | str | None, *, empty: str = "—") -> str:
    """`1 Dec 2026` (a datetime is first moved to the agent's zone)."""
    moment = (
        _aware(value) if not isinstance(value, dt.date) or isinstance(value, dt.datetime) else value
    )
    if moment is None:
        return empty
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment).date()
    return f"{moment.day} {moment:%b %Y}"
