"""API throughput on the production server: a bare view vs the cancellation POST and quote.

`run()` seeds a database (DATABASE_URL's server, database `bo_bench_api` by default,
`BENCH_API_WORKSPACES` demo workspaces, reused when it exists, analysed), gives the owners
of live paid workspaces an API token, and starts gunicorn (gunicorn.conf.py: 2 threads
per worker; DEBUG off, `CONN_MAX_AGE`, tasks queued not run, 2 workers, no worker
recycling) with `bench._api_urls` as URLconf: the project's URLs plus `bench/bare/<pk>/`,
a Django view doing one indexed read (a workspace by primary key), and `bench/floor/<pk>/`,
the same read behind the customer API's framework (token authentication, throttle, DRF
rendering). Then, in rounds, each endpoint is loaded over loopback for `--seconds` by
`--clients` threads in turn (bare, API floor, cancellation POST, quote GET), and the table
prints throughput and p99 latency as ratios to the bare view's, measured side by side in
the same run.

Every POST submits a new cancellation for another workspace (the created requests and
their audit records are deleted between rounds, so each round starts from the same
data), and the GETs cycle through the same owners: nearly every request is its user's
first in that worker, so the load pays the activity write (`accounts.middleware`) as a
customer's first request does. The queries per request are counted once per endpoint with
Django's test client, for a returning user and for a user's first request (activity
write included). `--returning` measures returning users instead: the workers share a Redis
cache (as in production; keys under a prefix of this run) and every owner makes one
request before the rounds, so no request in them writes activity.

    python -m bench.api [--seconds S] [--rounds R] [--clients C] [--workers W] [--returning]
                        [--only TEXT]   # e.g. make bench-api ARGS="--only quote"
    python -m bench.api --cpu [--cpu-workspaces N] [--cpu-passes P] [--cpu-profile ENDPOINT]

`--cpu` measures the CPU time per request in process instead (bench/_api_cpu.py).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bo_bench_api"
DEFAULT_WORKSPACES = 3_000
SEED_NOW = "2026-11-22T03:00:00+00:00"
PORT = 8765
REDIS_CACHE = os.environ.get("BENCH_API_REDIS", "redis://127.0.0.1:6379/6")
GOALS = {"cancellation POST": (0.33, 3.0), "quote GET": (0.5, None)}


def _database_url() -> str:
    base = os.environ.get("BENCH_API_DATABASE_URL")
    if base:
        return base
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit(DEFAULT_URL)
    return urlunsplit(parts._replace(path="/bo_bench_api"))


def _ensure_seeded(url: str, workspaces: int) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run(
        [*manage, "seed_demo", "--workspaces", str(workspaces), "--now", SEED_NOW],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # A freshly seeded (COPY) database has no planner statistics until autovacuum gets to
    # it: the payments query then intersects two bitmap scans, one over every succeeded
    # payment. A production database has statistics.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def prepare() -> None:
    """(Subprocess on the bench database.) Tokens for the owners of live paid workspaces
    without an open request, the ids to reset to, and the queries of each endpoint."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Max
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from rest_framework.authtoken.models import Token

    from accounts.models import AuditRecord, WorkspaceMember
    from billing.models import CancellationRequest, Subscription

    setup_test_environment()
    open_requests = CancellationRequest.objects.filter(
        status__in=CancellationRequest.OPEN_STATUSES
    ).values("workspace_id")
    seats = (
        WorkspaceMember.objects.filter(
            role=WorkspaceMember.Role.OWNER,
            workspace__subscriptions__status=Subscription.Status.ACTIVE,
            workspace__subscriptions__cancel_at_period_end=False,
            workspace__subscriptions__plan__price__gt=0,
            workspace__slug__startswith="demo-",
        )
        .exclude(workspace_id__in=open_requests)
        .select_related("user", "workspace")
        .order_by("workspace__slug")
    )
    pool = []
    for seat in seats:
        token, _ = Token.objects.get_or_create(user=seat.user)
        pool.append({"slug": seat.workspace.slug, "token": token.key, "pk": seat.workspace_id})
    baseline = {
        "cancellation": CancellationRequest.objects.aggregate(m=Max("pk"))["m"] or 0,
        "audit": AuditRecord.objects.aggregate(m=Max("pk"))["m"] or 0,
    }
    client = Client()
    entry = pool[0]
    auth = {"HTTP_AUTHORIZATION": f"Token {entry['token']}"}
    calls = {
        "bare view": lambda: client.get(f"/bench/bare/{entry['pk']}/"),
        "API floor": lambda: client.get(f"/bench/floor/{entry['pk']}/", **auth),
        "quote GET": lambda: client.get(
            f"/api/workspaces/{entry['slug']}/cancellation/quote/", **auth
        ),
        "cancellation POST": lambda: client.post(
            f"/api/workspaces/{entry['slug']}/cancellations/",
            {"reason": "too_expensive"},
            content_type="application/json",
            **auth,
        ),
    }

    def counted(call) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            status = call().status_code
        _reset(baseline)
        return len(captured), status

    queries = {}
    for name, call in calls.items():
        call()  # warm: content types, first connection
        _reset(baseline)
        count, status = counted(call)
        cache.clear()  # forget the user's recent activity: their first request again
        first, _ = counted(call)
        queries[name] = {"queries": count, "first_visit": first, "status": status}
    _reset(baseline)
    print(json.dumps({"pool": pool, "baseline": baseline, "queries": queries}))


