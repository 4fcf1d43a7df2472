"""Renewal job benchmark on PostgreSQL: the batched job against the per-item baseline.

`run()` creates its own database (DATABASE_URL's server, database `bo_jobs_bench` by
default, or BENCH_DATABASE_URL), generates N active monthly subscriptions due for renewal
(each with its own owner and workspace, no credit, no add-ons: the common case) in SQL,
then times, each in a fresh process on a fresh copy, on the local gateway:

- per item: `subscriptions_renew_batch` called with one id at a time, one transaction per
  subscription: what the job did before it worked per batch;
- batched, 1 worker: `subscriptions_renew_batch` over keyset batches of 500 ids;
- batched, W workers: the same batches shared by W processes, as Celery workers share the
  fanned-out `billing.renew_subscriptions_batch` tasks (SKIP LOCKED keeps them apart).

The per-item baseline is slow enough that it runs on its own, smaller, count (by default
the smaller of N and 5,000); the table compares throughputs (renewals per second), which
do not depend on the count. Each run checks that every subscription was renewed once.

    python -m bench.jobs [--subscriptions N] [--baseline M] [--workers W]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bo_jobs_bench"
DEFAULT_SUBSCRIPTIONS = 100_000
DEFAULT_BASELINE = 5_000
DEFAULT_WORKERS = 2
BATCH_SIZE = 500
NOW = "2025-02-01T01:00:00+00:00"
PER_ITEM = "per item (baseline)"

GENERATE = """
INSERT INTO billing_plan (code, name, policy_slug, tier_rank, interval, price, currency,
    seat_limit, storage_limit_mb, module_limit, orders_per_month_limit, is_active)
VALUES ('bench-pro', 'Pro', 'orgix', 2, 'month', 100, 'USD', 10, 10000, 5, 1000, true);

INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff,
    is_active, date_joined, email, full_name)
SELECT i, '!', false, '', '', false, true, '2025-01-01', 'owner' || i || '@example.com', ''
FROM generate_series(1, %(n)s) AS i;
SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %(n)s);

INSERT INTO accounts_workspace (id, name, slug, owner_id, billing_email, country, vat_number,
    status, suspension_reason, storage_used_mb, created_at, last_activity_at, legal_hold,
    legal_hold_reason, ended_at, deletion_warning_sent_at, deletion_due_at)
SELECT i, 'Club ' || i, 'club-' || i, i, 'owner' || i || '@example.com', 'LU', '',
    'active', '', 0, '2025-01-01', '2025-01-20', false, '', NULL, NULL, NULL
FROM generate_series(1, %(n)s) AS i;
SELECT setval(pg_get_serial_sequence('accounts_workspace', 'id'), %(n)s);

INSERT INTO billing_subscription (workspace_id, plan_id, policy_id, status, started_at,
    trial_end, current_period_start, current_period_end, cancel_at_period_end,
    cancel_effective_at, cancelled_at, ended_at, discount_percent, discount_void,
    pending_plan_id, pending_plan_effective_at, past_due_since, dunning_attempts,
    next_retry_at, grace_until, orders_used_this_period)
SELECT i, (SELECT id FROM billing_plan WHERE code = 'bench-pro'),
    (SELECT id FROM billing_refundpolicy WHERE slug = 'orgix' ORDER BY version DESC LIMIT 1),
    'active', '2025-01-01', NULL, '2025-01-01', '2025-02-01', false, NULL, NULL, NULL, 0,
    false, NULL, NULL, NULL, 0, NULL, NULL, 7
