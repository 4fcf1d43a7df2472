"""Purge benchmark on PostgreSQL: the batched purge against the SQL floor and `delete()`.

`run()` creates its own database (DATABASE_URL's server, database `bo_bench` by default),
generates N due workspaces with their members, files, modules and internal memberships
in SQL (`INSERT ... SELECT generate_series`), then times, each in a fresh process:

- purge: the erasure step of the daily job, `accounts.services.purge.purge_batch` over
  keyset batches of due ids (members, files, modules, internal memberships deleted, orphan
  users anonymised, the workspace kept as an anonymised shell, a tombstone written), with
  one worker, then with W worker processes sharing the batches as Celery workers share the
  fanned-out tasks (SKIP LOCKED keeps them apart);
- plain: `Workspace.objects.filter(deletion_due_at__lte=now).delete()` on an identical copy;
- floor: the purge's end state (members, files, modules and internal memberships deleted,
  orphan users anonymised, shells, tombstones with counts) reached by hand-written
  set-based SQL, one statement per table for all due workspaces at once (`DELETE ... USING`
  a temporary table of due ids, children first), in one transaction: what the database can
  do without batches, policy re-checks or Python per row.

- dry run: `purge_plan` (what `--dry-run` prints) over every due workspace after a
  VACUUM, with how much longer its last tenth of pages took than its first tenth (each
  page an index-only keyset scan from its cursor: about 1.0, where re-reading the due
  rows above the cursor made the last pages the slowest).

The data set holds no financial records: the plain delete cannot remove workspaces that
subscriptions and payments PROTECT, so both runs get the same rows and the plain delete is
the best case for Django's collector. The purge still does more work (anonymises users,
writes tombstones, re-checks each workspace against its policy). The daily refresh of
due dates and the warning emails are separate steps and not timed. Peak memory is the
growth of the maximum resident set (of the process or its workers) in the timed section.

    python -m bench.purge [--workspaces N] [--workers W]
    (or BENCH_PURGE_WORKSPACES=N, BENCH_PURGE_WORKERS=W; BENCH_DATABASE_URL for the server)
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import resource
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bo_bench"
DEFAULT_WORKSPACES = 100_000
DEFAULT_WORKERS = 2
PLAIN = "plain queryset.delete()"
FLOOR_LABEL = "floor (set-based SQL)"
BATCH_SIZE = int(os.environ.get("BENCH_PURGE_BATCH_SIZE", 1000))
NOW = "2025-05-01T00:00:00+00:00"

GENERATE = """
INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff,
    is_active, date_joined, email, full_name)
SELECT i, '!', false, '', '', false, true, '2025-01-01', 'user' || i || '@example.com',
    'Person ' || i
FROM generate_series(1, 2 * %(n)s) AS i;
SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), 2 * %(n)s);

INSERT INTO accounts_workspace (id, name, slug, owner_id, billing_email, country, vat_number,
    status, suspension_reason, storage_used_mb, created_at, last_activity_at, legal_hold,
    legal_hold_reason, ended_at, deletion_warning_sent_at, deletion_due_at)
SELECT i, 'Club ' || i, 'club-' || i, i, 'user' || i || '@example.com', 'LU', 'LU' || i,
    'active', '', 120, '2025-01-01', '2025-01-01', false, '', NULL, '2025-03-20',
    '2025-04-01'
FROM generate_series(1, %(n)s) AS i;
SELECT setval(pg_get_serial_sequence('accounts_workspace', 'id'), %(n)s);

INSERT INTO accounts_workspacemember (workspace_id, user_id, role, joined_at)
SELECT i, i, 'owner', '2025-01-01'::timestamptz FROM generate_series(1, %(n)s) AS i
UNION ALL
SELECT i, %(n)s + i, 'member', '2025-01-01'::timestamptz FROM generate_series(1, %(n)s) AS i;

INSERT INTO accounts_storedfile (workspace_id, name, size_mb, uploaded_by_id, uploaded_at)
SELECT i, 'file-' || i || '-' || f || '.pdf', 4, i, '2025-01-01'
FROM generate_series(1, %(n)s) AS i, generate_series(1, 5) AS f;

