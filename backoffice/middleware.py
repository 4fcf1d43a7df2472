"""The agent's time zone, from the browser.

The admin's base template stores the browser's IANA zone in the `tz` cookie; this
middleware activates it for the request, so admin dates read in the agent's local time.
An unknown or missing zone falls back to UTC (settings.TIME_ZONE)."""

import zoneinfo

from django.utils import timezone

TIMEZONE_COOKIE = "tz"


class AgentTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIMEZONE_COOKIE, "")
        try:
            zone = zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)
