"""Quotes per second on one core, per preset, for the shipped example scenario of each and
for a long-lived subscription (36 payments, services, refunds). Ratios compare each preset
with the simplest (orgix: no window, no proration) measured in the same run."""

import json
import os
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from billing.policy.engine import add_months, quote_cancellation
from billing.policy.examples import EXAMPLE_POLICIES
from billing.policy.presets import PRESETS
from billing.policy.rules import PaymentKind
from billing.policy.scenarios import EXAMPLES, parse_scenario
from billing.policy.snapshot import PaymentSnapshot, RefundSnapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# The house presets, and the latest version of each example policy.
RULES = {**PRESETS, **{slug: versions[-1][1] for slug, versions in EXAMPLE_POLICIES.items()}}
BASELINE = "orgix"
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.0"))


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"


def _long_history(scenario):
    """The same subscription with three years of monthly payments and a few refunds."""
    snapshot = scenario.snapshot
    payments = tuple(
        PaymentSnapshot(
            ref=f"h{i}",
            kind=PaymentKind.SUBSCRIPTION if i % 4 else PaymentKind.ADD_ON,
            amount=snapshot.price,
            paid_at=add_months(snapshot.period_start, -36 + i),
            tax=Decimal("0"),
        )
        for i in range(36)
    )
    refunds = (RefundSnapshot(Decimal("1"), "h3"), RefundSnapshot(Decimal("2")))
    history = replace(
        snapshot,
        subscribed_at=min(snapshot.subscribed_at, payments[0].paid_at),
        payments=payments + snapshot.payments,
        refunds=refunds,
    )
    return replace(scenario, snapshot=history)


def _rate(slug: str, scenario) -> float:
    rules = RULES[slug]
    label = f"{slug}@1"
    at = scenario.cancel_at
    snapshot = scenario.snapshot
    count = 0
    step = timedelta(minutes=1)
    started = time.perf_counter()
    deadline = started + SECONDS
    while True:
        for _ in range(200):
            quote_cancellation(rules=rules, policy_label=label, snapshot=snapshot, at=at + step)
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def run() -> None:
    print(f"quote_cancellation, {SECONDS:.1f}s per case, {_pin_to_one_core()}")
    rows = []
    for slug, name in EXAMPLES.items():
        scenario = parse_scenario(json.loads((SCENARIOS / name).read_text(encoding="utf-8")))
        rows.append((slug, "example", _rate(slug, scenario)))
        rows.append((slug, "36 payments", _rate(slug, _long_history(scenario))))
    baseline = {kind: rate for slug, kind, rate in rows if slug == BASELINE}
    print(f"{'policy':<26} {'snapshot':<12} {'quotes/s':>10}  vs {BASELINE}")
    for slug, kind, rate in rows:
        print(f"{slug:<26} {kind:<12} {rate:>10,.0f}  {rate / baseline[kind]:.2f}x")