INSERT INTO accounts_workspacemodule (workspace_id, code, enabled_at)
SELECT i, 'module-' || m, '2025-01-01'
FROM generate_series(1, %(n)s) AS i, generate_series(1, 3) AS m;

INSERT INTO accounts_internalmembership (workspace_id, member_name, member_email, status,
    price, currency, provider, provider_reference, metadata, created_at)
SELECT i, 'Member ' || i || '-' || m, 'member' || i || '-' || m || '@example.org', 'active',
    20, 'EUR', 'stripe', '', '{}', '2025-01-01'
FROM generate_series(1, %(n)s) AS i, generate_series(1, 2) AS m;
ANALYZE;
"""

# The floor: the purge's end state reached by hand-written set-based SQL, one statement per
# table for every due workspace at once (`DELETE ... USING` a table of due ids, children
# first), in one transaction: no batches, no policy re-check, no Python per row.
FLOOR = """
CREATE TEMP TABLE due (id bigint PRIMARY KEY) ON COMMIT DROP;
INSERT INTO due SELECT id FROM accounts_workspace
WHERE status <> 'deleted' AND deletion_due_at <= %(now)s
    AND deletion_warning_sent_at <= %(now)s::timestamptz - interval '7 days';
ANALYZE due;
CREATE TEMP TABLE people (id bigint PRIMARY KEY) ON COMMIT DROP;
INSERT INTO people
SELECT m.user_id FROM accounts_workspacemember m JOIN due ON due.id = m.workspace_id
UNION SELECT w.owner_id FROM accounts_workspace w JOIN due ON due.id = w.id;
DELETE FROM people p WHERE EXISTS (SELECT 1 FROM accounts_workspacemember m
        WHERE m.user_id = p.id AND m.workspace_id NOT IN (SELECT id FROM due))
    OR EXISTS (SELECT 1 FROM accounts_workspace w WHERE w.owner_id = p.id
        AND w.status <> 'deleted' AND w.id NOT IN (SELECT id FROM due))
    OR EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = p.id
        AND (u.is_staff OR u.is_superuser));
CREATE TEMP TABLE removed (workspace_id bigint, kind text, n int) ON COMMIT DROP;
WITH d AS (DELETE FROM accounts_workspacemember m USING due WHERE m.workspace_id = due.id
    RETURNING m.workspace_id, m.user_id)
INSERT INTO removed SELECT workspace_id, 'members', count(*) FROM d GROUP BY 1
UNION ALL SELECT workspace_id, 'profiles_anonymised', count(*) FROM d
    WHERE user_id IN (SELECT id FROM people) GROUP BY 1;
WITH d AS (DELETE FROM accounts_storedfile t USING due WHERE t.workspace_id = due.id
    RETURNING t.workspace_id)
INSERT INTO removed SELECT workspace_id, 'files', count(*) FROM d GROUP BY 1;
WITH d AS (DELETE FROM accounts_workspacemodule t USING due WHERE t.workspace_id = due.id
    RETURNING t.workspace_id)
INSERT INTO removed SELECT workspace_id, 'modules', count(*) FROM d GROUP BY 1;
WITH d AS (DELETE FROM accounts_internalmembership t USING due WHERE t.workspace_id = due.id
    RETURNING t.workspace_id)
INSERT INTO removed SELECT workspace_id, 'internal_memberships', count(*) FROM d GROUP BY 1;
DELETE FROM authtoken_token t USING people WHERE t.user_id = people.id;
DELETE FROM billing_idempotencykey k USING people WHERE k.user_id = people.id;
UPDATE accounts_user u SET email = 'erased-' || u.id || '@erased.invalid', full_name = '',
    first_name = '', last_name = '', password = '!', is_active = false, last_login = NULL
FROM people WHERE u.id = people.id;
INSERT INTO accounts_deletiontombstone (workspace_id, workspace_created_at, last_activity_at,
    ended_at, deleted_at, rule, policy, retained, counts)
