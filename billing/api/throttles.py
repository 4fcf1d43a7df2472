"""Rate limits for the public API (429 with Retry-After).

Rates are read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request, not
once at import, so `API_RATE_CUSTOMER` / `API_RATE_ANON` and tests (the `settings`
fixture) can change them.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LiveRate:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class CustomerRateThrottle(_LiveRate, UserRateThrottle):
    """Per signed-in user (per IP for anonymous callers)."""

    scope = "customer"


class AnonymousRateThrottle(_LiveRate, AnonRateThrottle):
    """Per IP, for endpoints used before signing in (the token endpoint)."""

    scope = "anon"