def _reset(baseline: dict) -> None:
    from accounts.models import AuditRecord
    from billing.models import CancellationRequest

    CancellationRequest.objects.filter(pk__gt=baseline["cancellation"]).delete()
    AuditRecord.objects.filter(pk__gt=baseline["audit"]).delete()


def _reset_sql(url: str, baseline: dict) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM billing_cancellationrequest WHERE id > %s", [baseline["cancellation"]]
        )
        conn.execute("DELETE FROM accounts_auditrecord WHERE id > %s", [baseline["audit"]])


def _server_env(url: str) -> dict:
    """The production server's environment (DEBUG off), on the bench database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._api_settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        # Tasks are queued in memory and never run: the request does what production's does.
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "EMAIL_HOST": "localhost",
        "SECURE_SSL_REDIRECT": "false",
    }


def _start_server(url: str, workers: int, returning: bool) -> subprocess.Popen:
    env = _server_env(url)
    if returning:
        # A cache shared by the workers, as production's (docs/operations.md), so one
        # pass over the owners records everyone's activity for both workers.
        env["CACHE_URL"] = REDIS_CACHE
        env["BENCH_CACHE_PREFIX"] = f"bench-api-{os.getpid()}-{time.time_ns()}"
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "backoffice.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            # gunicorn.conf.py recycles a worker every ~2,000 requests: under the bare view's
            # load that is a restart every few seconds, charged to the bare view alone.
            "--max-requests",
            "0",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _load(requests, seconds: float, clients: int) -> dict:
    """`clients` threads send requests from the shared iterator `requests` for `seconds`
    (or until it runs out); returns the count, the duration and the latencies."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < stop_at:
            with lock:
                request = next(requests, None)
            if request is None:
                return
            method, target, body, headers = request
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            started = time.perf_counter()
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            conn.close()
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"duration": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


