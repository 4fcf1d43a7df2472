"""The benchmark runner discovers `bench/*.py` modules with `run()` and runs them by name."""

from bench import quotes
from bench.__main__ import discover, main


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