FROM generate_series(1, %(n)s) AS i;
ANALYZE;
"""


def _database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    base = os.environ.get("DATABASE_URL")
    if base and base.startswith("postgres"):
        return urlunsplit(urlsplit(base)._replace(path="/bo_jobs_bench"))
    return DEFAULT_URL


def _admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True), (
        parts.path.lstrip("/")
    )


def _recreate_database(url: str) -> None:
    conn, name = _admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    conn, name = _admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _renew_in_worker(ids: list[int]) -> int:
    import datetime as dt

    from billing.services.renewals import subscriptions_renew_batch

    return subscriptions_renew_batch(
        subscription_ids=ids, now=dt.datetime.fromisoformat(NOW)
    ).renewed


def _renew(mode: str, workers: int) -> int:
    import datetime as dt
    import multiprocessing

    from django.db import connections

    from billing.services.charging import policies_in_force
    from billing.services.renewals import renewal_batches, subscriptions_renew_batch

    now = dt.datetime.fromisoformat(NOW)
    policies = policies_in_force(now)
    if mode == "per-item":
        ids = [pk for batch in renewal_batches(now=now, batch_size=BATCH_SIZE) for pk in batch]
        return sum(
            subscriptions_renew_batch(subscription_ids=[pk], now=now, policies=policies).renewed
            for pk in ids
        )
    batches = renewal_batches(now=now, batch_size=BATCH_SIZE)
    if workers == 1:
        return sum(
            subscriptions_renew_batch(subscription_ids=ids, now=now, policies=policies).renewed
            for ids in batches
        )
    batches = list(batches)  # ids only, handed out like Celery tasks
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.imap_unordered(_renew_in_worker, batches))


def _child(mode: str, subscriptions: int, workers: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billing.models import Payment

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(GENERATE, {"n": subscriptions})
    started = time.perf_counter()
    done = _renew(mode, workers)
    elapsed = time.perf_counter() - started
    assert done == subscriptions, f"{mode}: renewed {done} of {subscriptions}"
    assert Payment.objects.filter(status="succeeded").count() == subscriptions
    print(f"{mode} {done} {elapsed:.3f}")


def _measure(mode: str, url: str, subscriptions: int, workers: int) -> float:
    _recreate_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "localhost",
        "CELERY_BROKER_URL": "memory://",  # batches run in-process; no worker involved
        "PAYMENT_GATEWAY": "local",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    command = [sys.executable, "-m", "bench.jobs", "--child", mode]
    command += ["--subscriptions", str(subscriptions), "--workers", str(workers)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} benchmark failed:\n{completed.stderr}")
    return float(completed.stdout.split()[-1])


def run(
    subscriptions: int | None = None, baseline: int | None = None, workers: int | None = None
) -> dict[str, float]:
    """Print and return the timings; `make bench-jobs` calls this."""
    subscriptions = subscriptions or int(
        os.environ.get("BENCH_JOBS_SUBSCRIPTIONS", DEFAULT_SUBSCRIPTIONS)
    )
    baseline = min(baseline or DEFAULT_BASELINE, subscriptions)
    workers = workers or int(os.environ.get("BENCH_JOBS_WORKERS", DEFAULT_WORKERS))
    runs = [(PER_ITEM, "per-item", baseline, 1), ("batched, 1 worker", "batch", subscriptions, 1)]
    if workers > 1:
        runs.append((f"batched, {workers} workers", "batch", subscriptions, workers))
    url = _database_url()
    try:
        timings = {label: (n, _measure(mode, url, n, w)) for label, mode, n, w in runs}
    finally:
        _drop_database(url)
    base_rate = timings[PER_ITEM][0] / timings[PER_ITEM][1]
    print(f"Renewal benchmark on PostgreSQL, local gateway, batches of {BATCH_SIZE}")
    results: dict[str, float] = {"subscriptions": subscriptions}
    for label, (n, seconds) in timings.items():
        rate = n / seconds
        print(
            f"  {label:<22}{n:>9,} renewals {seconds:8.2f} s {rate:9.0f}/s"
            f"   {rate / base_rate:5.1f}x the per-item rate"
        )
        results[f"{label} seconds"] = seconds
        results[f"{label} per second"] = rate
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=None)
    parser.add_argument("--baseline", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--child", choices=["per-item", "batch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.subscriptions, args.workers or 1)
    else:
        run(args.subscriptions, args.baseline, args.workers)


if __name__ == "__main__":
    main()