def _requests(name: str, pool: list[dict]):
    def headers(entry):
        return {"Authorization": f"Token {entry['token']}", "Content-Type": "application/json"}

    if name == "bare view":
        while True:
            for entry in pool:
                yield "GET", f"/bench/bare/{entry['pk']}/", None, {}
    elif name == "API floor":
        while True:
            for entry in pool:
                yield "GET", f"/bench/floor/{entry['pk']}/", None, headers(entry)
    elif name == "quote GET":
        while True:
            for entry in pool:
                target = f"/api/workspaces/{entry['slug']}/cancellation/quote/"
                yield "GET", target, None, headers(entry)
    else:
        body = json.dumps({"reason": "too_expensive"})
        for entry in pool:  # one new request per workspace
            yield "POST", f"/api/workspaces/{entry['slug']}/cancellations/", body, headers(entry)


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--returning",
        action="store_true",
        help="every user made a request just before (shared Redis cache): no activity writes",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="instead of the server: CPU time per request in process (bench/_api_cpu.py)",
    )
    parser.add_argument(
        "--only", metavar="TEXT", help="load only the endpoints whose name contains TEXT"
    )
    parser.add_argument("--cpu-workspaces", type=int, default=40)
    parser.add_argument("--cpu-passes", type=int, default=15)
    parser.add_argument("--cpu-profile", metavar="ENDPOINT", help="cProfile one endpoint")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.prepare:
        prepare()
        return
    if args.cpu_child:
        from bench import _api_cpu

        given = json.load(sys.stdin)
        reset = functools.partial(_reset, given["baseline"])
        _api_cpu.run(given["pool"], reset, args.cpu_passes, args.cpu_profile)
        return
    url = _database_url()
    workspaces = int(os.environ.get("BENCH_API_WORKSPACES", DEFAULT_WORKSPACES))
    _ensure_seeded(url, workspaces)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "bench._api_settings",
        # As on the server: tasks queued, not run inside the counted request.
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    prepared = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.api", "--prepare"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    )
    pool, baseline = prepared["pool"], prepared["baseline"]
    if args.cpu:
        child = [sys.executable, "-m", "bench.api", "--cpu-child", "--cpu-passes"]
        child += [str(args.cpu_passes)]
        if args.cpu_profile:
            child += ["--cpu-profile", args.cpu_profile]
        given = json.dumps({"pool": pool[: args.cpu_workspaces], "baseline": baseline})
        cpu_env = {**_server_env(url), "ALLOWED_HOSTS": "testserver"}
        subprocess.run(child, env=cpu_env, input=given, text=True, check=True)
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        return
    server = _start_server(url, args.workers, args.returning)
    names = ["bare view", "API floor", "cancellation POST", "quote GET"]
    if args.only:  # the bare view stays: every ratio is to it
        names = ["bare view", *(n for n in names[1:] if args.only.lower() in n.lower())]
    results = {
        name: {"count": 0, "duration": 0.0, "latencies": [], "statuses": {}} for name in names
    }
    try:
        for name in names:  # warm every worker's connection and caches
            _load(_requests(name, pool[-20:]), 1.0, args.clients)
        if args.returning:  # one request per owner: their activity is recorded
            _load(itertools.islice(_requests("API floor", pool), len(pool)), 600, args.clients)
        _reset_sql(url, baseline)
        for _ in range(args.rounds):
            for name in names:
                measured = _load(_requests(name, pool), args.seconds, args.clients)
                total = results[name]
                total["count"] += len(measured["latencies"])
                total["duration"] += measured["duration"]
                total["latencies"] += measured["latencies"]
                for code, count in measured["statuses"].items():
                    total["statuses"][code] = total["statuses"].get(code, 0) + count
            _reset_sql(url, baseline)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _print(results, prepared["queries"], args, workspaces, len(pool))


def _print(results: dict, queries: dict, args, workspaces: int, pool: int) -> None:
    bare_rate = results["bare view"]["count"] / results["bare view"]["duration"]
    bare_p99 = _p99(results["bare view"]["latencies"])
    print(
        f"gunicorn {args.workers} workers, {args.clients} clients over loopback, "
        f"{args.rounds} rounds x {args.seconds:.0f}s per endpoint, {workspaces:,} workspaces "
        f"({pool} with a token for the POST), "
        + ("returning users (shared cache)" if args.returning else "first visits")
    )
    header = (
        f"{'endpoint':<18} {'queries':>7} {'1st':>4} {'requests':>8} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'x bare req/s':>12} {'x bare p99':>10}  statuses"
    )
    print(header)
    print("-" * len(header))
    for name, total in results.items():
        rate = total["count"] / total["duration"]
        p99 = _p99(total["latencies"])
        p50 = statistics.median(total["latencies"])
        goal = GOALS.get(name)
        verdict = ""
        if goal:
            min_rate, max_p99 = goal
            ok = rate / bare_rate >= min_rate and (max_p99 is None or p99 / bare_p99 <= max_p99)
            verdict = "  goal met" if ok else "  goal missed"
        print(
            f"{name:<18} {queries[name]['queries']:>7} {queries[name]['first_visit']:>4} "
            f"{total['count']:>8} {rate:>7.1f} "
            f"{p50 * 1000:>7.1f} {p99 * 1000:>7.1f} {rate / bare_rate:>12.2f} "
            f"{p99 / bare_p99:>10.2f}  {total['statuses']}{verdict}"
        )
    print(
        "queries: a returning user's request; 1st: a user's first request in the activity "
        "interval (the load's usual case), the activity write included"
    )
    print(
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    run(sys.argv[1:])
