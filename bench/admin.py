"""Admin changelists at two sizes on PostgreSQL, side by side: query counts and times.

`run()` makes sure two databases hold the demo data at a small and a big size (default
10,000 and 200,000 workspaces; `seed_demo` is idempotent, so an existing database of the
same size is reused and only missing workspaces are added), then starts one worker
process per database. For every changelist of every registered admin, each choice of
each of its filters (up to `CHOICES_PER_FILTER`), its search by a workspace slug, by an
email and by a word of a name, and its page 50, both workers load the same URL in turn,
`ROUNDS` times after a warm-up; the table shows the queries and listed rows of each and
the ratio of the median times (big / small). A filter that lists 19 rows at the small
size and a full page of 50 at the big one renders more on the big one: the summary counts
the ratios above the goal that list more rows there. DEBUG is off, as in production.

    python -m bench.admin [--small N] [--big N] [--rounds R] [--only TEXT] [--no-seed]
    python -m bench.admin --explain [--only TEXT]   # unindexed reads on the big database
    make bench-admin BIG=200000 [ARGS="--only Workspace"]
    (BENCH_DATABASE_URL names the server and the database prefix: <name>_<size>)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bo_bench_admin"
DEFAULT_SMALL = 10_000
DEFAULT_BIG = 200_000
DEFAULT_ROUNDS = 3
CHOICES_PER_FILTER = 4
PAGE = 50
SEED_NOW = "2026-11-22T03:00:00+00:00"
SEARCH_SLUG = "demo-000042"
SEARCH_WORD = "photo"
GOAL_RATIO = 1.5
SCAN_ROWS = 20_000


@dataclass(frozen=True)
class Variant:
    """One changelist URL: which admin, what it exercises, the query string."""

    admin: str
    label: str
    url: str


def changelist_variants(
    client,
    *,
    slug: str = SEARCH_SLUG,
    word: str = SEARCH_WORD,
    choices_per_filter: int = CHOICES_PER_FILTER,
) -> list[Variant]:
    """The admin index (the dashboard's figures and charts), then every registered
    admin's changelist, its filter choices, searches and page 50, as the signed-in user
    of `client` sees them (admins it may not view are left out)."""
    from django.contrib import admin
    from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
    from django.urls import reverse

    from accounts.models import Workspace

    workspace = Workspace.objects.filter(slug=slug).first()
    email = workspace.billing_email if workspace else "owner@example.com"
    variants = [Variant("admin index", "dashboard", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        name = model._meta.label
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        if response.status_code != 200:
            continue
        cl = response.context["cl"]
        variants.append(Variant(name, "list", url))
        for spec in cl.filter_specs:
            chosen = [c for c in spec.choices(cl) if not c["selected"]][:choices_per_filter]
            for choice in chosen:
                variants.append(
                    Variant(
                        name,
                        f"filter {spec.title}: {choice['display']}",
                        url + choice["query_string"],
                    )
                )
        if model_admin.search_fields:
            for label, term in (("slug", slug), ("email", email), ("word", word)):
                query = urlencode({SEARCH_VAR: term})
                variants.append(Variant(name, f"search {label}", f"{url}?{query}"))
        if cl.paginator.num_pages >= PAGE:
            variants.append(Variant(name, f"page {PAGE}", f"{url}?{PAGE_VAR}={PAGE}"))
    return variants


def _database_url(base: str, size: int) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path}_{size}"))


def _ensure_seeded(url: str, size: int) -> float:
    """Create, migrate and seed the database (only missing workspaces), then ANALYZE."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    started = time.monotonic()
    subprocess.run(
        [*manage, "seed_demo", "--workspaces", str(size), "--now", SEED_NOW],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return elapsed


class Worker:
    """A Django process on one database answering `load` requests over a pipe."""

    def __init__(self, url: str):
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.admin", "--serve"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def serve() -> None:
    """Worker side: sign in as the demo superuser, then answer one JSON line per request."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()  # DEBUG off, "testserver" allowed
    client = Client(raise_request_exception=False)
    if not client.login(email="admin@example.com", password="admin"):
        raise SystemExit("the demo superuser admin@example.com cannot sign in")
    for line in sys.stdin:
        message = json.loads(line)
        if message["op"] == "variants":
            answer = [v.__dict__ for v in changelist_variants(client)]
        else:
            # The log keeps the last 9,000 queries only: once full, a capture would count 0.
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(message["url"])
                elapsed = time.perf_counter() - started
            answer = {
                "status": response.status_code,
                "queries": len(queries),
                "ms": elapsed * 1000,
                "rows": _listed_rows(response.content),
            }
            if message.get("explain"):
                answer["scans"] = _unindexed_scans(connection, queries.captured_queries)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _listed_rows(content: bytes) -> int:
    """Rows of the changelist's table (0 for the dashboard): a page listing fewer rows
    renders less, which the ratio of two sizes must not be read as a speed-up."""
    table = content.partition(b'id="result_list"')[2].partition(b"</table>")[0]
    return max(table.count(b"<tr") - 1, 0)


def _unindexed_scans(connection, captured: list[dict]) -> list[str]:
    """What the plans of a page's queries read without an index: sequential scans of
    tables over `SCAN_ROWS` rows and sorts of more than `SCAN_ROWS` rows (the planner's
    estimates, `EXPLAIN` without running the query)."""
    found = []
    with connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if not sql.startswith("SELECT") or "django_session" in sql:
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node in _plan_nodes(plan[0]["Plan"]):
                kind, rows = node["Node Type"], node.get("Plan Rows", 0)
                table = node.get("Relation Name", "")
                if kind == "Seq Scan" and _table_rows(cursor, table) > SCAN_ROWS:
                    found.append(f"Seq Scan on {table} ({_table_rows(cursor, table):,} rows)")
                elif kind in ("Sort", "Incremental Sort") and rows > SCAN_ROWS:
                    found.append(f"{kind} of {rows:,} rows by {', '.join(node['Sort Key'])}")
    return found


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def _table_rows(cursor, table: str) -> int:
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def explain(big: Worker, variants: list[Variant]) -> None:
    """Print, for each URL, what its queries read without an index on the big database."""
    for variant in variants:
        answer = big.ask(op="load", url=variant.url, explain=True)
        for scan in dict.fromkeys(answer["scans"]):
            print(f"{variant.admin:<28} {variant.label[:44]:<44} {scan}")


def measure(small: Worker, big: Worker, variants: list[Variant], rounds: int) -> list[dict]:
    results = []
    for variant in variants:
        loads = {"small": [], "big": []}
        for round_number in range(rounds + 1):
            for size, worker in (("small", small), ("big", big)):
                answer = worker.ask(op="load", url=variant.url)
                if round_number:  # the first round warms caches and connections
                    loads[size].append(answer)
        row = {"variant": variant}
        for size, answers in loads.items():
            row[f"{size}_status"] = answers[-1]["status"]
            row[f"{size}_queries"] = answers[-1]["queries"]
            row[f"{size}_rows"] = answers[-1]["rows"]
            row[f"{size}_ms"] = statistics.median(a["ms"] for a in answers)
        row["ratio"] = row["big_ms"] / row["small_ms"]
        results.append(row)
    return results


def print_table(results: list[dict], small_size: int, big_size: int) -> None:
    header = (
        f"{'changelist':<28} {'variant':<44} {'queries':>9} {'rows':>7} "
        f"{f'ms {small_size:,}':>11} {f'ms {big_size:,}':>12} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in results:
        variant = row["variant"]
        queries = f"{row['small_queries']}/{row['big_queries']}"
        rows = f"{row['small_rows']}/{row['big_rows']}"
        flag = "" if row["ratio"] <= GOAL_RATIO else "  >1.5x"
        if row["small_status"] != 200 or row["big_status"] != 200:
            flag += f"  HTTP {row['small_status']}/{row['big_status']}"
        print(
            f"{variant.admin:<28} {variant.label[:44]:<44} {queries:>9} {rows:>7} "
            f"{row['small_ms']:>11.1f} {row['big_ms']:>12.1f} {row['ratio']:>6.2f}{flag}"
        )
    ratios = [row["ratio"] for row in results]
    same = sum(row["small_queries"] == row["big_queries"] for row in results)
    over = [row for row in results if row["ratio"] > GOAL_RATIO]
    fuller = [row for row in over if row["big_rows"] > row["small_rows"]]
    print(
        f"\n{len(results)} URLs; median ratio {statistics.median(ratios):.2f}, worst "
        f"{max(ratios):.2f}; {len(over)} above {GOAL_RATIO}x ({len(fuller)} of them listing "
        f"more rows on the big database); same query count in {same}/{len(results)}"
    )


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.admin")
    parser.add_argument(
        "--small", type=int, default=int(os.environ.get("BENCH_ADMIN_SMALL", DEFAULT_SMALL))
    )
    parser.add_argument(
        "--big", type=int, default=int(os.environ.get("BENCH_ADMIN_BIG", DEFAULT_BIG))
    )
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument(
        "--only", default="", help="only the URLs whose admin or variant contains this text"
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="use the databases as they are (no migrate/seed)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="instead of timing, list the sequential scans and large sorts of each URL's "
        "queries on the big database",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.serve:
        serve()
        return
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    workers = {}
    for size in (args.small, args.big):
        url = _database_url(base, size)
        if not args.no_seed:
            seconds = _ensure_seeded(url, size)
            name = urlsplit(url).path.lstrip("/")
            print(f"{size:,} workspaces in {name}: seed_demo {seconds:.0f}s")
        workers[size] = Worker(url)
    try:
        small, big = workers[args.small], workers[args.big]
        variants = [
            Variant(**v)
            for v in small.ask(op="variants")
            if args.only.lower() in f"{v['admin']} {v['label']}".lower()
        ]
        if args.explain:
            explain(big, variants)
            return
        results = measure(small, big, variants, args.rounds)
    finally:
        for worker in workers.values():
            worker.close()
    print_table(results, args.small, args.big)


if __name__ == "__main__":
    run(sys.argv[1:])
