"""Rate limits for the customer API (429 with Retry-After).

The rate is read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request, not
once at import, so `API_RATE_CUSTOMER` and tests (`settings` fixture) can change it.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class CustomerRateThrottle(UserRateThrottle):
    scope = "customer"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
