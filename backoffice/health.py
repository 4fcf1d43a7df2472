"""`/healthz` for load balancers: 200 when the database answers a query and the Celery
broker accepts a connection, 503 naming what is unreachable otherwise.

A middleware placed first, so the answer comes before host validation (a load balancer
polls by IP address, not by an ALLOWED_HOSTS name), the HTTPS redirect, sessions and the
activity tracker: a probe is not a visit.
"""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTH_PATHS = {"/healthz", "/healthz/"}
BROKER_TIMEOUT_SECONDS = 2


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not reachable" to a load balancer
        return False


def broker_reachable() -> bool:
    from backoffice.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True
    except Exception:  # kombu raises transport-specific errors
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in HEALTH_PATHS:
            return self.get_response(request)
        checks = {"database": database_reachable(), "broker": broker_reachable()}
        healthy = all(checks.values())
        body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
        response = JsonResponse({"status": "ok" if healthy else "unhealthy", **body})
        response.status_code = 200 if healthy else 503
        response["Cache-Control"] = "no-store"
        return response
