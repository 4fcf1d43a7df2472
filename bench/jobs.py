"""Benchmark of the daily jobs on PostgreSQL: each batched job against its per-item path.

`run()` creates its own database (DATABASE_URL's server, database `bo_jobs_bench` by
default, or BENCH_DATABASE_URL) and, for each job, times on the local gateway, each in a
fresh process on a freshly generated copy:

- per item: one subscription per transaction, the jobs' own code called for one id at a
  time (renewals: `subscriptions_renew_batch` with one id; period-end:
  `subscriptions_end_each`; dunning: `dunning_run_each`);
- batched, 1 worker: the job's batch function over keyset batches of 500 ids;
- batched, W workers: the same batches shared by W processes, as Celery workers share the
  fanned-out batch tasks (SKIP LOCKED keeps them apart).

The jobs and what their N subscriptions are (each with its own owner, member seat and
workspace, generated in SQL by copying one row made through the models):

- renewals: active monthly subscriptions due, no credit, no add-ons (the common case);
- period-end: orgix subscriptions whose approved cancellation is due, falling back to
  the Free plan (a Free subscription, a usage count, a retention refresh each);
- dunning: past-due subscriptions whose retry is due and succeeds (recovered: the period
  is charged and rolled, the workspace restored).

E-mails are queued to an in-memory broker, not sent: sending is the e-mail task's work.
The per-item path is slow enough that it runs on its own, smaller, count (by default the
smaller of N and 2,000); the table compares throughputs, which do not depend on the
count. Each run checks that every subscription was handled exactly once.

    python -m bench.jobs [--job renewals|period-end|dunning|all] [--subscriptions N]
                         [--baseline M] [--workers W]
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
DEFAULT_BASELINE = 2_000
DEFAULT_WORKERS = 2
BATCH_SIZE = 500
NOW = "2025-02-01T01:00:00+00:00"
PER_ITEM = "per item (baseline)"
JOBS = ("renewals", "period-end", "dunning")


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


# --- data: one row of each kind through the models, then N copies in SQL ----------------


def _copy_rows(model, n: int, varying: dict[str, str]) -> None:
    """Rows 2..n of `model`'s table as copies of row 1: primary key `i`, columns in
    `varying` from their SQL expression of `i`, unique text columns suffixed with `i`."""
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(quote(field.column))
        if field.primary_key:
            values.append("i")
        elif field.column in varying:
            values.append(varying[field.column])
        elif field.unique:
            values.append(f"p.{quote(field.column)} || '-' || i")
        else:
            values.append(f"p.{quote(field.column)}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM generate_series(2, %s) AS i, {table} AS p WHERE p.id = 1",
            [n],
        )
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), %s)", [n]
        )


def _generate(job: str, n: int) -> None:
    import datetime as dt

    from django.db import connection

    from accounts.models import User, Workspace, WorkspaceMember
    from billing.models import CancellationRequest, Plan, Subscription
    from billing.selectors import policy_by_ref, quote_for_subscription

    jan, feb = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    plan = Plan.objects.create(
        code="bench-pro",
        name="Pro",
        policy_slug="orgix",
        tier_rank=2,
        interval=Plan.Interval.MONTH,
        price=100,
        currency="USD",
        seat_limit=10,
        storage_limit_mb=10_000,
        module_limit=5,
        orders_per_month_limit=1_000,
    )
    Plan.objects.create(
        code="bench-free", name="Free", policy_slug="orgix", tier_rank=0, interval="none", price=0
    )
    owner = User.objects.create(pk=1, email="owner1@example.com", password="!")
    workspace = Workspace.objects.create(
        pk=1,
        name="Club 1",
        slug="club-1",
        owner=owner,
        billing_email=owner.email,
        country="LU",
        created_at=jan,
        last_activity_at=jan + dt.timedelta(days=19),
    )
    WorkspaceMember.objects.create(
        pk=1, workspace=workspace, user=owner, role=WorkspaceMember.Role.OWNER, joined_at=jan
    )
    subscription = Subscription(
        pk=1,
        workspace=workspace,
        plan=plan,
        policy=policy_by_ref("orgix"),
        status=Subscription.Status.ACTIVE,
        started_at=jan,
        current_period_start=jan,
        current_period_end=feb,
        orders_used_this_period=7,
    )
    if job == "period-end":
        subscription.cancel_at_period_end, subscription.cancel_effective_at = True, feb
        subscription.cancelled_at = jan + dt.timedelta(days=9)
    elif job == "dunning":
        subscription.status = Subscription.Status.PAST_DUE
        subscription.past_due_since = feb - dt.timedelta(days=1)
        subscription.current_period_start, subscription.current_period_end = (
            jan - dt.timedelta(days=31),
            jan,
        )
        subscription.dunning_attempts = 1
        subscription.next_retry_at = feb
        subscription.grace_until = feb + dt.timedelta(days=29)
        workspace.status = Workspace.Status.RESTRICTED
        workspace.suspension_reason = Workspace.SuspensionReason.NON_PAYMENT
        workspace.save()
    subscription.save()
    _copy_rows(User, n, {"email": "'owner' || i || '@example.com'"})
    _copy_rows(Workspace, n, {"owner_id": "i", "name": "'Club ' || i", "slug": "'club-' || i"})
    _copy_rows(WorkspaceMember, n, {"workspace_id": "i", "user_id": "i"})
    _copy_rows(Subscription, n, {"workspace_id": "i"})
    if job == "period-end":
        CancellationRequest.objects.create(
            pk=1,
            workspace=workspace,
            subscription=subscription,
            status=CancellationRequest.Status.APPROVED,
            reason=CancellationRequest.Reason.NOT_USING,
            quote=quote_for_subscription(subscription, at=jan).to_dict(),
            currency="USD",
            effective_at=feb,
            created_at=jan,
        )
        _copy_rows(CancellationRequest, n, {"workspace_id": "i", "subscription_id": "i"})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the jobs -----------------------------------------------------------------------------


def _batches(job: str, now) -> list[list[int]]:
    from billing.services.dunning_job import dunning_batches
    from billing.services.period_end import period_end_batches
    from billing.services.renewals import renewal_batches

    if job == "renewals":
        return list(renewal_batches(now=now, batch_size=BATCH_SIZE))
    if job == "dunning":
        return list(dunning_batches(now=now, batch_size=BATCH_SIZE))
    return [ids for kind, ids in period_end_batches(now=now, batch_size=BATCH_SIZE)]


def _run_batch(job: str, ids: list[int], *, per_item: bool = False) -> int:
    """Handle these ids as the job's batch task does (or one per transaction); returns how
    many were handled."""
    import datetime as dt

    from billing.services.cancellation_endings import (
        subscriptions_end_batch,
        subscriptions_end_each,
    )
    from billing.services.dunning_job import dunning_run_batch, dunning_run_each
    from billing.services.renewals import subscriptions_renew_batch

    now = dt.datetime.fromisoformat(NOW)
    if job == "renewals":
        if per_item:
            return sum(
                subscriptions_renew_batch(subscription_ids=[pk], now=now).renewed for pk in ids
            )
        return subscriptions_renew_batch(subscription_ids=ids, now=now).renewed
    if job == "period-end":
        run = subscriptions_end_each if per_item else subscriptions_end_batch
        return run(subscription_ids=ids, now=now).applied
    run = dunning_run_each if per_item else dunning_run_batch
    return run(subscription_ids=ids, now=now).recovered


def _in_worker(job_and_ids: tuple[str, list[int]]) -> int:
    job, ids = job_and_ids
    return _run_batch(job, ids)


def _handle(job: str, mode: str, workers: int) -> int:
    import datetime as dt
    import multiprocessing

    from django.db import connections

    batches = _batches(job, dt.datetime.fromisoformat(NOW))
    if mode == "per-item" or workers == 1:
        return sum(_run_batch(job, ids, per_item=mode == "per-item") for ids in batches)
    connections.close_all()  # ids only are handed out, like Celery tasks
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.imap_unordered(_in_worker, [(job, ids) for ids in batches]))


def _check(job: str, n: int) -> None:
    """Every subscription handled exactly once."""
    from django.db.models import Count

    from accounts.models import AuditRecord
    from billing.models import CancellationRequest, Payment, Subscription

    action = {
        "renewals": "subscription.renew",
        "period-end": "subscription.cancel_apply",
        "dunning": "subscription.recovered",
    }[job]
    audits = AuditRecord.objects.filter(action=action)
    assert audits.values("target_id").distinct().count() == n == audits.count(), job
    if job == "period-end":
        assert Subscription.objects.filter(plan__code="bench-free").count() == n
        assert CancellationRequest.objects.filter(status="completed").count() == n
        return
    paid = Payment.objects.filter(status="succeeded").values("subscription_id")
    assert paid.annotate(c=Count("pk")).filter(c=1).count() == n == paid.count(), job


def _child(job: str, mode: str, subscriptions: int, workers: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _generate(job, subscriptions)
    started = time.perf_counter()
    done = _handle(job, mode, workers)
    elapsed = time.perf_counter() - started
    assert done == subscriptions, f"{job} {mode}: handled {done} of {subscriptions}"
    _check(job, subscriptions)
    print(f"{mode} {done} {elapsed:.3f}")


def _measure(job: str, mode: str, url: str, subscriptions: int, workers: int) -> float:
    _recreate_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "localhost",
        "CELERY_BROKER_URL": "memory://",  # e-mails queued in memory, never sent
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "PAYMENT_GATEWAY": "local",
        "EMAIL_HOST": "localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    command = [sys.executable, "-m", "bench.jobs", "--child", mode, "--job", job]
    command += ["--subscriptions", str(subscriptions), "--workers", str(workers)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{job} {mode} benchmark failed:\n{completed.stderr}")
    return float(completed.stdout.split()[-1])


def run(
    subscriptions: int | None = None,
    baseline: int | None = None,
    workers: int | None = None,
    jobs: tuple[str, ...] = JOBS,
) -> dict[str, float]:
    """Print and return the timings per job; `make bench-jobs` calls this."""
    subscriptions = subscriptions or int(
        os.environ.get("BENCH_JOBS_SUBSCRIPTIONS", DEFAULT_SUBSCRIPTIONS)
    )
    baseline = min(baseline or DEFAULT_BASELINE, subscriptions)
    workers = workers or int(os.environ.get("BENCH_JOBS_WORKERS", DEFAULT_WORKERS))
    url = _database_url()
    results: dict[str, float] = {"subscriptions": subscriptions}
    try:
        for job in jobs:
            results.update(_run_job(job, url, subscriptions, baseline, workers))
    finally:
        _drop_database(url)
    return results


def _run_job(job: str, url: str, subscriptions: int, baseline: int, workers: int) -> dict:
    runs = [(PER_ITEM, "per-item", baseline, 1), ("batched, 1 worker", "batch", subscriptions, 1)]
    if workers > 1:
        runs.append((f"batched, {workers} workers", "batch", subscriptions, workers))
    timings = {label: (n, _measure(job, mode, url, n, w)) for label, mode, n, w in runs}
    base_rate = timings[PER_ITEM][0] / timings[PER_ITEM][1]
    print(
        f"{job} on PostgreSQL, local gateway, batches of {BATCH_SIZE} "
        f"(load average {', '.join(f'{x:.1f}' for x in os.getloadavg())})"
    )
    results = {}
    for label, (n, seconds) in timings.items():
        rate = n / seconds
        print(
            f"  {label:<22}{n:>9,} subscriptions {seconds:8.2f} s {rate:9.0f}/s"
            f"   {rate / base_rate:5.1f}x the per-item rate"
        )
        results[f"{job} {label} seconds"] = seconds
        results[f"{job} {label} per second"] = rate
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", choices=[*JOBS, "all"], default="all")
    parser.add_argument("--subscriptions", type=int, default=None)
    parser.add_argument("--baseline", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--child", choices=["per-item", "batch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.job, args.child, args.subscriptions, args.workers or 1)
    else:
        jobs = JOBS if args.job == "all" else (args.job,)
        run(args.subscriptions, args.baseline, args.workers, jobs)


if __name__ == "__main__":
    main()
