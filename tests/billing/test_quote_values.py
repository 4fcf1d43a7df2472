"""The engine's fast paths give the same quotes: results built without their frozen
`__init__` (`quotes.built`) are the values their constructors would build, and what is
worked out once per snapshot (seat credit and charges to the period end, per seat-day,
the no-cash-value line) gives every moment the quote a fresh snapshot gives (pure)."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, fields, is_dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from billing.policy.engine import quote_cancellation
from billing.policy.examples import EXAMPLE_POLICIES
from billing.policy.presets import PRESETS
from billing.policy.rules import Effective
from billing.policy.scenarios import EXAMPLES, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
RULES = {**PRESETS, **{slug: versions[-1][1] for slug, versions in EXAMPLE_POLICIES.items()}}


def scenario(slug: str):
    return parse_scenario(json.loads((SCENARIOS / EXAMPLES[slug]).read_text(encoding="utf-8")))


def results(quote):
    """The quote and every result object it holds, its alternative's included."""
    yield quote
    yield quote.terms
    yield from quote.lines
    yield from quote.payment_refunds
    yield from quote.due_lines
    if quote.alternative is not None:
        yield from results(quote.alternative)


@pytest.mark.parametrize("slug", sorted(EXAMPLES))
def test_engine_results_equal_what_their_constructors_build(slug):
    case = scenario(slug)
    quote = quote_cancellation(
        rules=RULES[slug], policy_label=f"{slug}@1", snapshot=case.snapshot, at=case.cancel_at
    )
    for made in results(quote):
        assert is_dataclass(made)
        assert set(vars(made)) == {f.name for f in fields(made)}
        rebuilt = replace(made)  # through the dataclass's own __init__
        assert rebuilt == made and hash(rebuilt) == hash(made) and repr(rebuilt) == repr(made)
        with pytest.raises(FrozenInstanceError):
            made.currency = "EUR"


@pytest.mark.parametrize("slug", ["example-slack", "example-microsoft-365"])
def test_a_snapshot_quoted_at_many_moments_gives_each_the_fresh_snapshots_quote(slug):
    # Given one snapshot quoted over two months (its per-snapshot memos warm) ...
    case = scenario(slug)
    moments = [case.cancel_at + timedelta(hours=7 * i, minutes=i) for i in range(-120, 200)]
    warm = case.snapshot
    for timing in (None, Effective.PERIOD_END):
        for at in moments:
            if at < warm.subscribed_at:
                continue
            quoted = quote_cancellation(
                rules=RULES[slug], policy_label="p", snapshot=warm, at=at, timing=timing
            )
            # ... each quote and its alternative equal those of a snapshot never quoted.
            fresh = quote_cancellation(
                rules=RULES[slug], policy_label="p", snapshot=replace(warm), at=at, timing=timing
            )
            assert quoted.to_dict() == fresh.to_dict()
            assert quoted == fresh
