"""Rate limits: one client address per request whatever headers it sends, one customer
budget for every customer endpoint, password reset per address and per client."""

import pytest
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from billing.api.throttles import AnonymousRateThrottle, CustomerRateThrottle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


WRONG_LOGIN = {"username": "nobody@example.com", "password": "guess"}


def test_a_forged_forwarded_for_header_does_not_reset_the_token_endpoint_budget(rates):
    rates(anon="2/min")
    client = APIClient()

    codes = [
        client.post("/api/auth/token/", WRONG_LOGIN, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]

    assert codes == [400, 400, 429]


def test_a_forged_forwarded_for_header_does_not_reset_the_login_form_budget(client, rates):
    rates(anon="2/min")

    codes = [
        client.post("/accounts/login/", WRONG_LOGIN, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]

    assert codes == [200, 200, 429]


def test_behind_one_trusted_proxy_the_address_the_proxy_saw_is_the_client(settings, rates):
    settings.TRUSTED_PROXIES = 1
    rates(anon="1/min")
    client = APIClient()

    # The proxy appends the address it saw; anything left of it is the client's own text.
    first = client.post("/api/auth/token/", WRONG_LOGIN, HTTP_X_FORWARDED_FOR="1.1.1.1, 7.7.7.7")
    forged = client.post("/api/auth/token/", WRONG_LOGIN, HTTP_X_FORWARDED_FOR="2.2.2.2, 7.7.7.7")
    other = client.post("/api/auth/token/", WRONG_LOGIN, HTTP_X_FORWARDED_FOR="8.8.8.8")

    assert (first.status_code, forged.status_code, other.status_code) == (400, 429, 400)


def _api_views():
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class and issubclass(view_class, APIView):
                    yield prefix + str(pattern.pattern), pattern.callback

    return [(route, view) for route, view in walk(get_resolver()) if route.startswith("api/")]


def test_every_api_endpoint_is_rate_limited():
    views = _api_views()
    unlimited = []
    for route, view in views:
        initkwargs = getattr(view, "view_initkwargs", {})
        classes = initkwargs.get("throttle_classes", view.view_class.throttle_classes)
        expected = AnonymousRateThrottle if route == "api/auth/token/" else CustomerRateThrottle
        if expected not in classes:
            unlimited.append(route)

    assert len(views) >= 25, f"found only {len(views)} API views"
    assert unlimited == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/reviews/",
        "/api/workspaces/x/credit/",
        "/api/workspaces/x/subscription/upgrade/",
        "/api/workspaces/x/subscription/addons/",
    ],
)
def test_customer_endpoints_share_one_budget(path, rates):
    rates(customer="3/min")
    client = APIClient()
    client.force_authenticate(UserFactory())

    client.get("/api/workspaces/x/cancellation/quote/")
    client.post("/api/workspaces/x/cancellations/", {}, HTTP_IDEMPOTENCY_KEY="k")
    client.get("/api/reviews/")
    over = client.post(path, {}, HTTP_IDEMPOTENCY_KEY="k2")

    assert over.status_code == 429 and int(over["Retry-After"]) > 0


def test_the_review_page_spends_the_same_budget_as_the_api(client, rates):
    rates(customer="2/min")
    user = UserFactory()
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    api.get("/api/reviews/")
    api.get("/api/reviews/")
    page = client.post("/billing/review/", {})

    assert page.status_code == 429


def test_password_reset_is_limited_per_address(client, rates):
    rates(password_reset_address="2/hour", password_reset_client="100/hour")
    UserFactory(email="victim@example.com")

    codes = [
        client.post(
            "/accounts/password_reset/",
            {"email": "Victim@example.com"},
            REMOTE_ADDR=f"10.1.0.{n}",
        ).status_code
        for n in range(30)
    ]

    assert codes[:2] == [302, 302] and set(codes[2:]) == {429}
    assert len(mail.outbox) == 2


def test_password_reset_is_limited_per_client(client, rates):
    rates(password_reset_address="100/hour", password_reset_client="3/hour")
    for n in range(5):
        UserFactory(email=f"user-{n}@example.com")

    codes = [
        client.post("/accounts/password_reset/", {"email": f"user-{n}@example.com"}).status_code
        for n in range(5)
    ]

    assert codes == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3
