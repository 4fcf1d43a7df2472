"""Rate limits for the customer pages' POSTs, sharing the API's rates and counters: a
customer has one budget whether they use the page or the API. Over it: a 429 page with
`Retry-After`, and nothing changed."""

import math
from collections.abc import Callable, Sequence
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

from billing.api.throttles import (
    AnonymousRateThrottle,
    CustomerRateThrottle,
    PasswordResetAddressThrottle,
    PasswordResetClientThrottle,
)


def throttle_posts(
    view: Callable | None = None,
    *,
    throttle_classes: Sequence[type[SimpleRateThrottle]] = (CustomerRateThrottle,),
):
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                for throttle_class in throttle_classes:
                    throttle = throttle_class()
                    if not throttle.allow_request(request, None):
                        return _too_many_requests(request, throttle)
            return view(request, *args, **kwargs)

        wrapper.throttle_classes = tuple(throttle_classes)
        return wrapper

    return decorate(view) if view is not None else decorate


def _too_many_requests(request: HttpRequest, throttle: SimpleRateThrottle) -> HttpResponse:
    retry_after = max(1, math.ceil(throttle.wait() or 1))
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def throttle_anonymous_posts(view: Callable) -> Callable:
    """For pages used before signing in (the login form): limited per client address."""
    return throttle_posts(view, throttle_classes=(AnonymousRateThrottle,))


def throttle_password_reset(view: Callable) -> Callable:
    """The password-reset form: per client address and per email address asked for."""
    return throttle_posts(
        view, throttle_classes=(PasswordResetClientThrottle, PasswordResetAddressThrottle)
    )