SELECT w.id, w.created_at, w.last_activity_at, w.ended_at, %(now)s, 'inactivity', '', '[]',
    jsonb_build_object(
        'members', coalesce(sum(r.n) FILTER (WHERE r.kind = 'members'), 0),
        'files', coalesce(sum(r.n) FILTER (WHERE r.kind = 'files'), 0),
        'modules', coalesce(sum(r.n) FILTER (WHERE r.kind = 'modules'), 0),
        'internal_memberships',
            coalesce(sum(r.n) FILTER (WHERE r.kind = 'internal_memberships'), 0),
        'profiles_anonymised',
            coalesce(sum(r.n) FILTER (WHERE r.kind = 'profiles_anonymised'), 0))
FROM due JOIN accounts_workspace w ON w.id = due.id
LEFT JOIN removed r ON r.workspace_id = due.id
GROUP BY w.id;
UPDATE accounts_workspace w SET status = 'deleted', name = 'Deleted workspace #' || w.id,
    slug = 'deleted-' || w.id, owner_id = %(erased_owner)s, billing_email = '',
    vat_number = '', suspension_reason = '', storage_used_mb = 0, legal_hold_reason = '',
    deletion_due_at = NULL
FROM due WHERE w.id = due.id;
"""


def _script(cursor, sql: str, params: dict) -> None:
    """Runs a script one statement at a time: with parameters bound by the server (the
    project's PostgreSQL setting), one execute holds one statement."""
    for statement in sql.split(";\n"):
        if statement.strip():
            cursor.execute(statement, params)


def _database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _recreate_database(url: str) -> None:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _purge_batch_in_worker(ids: list[int]) -> int:
    import datetime as dt

    from accounts.services.purge import purge_batch

    return len(purge_batch(workspace_ids=ids, now=dt.datetime.fromisoformat(NOW)).deleted)


def _purge(workers: int) -> int:
    """The erasure as the daily job runs it: batches of due ids, one transaction each,
    shared by `workers` processes the way Celery workers share the fanned-out tasks."""
    import datetime as dt
    import multiprocessing

    from django.db import connections

    from accounts.services.batching import due_id_batches
    from accounts.services.purge import purge_batch
    from accounts.services.purge_selection import due_for_deletion

    now = dt.datetime.fromisoformat(NOW)
    batches = due_id_batches(due_for_deletion(now=now), batch_size=BATCH_SIZE)
    if workers == 1:
        return sum(len(purge_batch(workspace_ids=ids, now=now).deleted) for ids in batches)
    batches = list(batches)  # ids only: 8 bytes a workspace, handed out like Celery tasks
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.imap_unordered(_purge_batch_in_worker, batches))


def _floor(now) -> int:
    from django.db import connection, transaction

    from accounts.services.erasure import erased_owner_id

    with transaction.atomic(), connection.cursor() as cursor:
        _script(cursor, FLOOR, {"now": now, "erased_owner": erased_owner_id()})
        cursor.execute("SELECT count(*) FROM accounts_deletiontombstone")
        return cursor.fetchone()[0]


def _dry_run() -> tuple[int, float]:
    """The dry run over every due workspace (warnings, then deletions); returns the rows
    planned and how much longer its last tenth of pages took than its first tenth (about
    1.0 when each page costs the same wherever its cursor is). The first page, which
    also pays for the warning pass (nothing to warn: every row is warned), is left out."""
    import datetime as dt

    from accounts.services.purge import purge_plan

    now = dt.datetime.fromisoformat(NOW)
    stamps, planned = [time.perf_counter()], 0
    for _action in purge_plan(now=now, batch_size=BATCH_SIZE):
        planned += 1
        if planned % BATCH_SIZE == 0:
            stamps.append(time.perf_counter())
    pages = [later - earlier for earlier, later in itertools.pairwise(stamps[1:])]
    if len(pages) < 2:
        return planned, float("nan")  # a small run: no pages to compare
    tenth = max(1, len(pages) // 10)
    return planned, sum(pages[-tenth:]) / sum(pages[:tenth])


def _child(mode: str, workspaces: int, workers: int) -> None:
    """In a fresh process on the bench database: migrate, generate, time one strategy."""
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import DeletionTombstone, Workspace

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        _script(cursor, GENERATE, {"n": workspaces})
    now = dt.datetime.fromisoformat(NOW)
    if mode == "dryrun":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) accounts_workspace")  # as autovacuum would
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "dryrun":
        done, tail_ratio = _dry_run()
        print(f"pages last-tenth/first-tenth {tail_ratio:.3f}")
    elif mode == "purge":
        done = _purge(workers)
    elif mode == "floor":
        done = _floor(now)
    else:
        done, _ = Workspace.objects.filter(deletion_due_at__lte=now).delete()
        done = workspaces
    elapsed = time.perf_counter() - started
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    growth_kb = max(0, peak - rss_before)
    if mode == "dryrun":
        assert done == workspaces and not DeletionTombstone.objects.exists()
    elif mode in ("purge", "floor"):
        assert DeletionTombstone.objects.count() == workspaces, f"{mode} left workspaces"
    else:
        assert not Workspace.objects.exists(), "plain delete left workspaces"
    print(f"{mode} {done} {elapsed:.3f} {growth_kb}")


