"""The production server: /healthz for load balancers, gunicorn serving backoffice.wsgi
with every log line redacted, WhiteNoise for static files."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from backoffice.logging import RedactPersonalData, redact

BASE_DIR = Path(settings.BASE_DIR)
pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_database_and_broker_are_reachable(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")  # a load balancer polls by IP

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_is_503_naming_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "database": "ok", "broker": "unreachable"}


def _effective_handlers(name: str) -> list[logging.Handler]:
    """The handlers a record of `name` reaches, less the ones pytest adds to capture."""
    handlers, logger = [], logging.getLogger(name)
    while logger:
        handlers += [
            h
            for h in logger.handlers
            if not type(h).__module__.startswith("_pytest")
            and not isinstance(h, logging.NullHandler)
        ]
        logger = logger.parent if logger.propagate else None
    return handlers


@pytest.mark.parametrize(
    "name", ["django", "django.request", "django.server", "django.security", "celery", "billing"]
)
def test_every_log_handler_redacts(name):
    from celery.signals import setup_logging

    assert setup_logging.receivers, "Celery would install its own, unredacted, handlers"
    handlers = _effective_handlers(name)

    assert handlers
    assert all(any(isinstance(f, RedactPersonalData) for f in h.filters) for h in handlers)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('"GET /api/x/?email=jane.doe%40example.com HTTP/1.1" 404', "jane.doe"),
        ('"GET /accounts/reset/MTI/c1a2b3-d4e5f6/ HTTP/1.1" 200', "c1a2b3"),
        ('"GET /billing/review/confirm/eyJyZXZpZXciOjF9:1tX:abc/ HTTP/1.1" 200', "eyJyZXZ"),
        ("Authorization: Token 0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_request_lines_lose_their_secrets(line, secret):
    assert secret not in redact(line)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_the_app_and_its_access_log_is_redacted(tmp_path):
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "False",
        "SECRET_KEY": "gunicorn-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_HOST": "localhost",
        "SECURE_SSL_REDIRECT": "False",
        "STATIC_ROOT": str(tmp_path / "static"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "backoffice.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = _get(f"{base}/healthz", until=time.monotonic() + 60)
        missing = _get(f"{base}/api/nope/?email=jane.doe%40example.com&token=s3cr3tvalue")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    assert health == (200, b'{"status": "ok", "database": "ok", "broker": "ok"}')
    assert missing[0] == 404
    assert "GET /healthz" in output and "/api/nope/" in output
    assert "jane.doe" not in output and "s3cr3tvalue" not in output
    assert "[email]" in output


def _get(url: str, until: float | None = None) -> tuple[int, bytes]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            if until is None or time.monotonic() > until:
                raise
            time.sleep(0.2)
