"""The benchmark runner discovers `bench/*.py` modules with `run()` and runs them by name."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from bench import quotes
from bench.__main__ import discover, main
from billing.policy.examples import EXAMPLE_POLICIES


def test_runner_discovers_the_quotes_benchmark():
    assert "quotes" in discover()


def test_runner_rejects_an_unknown_benchmark(capsys):
    assert main(["no-such-bench"]) == 2
    assert "available: " in capsys.readouterr().out


def test_quotes_benchmark_prints_a_rate_per_preset(monkeypatch, capsys):
    monkeypatch.setattr(quotes, "SECONDS", 0.001)
    monkeypatch.setattr(quotes, "_pin_to_one_core", lambda: "not pinned (test)")

    assert main(["quotes"]) == 0

    out = capsys.readouterr().out
    assert all(slug in out for slug in ("connex", "sync-with-connex", "orgix", "prorated-credit"))
    assert "1.00x" in out


def test_quotes_benchmark_measures_every_example_and_the_timing_choice(monkeypatch, capsys):
    monkeypatch.setattr(quotes, "SECONDS", 0.001)
    monkeypatch.setattr(quotes, "_pin_to_one_core", lambda: "not pinned (test)")

    main(["quotes"])

    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    measured = {(row[0], " ".join(row[1:3])) for row in rows if len(row) > 3}
    for slug in EXAMPLE_POLICIES:
        assert (slug, "36 payments") in measured
    assert ("example-slack", "36 +") in measured  # "36 + choice": the alternative read too


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the purge bench runs on PostgreSQL")
def test_the_purge_benchmark_runs_every_contender_on_a_small_copy(settings):
    """The floor's SQL writes the tombstones the purge writes: a column the purge fills
    (as `retained` once was) must be filled there too, or the bench stops."""
    server = settings.DATABASES["default"]
    url = (
        f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        f"/bo_bench_smoke_{os.getpid()}"
    )
    run = subprocess.run(
        [sys.executable, "-m", "bench.purge", "--workspaces", "300", "--workers", "2"],
        env={**os.environ, "BENCH_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    for contender in ("floor (set-based SQL)", "purge, 2 workers", "plain queryset.delete()"):
        assert contender in run.stdout
