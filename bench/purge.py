"""Purge benchmark on PostgreSQL: the batched purge against Django's plain `delete()`.

`run()` creates its own database (DATABASE_URL's server, database `bo_bench` by default),
generates N due workspaces with their members, files, modules and internal memberships
in SQL (`INSERT ... SELECT generate_series`), then times, each in a fresh process:

- purge: `accounts.services.purge.purge_run` (refresh of every due date, then erasure in
  batches: members, files, modules, internal memberships deleted, orphan users anonymised,
  the workspace kept as an anonymised shell, a tombstone written);
- plain: `Workspace.objects.filter(deletion_due_at__lte=now).delete()` on an identical copy.

The data set holds no financial records: the plain delete cannot remove workspaces that
subscriptions and payments PROTECT, so both runs get the same rows and the plain delete is
the best case for Django's collector. The purge still does more work (anonymises users,
writes tombstones, recomputes due dates). Peak memory is the growth of the process's
maximum resident set during the timed section.

    python -m bench.purge [--workspaces N]       (or BENCH_PURGE_WORKSPACES=N)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bo_bench"
DEFAULT_WORKSPACES = 100_000
BATCH_SIZE = 1000

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


def _child(mode: str, workspaces: int) -> None:
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
        cursor.execute(GENERATE, {"n": workspaces})
    now = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "purge":
        from accounts.services.purge import purge_run

        summary = purge_run(now=now, batch_size=BATCH_SIZE)
        done = summary.deleted
    else:
        done, _ = Workspace.objects.filter(deletion_due_at__lte=now).delete()
        done = workspaces
    elapsed = time.perf_counter() - started
    growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    if mode == "purge":
        assert DeletionTombstone.objects.count() == workspaces, "purge left workspaces"
    else:
        assert not Workspace.objects.exists(), "plain delete left workspaces"
    print(f"{mode} {done} {elapsed:.3f} {growth_kb}")


def _measure(mode: str, url: str, workspaces: int) -> tuple[float, int]:
    _recreate_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.purge", "--child", mode, "--workspaces", str(workspaces)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} benchmark failed:\n{completed.stderr}")
    _mode, _done, elapsed, growth_kb = completed.stdout.split()[-4:]
    return float(elapsed), int(growth_kb)


def run(workspaces: int | None = None) -> dict[str, float]:
    """Print and return the timings; `make bench` calls this through `bench/__main__.py`."""
    workspaces = workspaces or int(os.environ.get("BENCH_PURGE_WORKSPACES", DEFAULT_WORKSPACES))
    url = _database_url()
    try:
        purge_s, purge_kb = _measure("purge", url, workspaces)
        plain_s, plain_kb = _measure("plain", url, workspaces)
    finally:
        _drop_database(url)
    ratio = plain_s / purge_s if purge_s else float("inf")
    print(f"Purge benchmark: {workspaces:,} due workspaces on PostgreSQL")
    print(f"  batched purge:          {purge_s:8.2f} s   peak memory +{purge_kb / 1024:7.1f} MiB")
    print(f"  plain queryset.delete():{plain_s:8.2f} s   peak memory +{plain_kb / 1024:7.1f} MiB")
    print(f"  purge is {ratio:.1f}x faster than the plain delete")
    return {
        "workspaces": workspaces,
        "purge_seconds": purge_s,
        "purge_peak_mib": purge_kb / 1024,
        "plain_seconds": plain_s,
        "plain_peak_mib": plain_kb / 1024,
        "ratio": ratio,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=None)
    parser.add_argument("--child", choices=["purge", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.workspaces)
    else:
        run(args.workspaces)


if __name__ == "__main__":
    main()
