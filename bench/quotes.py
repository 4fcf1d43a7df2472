"""Quotes per second on one core, per preset, for the shipped example scenario of each and
for a long-lived subscription (36 payments, services, refunds).

Cases are interleaved: the run is split into rounds and every round gives each case the
same short slice, in a rotating order, so a neighbour's load on a shared core hits every
preset alike instead of whichever happened to run at the time. Time is this process's CPU
time (`time.process_time`), so quotes/s is per core even while other jobs share it. Each
batch quotes a different minute of the period. Ratios compare each preset
with the simplest (orgix: no window, no proration) measured in the same run; the goal
(issue #12) is at least 20,000 quotes/s for every preset with 36 payments. Every preset
is measured: the house four and the latest version of each of the seven examples. Where a
policy gives the customer a choice of timing, the alternative quote is worked out when
read; "36 + choice" reads it too, to show what a reader of both pays.
"""

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
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.0"))  # per case, over all rounds
ROUNDS = 20
GOAL = 20_000  # quotes/s with 36 payments, every preset
BATCH = 50


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


ALTERNATIVE = "36 + choice"  # the alternative of a timing choice read as well


def _cases():
    cases = []
    for slug, name in EXAMPLES.items():
        scenario = parse_scenario(json.loads((SCENARIOS / name).read_text(encoding="utf-8")))
        cases.append((slug, "example", scenario))
        cases.append((slug, "36 payments", _long_history(scenario)))
        if RULES[slug].timing_choice:
            cases.append((slug, ALTERNATIVE, _long_history(scenario)))
    return cases


def _slice(slug: str, kind: str, scenario, seconds: float) -> tuple[int, float]:
    """Quote for about `seconds`; (quotes, elapsed)."""
    rules = RULES[slug]
    label = f"{slug}@1"
    moments = [scenario.cancel_at + timedelta(minutes=i) for i in range(BATCH)]
    snapshot = scenario.snapshot
    read_alternative = kind == ALTERNATIVE
    count = 0
    started = time.process_time()
    deadline = started + seconds
    while True:
        for at in moments:
            quote = quote_cancellation(rules=rules, policy_label=label, snapshot=snapshot, at=at)
            if read_alternative:
                quote.alternative  # noqa: B018 (worked out when read: the cost measured)
        count += BATCH
        now = time.process_time()
        if now >= deadline:
            return count, now - started


def run() -> None:
    print(
        f"quote_cancellation, {SECONDS:.1f}s per case in {ROUNDS} interleaved rounds, "
        f"{_pin_to_one_core()}"
    )
    cases = _cases()
    totals = {(slug, kind): [0, 0.0] for slug, kind, _ in cases}
    for round_ in range(ROUNDS):
        shift = round_ % len(cases)
        for slug, kind, scenario in cases[shift:] + cases[:shift]:
            count, elapsed = _slice(slug, kind, scenario, SECONDS / ROUNDS)
            totals[slug, kind][0] += count
            totals[slug, kind][1] += elapsed
    rates = {key: count / elapsed for key, (count, elapsed) in totals.items()}
    print(f"{'policy':<26} {'snapshot':<12} {'quotes/s':>10}  vs {BASELINE}")
    for (slug, kind), rate in rates.items():
        goal = f"  goal {GOAL:,}: {'met' if rate >= GOAL else 'NOT met'}"
        baseline = rates[BASELINE, "36 payments" if kind == ALTERNATIVE else kind]
        print(
            f"{slug:<26} {kind:<12} {rate:>10,.0f}  {rate / baseline:.2f}x"
            + (goal if kind == "36 payments" else "")
        )
