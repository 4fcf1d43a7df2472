"""The client's address, as every rate limit sees it.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far
as the proxies we run: with `TRUSTED_PROXIES = n` the address is the n-th entry from the
right (the one our outermost proxy saw); with 0 (the default, no proxy) it is the socket's
`REMOTE_ADDR` and the header is ignored. DRF reads the same number as `NUM_PROXIES`.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote_addr
    return hops[-min(proxies, len(hops))]
