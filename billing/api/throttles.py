"""Rate limits for the API and the customer pages (429 with Retry-After).

Every limit keys anonymous callers by `backoffice.client_ip.client_ip` (which believes
`X-Forwarded-For` only as far as `TRUSTED_PROXIES` says), never by a header the client
chose. Rates are read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request,
not once at import, so `API_RATE_*` and tests (the `settings` fixture) can change them.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from backoffice.client_ip import client_ip


class _LiveRate:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request) -> str:
        return client_ip(request)


class CustomerRateThrottle(_LiveRate, UserRateThrottle):
    """Per signed-in user (per client address for anonymous callers): one budget for
    every customer endpoint, page or API (the API's default throttle)."""

    scope = "customer"


class AnonymousRateThrottle(_LiveRate, AnonRateThrottle):
    """Per client address, for endpoints used before signing in (token, login)."""

    scope = "anon"


class PasswordResetClientThrottle(_LiveRate, SimpleRateThrottle):
    """Password-reset requests per client address, whatever addresses it asks for."""

    scope = "password_reset_client"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetAddressThrottle(_LiveRate, SimpleRateThrottle):
    """Password-reset requests per email address asked for, from whatever client: one
    mailbox gets a few reset emails an hour at most."""

    scope = "password_reset_address"

    def get_cache_key(self, request, view) -> str | None:
        address = (request.POST.get("email") or "").strip().lower()
        if not address:
            return None
        return self.cache_format % {"scope": self.scope, "ident": address[:254]}
