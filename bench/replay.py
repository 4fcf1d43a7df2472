"""Replay of past cases: 100,000 cases (the example scenario of every preset, moved in
time so no two are alike) replayed under a draft (the preset with a 1-day window) and the
version in force, in batches of 2,000 as the Celery task does. Printed side by side in one
run: the replay rate, the rate of a single quote over the same cases, and their ratio (a
replay quotes each case twice, so about 0.5x is the ideal)."""

import dataclasses
import json
import os
import time
from datetime import timedelta
from pathlib import Path

from billing.policy.engine import quote_cancellation
from billing.policy.presets import PRESETS
from billing.policy.replay import ReplayCase, ReplayTally, Version, replay_batch
from billing.policy.scenarios import EXAMPLES, parse_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CASES = int(os.environ.get("BENCH_REPLAY_CASES", "100000"))
BATCH = 2000


def _cases(slug: str, count: int) -> list[ReplayCase]:
    scenario = parse_scenario(json.loads((SCENARIOS / EXAMPLES[slug]).read_text(encoding="utf-8")))
    return [
        ReplayCase(
            ref=f"cancellation:{i}",
            kind="cancellation",
            snapshot=scenario.snapshot,
            at=scenario.cancel_at + timedelta(minutes=i % 20_000),
        )
        for i in range(count)
    ]


def _shorter_window(slug: str):
    rules = PRESETS[slug]
    if rules.refund_window is None:
        return dataclasses.replace(rules, case_by_case_review=not rules.case_by_case_review)
    return dataclasses.replace(
        rules, refund_window=dataclasses.replace(rules.refund_window, days=1)
    )


def run() -> None:
    per_slug = CASES // len(EXAMPLES)
    print(f"replay of {per_slug * len(EXAMPLES):,} cases in batches of {BATCH:,}")
    print(
        f"{'policy':<18} {'cases':>8} {'replay s':>9} {'cases/s':>9} {'quotes/s':>9} {'ratio':>6}"
    )
    total_cases, total_seconds = 0, 0.0
    for slug in EXAMPLES:
        cases = _cases(slug, per_slug)
        in_force = Version(f"{slug}@1", PRESETS[slug])
        draft = Version(f"{slug}@2", _shorter_window(slug))
        started = time.perf_counter()
        tally = ReplayTally()
        for index in range(0, len(cases), BATCH):
            tally.merge(replay_batch(cases[index : index + BATCH], in_force, draft))
        replay_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for case in cases:
            quote_cancellation(
                rules=in_force.rules,
                policy_label=in_force.label,
                snapshot=case.snapshot,
                at=case.at,
            )
        quote_seconds = time.perf_counter() - started
        replay_rate = len(cases) / replay_seconds
        quote_rate = len(cases) / quote_seconds
        total_cases += len(cases)
        total_seconds += replay_seconds
        print(
            f"{slug:<18} {len(cases):>8,} {replay_seconds:>9.2f} {replay_rate:>9,.0f} "
            f"{quote_rate:>9,.0f} {replay_rate / quote_rate:>5.2f}x"
            f"  (changed {tally.changed:,}, errors {tally.errors})"
        )
    print(f"all: {total_cases:,} cases replayed in {total_seconds:.1f}s of engine time")