def _measure(mode: str, url: str, workspaces: int, workers: int = 1) -> tuple[float, int, str]:
    """(seconds, peak memory growth in KiB, the child's output) of one strategy."""
    _recreate_database(url)
    # DEBUG off as in production: with DEBUG on, Django keeps the last 9,000 SQL strings.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "localhost",
        "CELERY_BROKER_URL": "memory://",  # the purge runs in-process; no worker involved
        # Production settings require a mail server; the timed steps send no email.
        "EMAIL_HOST": "localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.purge",
            "--child",
            mode,
            "--workspaces",
            str(workspaces),
            "--workers",
            str(workers),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} benchmark failed:\n{completed.stderr}")
    _mode, _done, elapsed, growth_kb = completed.stdout.split()[-4:]
    return float(elapsed), int(growth_kb), completed.stdout


def run(workspaces: int | None = None, workers: int | None = None) -> dict[str, float]:
    """Print and return the timings; `make bench` calls this through `bench/__main__.py`."""
    workspaces = workspaces or int(os.environ.get("BENCH_PURGE_WORKSPACES", DEFAULT_WORKSPACES))
    workers = workers or int(os.environ.get("BENCH_PURGE_WORKERS", DEFAULT_WORKERS))
    runs = [(FLOOR_LABEL, "floor", 1), ("purge, 1 worker", "purge", 1)]
    if workers > 1:
        runs.append((f"purge, {workers} workers", "purge", workers))
    runs.append((PLAIN, "plain", 1))
    url = _database_url()
    try:
        timings = {label: _measure(mode, url, workspaces, n) for label, mode, n in runs}
        dry_run_s, _, output = _measure("dryrun", url, workspaces)
    finally:
        _drop_database(url)
    plain_s, floor_s = timings[PLAIN][0], timings[FLOOR_LABEL][0]
    results: dict[str, float] = {"workspaces": workspaces}
    print(f"Purge benchmark: {workspaces:,} due workspaces on PostgreSQL")
    for label, (seconds, peak_kb, _) in timings.items():
        faster = plain_s / seconds if seconds else float("inf")
        print(
            f"  {label:<26}{seconds:8.2f} s   peak memory +{peak_kb / 1024:7.1f} MiB"
            f"   {seconds / floor_s:5.2f}x the floor's time"
            f"   {faster:5.1f}x the plain delete's speed"
        )
        results[f"{label} seconds"] = seconds
        results[f"{label} peak MiB"] = peak_kb / 1024
    tail = float(output.split("first-tenth")[1].split()[0])
    compared = (
        "too few pages to compare its first and last tenth"
        if math.isnan(tail)
        else f"its last tenth of pages took {tail:.2f}x the time of its first tenth"
    )
    print(f"  dry run (--dry-run, no change) {dry_run_s:8.2f} s; {compared}")
    results["dry run seconds"] = dry_run_s
    results["dry run last/first tenth"] = tail
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--child", choices=["purge", "floor", "plain", "dryrun"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.workspaces, args.workers or 1)
    else:
        run(args.workspaces, args.workers)


if __name__ == "__main__":
    main()
