"""End to end through a real Celery worker consuming from Redis.

The rest of the suite runs tasks eagerly; these tests prove the parts eager mode skips:
the message is published on commit, a worker thread picks it up from the broker, reads
the committed rows through its own database connection, and retries with a real
countdown. They need Redis on 127.0.0.1:6379 and fail (never skip) without it.

Each pytest-xdist process uses its own Redis database, flushed before use, so two
processes never consume each other's tasks or leftovers of an earlier run.
"""

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal

import celery.app.autoretry
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_retry
from django.utils import timezone

from accounts.models import Workspace
from accounts.services.retention import workspaces_refresh_retention
from accounts.tasks import purge_inactive_workspaces_daily
from backoffice.celery import app
from billing.gateways import GatewayError
from billing.models import CreditEntry, Refund
from billing.services.refunds import refund_approve, refund_propose
from tests.factories import PaymentFactory
from tests.factories.refunds import FakeGateway, agent
from tests.factories.retention import workspace_with_data

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 10


def _broker_url() -> str:
    worker_number = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return f"redis://127.0.0.1:6379/{15 - worker_number % 8}"


def _reset_broker_pools() -> None:
    """The app caches its broker pools; drop them so the next publish uses the broker
    now configured (the same reset Celery does after a fork). Their connections belong
    to kombu's process-wide pools, keyed by URL, and are reused by the next test."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_worker(monkeypatch) -> Iterator[Counter]:
    """A worker thread on this process's Redis database; yields a counter of the task
    names it finished and how many retries it scheduled (eager runs are not counted, so
    a test passes only if the broker and the worker did the work)."""
    url = _broker_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except redis.ConnectionError as error:
        pytest.fail(
            f"Redis is not reachable at {url} ({error}); start it with "
            '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
            "--appendonly no`",
            pytrace=False,
        )
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    # The app reads Django settings under the CELERY_ namespace, so its keys carry it.
    for key, value in {
        "CELERY_BROKER_URL": url,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_RESULT_BACKEND": None,
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
    }.items():
        monkeypatch.setitem(app.conf, key, value)
    _reset_broker_pools()

    seen: Counter = Counter()

    def finished(sender, **kwargs):
        if not sender.request.is_eager:
            seen[sender.name] += 1

    def retried(sender, request, **kwargs):
        if not request.is_eager:
            seen["retries"] += 1

    task_postrun.connect(finished, weak=False)
    task_retry.connect(retried, weak=False)
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=WAIT_SECONDS):
            yield seen
    finally:
        task_postrun.disconnect(finished)
        task_retry.disconnect(retried)
        _reset_broker_pools()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Polls the worker's counters, not the database: the in-memory SQLite test database
    is shared between threads with table locks, so reading while the worker writes fails."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not {what} within {WAIT_SECONDS} s")
        time.sleep(0.05)


def approved_refund(**kwargs) -> Refund:
    """Proposed by one support agent, approved by another: the approval's on-commit
    callback publishes `billing.execute_refund` to the broker."""
    refund = refund_propose(
        payment=PaymentFactory(amount=Decimal("100.00")),
        amount=Decimal("40.00"),
        actor=agent(),
        now=timezone.now(),
        **kwargs,
    )
    return refund_approve(refund=refund, actor=agent(), now=timezone.now())


def test_the_worker_executes_an_approved_refund_once_through_the_gateway(redis_worker, monkeypatch):
    gateway = FakeGateway()
    monkeypatch.setattr("billing.services.refunds.get_gateway", lambda provider: gateway)

    refund = approved_refund(destination="")

    wait_until(lambda: redis_worker["billing.execute_refund"] == 1, "execute the refund")
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_reference.startswith("re_")
    assert gateway.calls == 1
    assert gateway.moved == {refund.idempotency_key: [Decimal("40.00")]}


def test_the_worker_adds_customer_credit_once_for_a_credit_refund(redis_worker):
    refund = approved_refund(destination="customer_credit")

    wait_until(lambda: redis_worker["billing.execute_refund"] == 1, "execute the refund")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    entries = CreditEntry.objects.filter(refund=refund)
    assert [entry.amount for entry in entries] == [Decimal("40.00")]


def test_a_retryable_gateway_error_is_retried_with_backoff_then_succeeds(redis_worker, monkeypatch):
    backoffs = []

    def scaled_backoff(factor, retries, maximum, full_jitter=False):
        """Records what the task's autoretry asks for, and waits a tenth of a second per
        step of the exponential instead of `factor` seconds."""
        backoffs.append((factor, retries, maximum))
        return 0.1 * 2**retries

    monkeypatch.setattr(celery.app.autoretry, "get_exponential_backoff_interval", scaled_backoff)
    gateway = FakeGateway(fail_next=[GatewayError("Rate limited", retryable=True)] * 2)
    monkeypatch.setattr("billing.services.refunds.get_gateway", lambda provider: gateway)

    started = time.monotonic()
    refund = approved_refund(destination="")

    wait_until(lambda: redis_worker["billing.execute_refund"] == 3, "run three attempts")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert time.monotonic() - started >= 0.3, "the retries waited their countdowns"
    assert backoffs == [(30, 0, 3600), (30, 1, 3600)]
    assert (gateway.calls, redis_worker["retries"], refund.attempts) == (3, 2, 3)
    assert gateway.moved == {refund.idempotency_key: [Decimal("40.00")]}


def test_the_daily_purge_fans_out_batches_that_the_worker_erases(redis_worker, settings):
    settings.PURGE_BATCH_SIZE = 2
    workspaces = [workspace_with_data() for _ in range(3)]
    ids = [ws.pk for ws in workspaces]
    workspaces_refresh_retention(workspace_ids=ids)
    warned_long_ago = timezone.now() - dt.timedelta(days=settings.PURGE_WARNING_DAYS + 1)
    Workspace.objects.filter(pk__in=ids).update(deletion_warning_sent_at=warned_long_ago)

    purge_inactive_workspaces_daily.delay()

    wait_until(
        lambda: redis_worker["accounts.tasks.purge_workspaces_batch"] == 2,
        "run the two batches of the fan-out",
    )
    assert redis_worker["accounts.tasks.purge_inactive_workspaces_daily"] == 1
    erased = Workspace.objects.filter(pk__in=ids, status=Workspace.Status.DELETED)
    assert erased.count() == len(ids)
