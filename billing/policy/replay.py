"""Replay: what would another version of a policy have done to past cases?

Pure (no database, no clock): each case carries the snapshot its quote was computed from,
the moment, and what kind of quote it was. `replay_batch` quotes every case under both
versions and folds the outcomes into a `ReplayTally`, which batches merge into, so a job
can replay 100,000 cases per batch and report progress. Money is totalled per currency
(amounts in different currencies are never added).

Outcome of one case: `refunded` (back to the payment method), `credit` (customer credit),
`due` (still to pay: a late notice's period, an upgrade's charge), `refused` (the policy
refused a refund). A refund case counts only the payment it refunded.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing.money import round_money

from .engine import quote_cancellation, quote_plan_change
from .rules import Destination, PolicyRules
from .snapshot import SubscriptionSnapshot

ZERO = Decimal("0")
MONEY = ("refunded", "credit", "due")
TOP = 20


@dataclass(frozen=True)
class ReplayCase:
    ref: str  # "cancellation:12", "refund:40", "plan_change:7"
    kind: str  # "cancellation", "refund" or "plan_change"
    snapshot: SubscriptionSnapshot
    at: datetime
    payment_ref: str | None = None  # a refund case: the payment it refunded
    new_price: Decimal | None = None  # a plan-change case: the new plan's price


@dataclass(frozen=True)
class Outcome:
    refunded: Decimal = ZERO
    credit: Decimal = ZERO
    due: Decimal = ZERO
    refused: bool = False

    def as_json(self, currency: str) -> dict[str, Any]:
        money = {name: str(round_money(getattr(self, name), currency)) for name in MONEY}
        return {**money, "refused": self.refused}


@dataclass(frozen=True)
class Version:
    label: str
    rules: PolicyRules


def outcome(case: ReplayCase, version: Version) -> tuple[Outcome, Any]:
    """The outcome of `case` under `version`, with the quote it comes from."""
    if case.kind == "plan_change":
        quote = quote_plan_change(
            rules=version.rules,
            policy_label=version.label,
            snapshot=case.snapshot,
            new_price=case.new_price or ZERO,
            at=case.at,
        )
        return Outcome(credit=quote.refund, due=quote.charge_now), quote
    quote = quote_cancellation(
        rules=version.rules, policy_label=version.label, snapshot=case.snapshot, at=case.at
    )
    refund = quote.refund
    if case.kind == "refund":
        refund = sum(
            (p.amount for p in quote.payment_refunds if p.payment_ref == case.payment_ref), ZERO
        )
    to_credit = quote.destination == Destination.CUSTOMER_CREDIT
    return (
        Outcome(
            refunded=ZERO if to_credit else refund,
            credit=refund if to_credit else ZERO,
            due=quote.amount_due,
            refused=quote.refusal is not None,
        ),
        quote,
    )


@dataclass
class ReplayTally:
    """Running totals of a replay; `merge` folds another batch's tally in."""

    cases: int = 0
    changed: int = 0
    errors: int = 0
    refusals: dict[str, int] = field(default_factory=lambda: {"baseline": 0, "candidate": 0})
    totals: dict[str, dict[str, dict[str, Decimal]]] = field(default_factory=dict)
    top: list[tuple[Decimal, str, dict[str, Any]]] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def add(self, case: ReplayCase, baseline: Outcome, candidate: Outcome) -> None:
        self.cases += 1
        currency = case.snapshot.currency
        per = self.totals.setdefault(
            currency, {side: dict.fromkeys(MONEY, ZERO) for side in ("baseline", "candidate")}
        )
        for side, result in (("baseline", baseline), ("candidate", candidate)):
            for name in MONEY:
                per[side][name] += getattr(result, name)
            self.refusals[side] += result.refused
        if baseline == candidate:
            return
        self.changed += 1
        weight = sum(abs(getattr(candidate, n) - getattr(baseline, n)) for n in MONEY)
        entry = {
            "ref": case.ref,
            "kind": case.kind,
            "at": case.at.isoformat(),
            "currency": currency,
            "baseline": baseline.as_json(currency),
            "candidate": candidate.as_json(currency),
        }
        item = (weight + (1 if baseline.refused != candidate.refused else 0), case.ref, entry)
        if len(self.top) < TOP:
            heapq.heappush(self.top, item)
        else:
            heapq.heappushpop(self.top, item)

    def add_error(self, case: ReplayCase, error: Exception) -> None:
        self.cases += 1
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{case.ref}: {error}")

    def merge(self, other: ReplayTally) -> None:
        self.cases += other.cases
        self.changed += other.changed
        self.errors += other.errors
        for side in self.refusals:
            self.refusals[side] += other.refusals[side]
        for currency, sides in other.totals.items():
            mine = self.totals.setdefault(
                currency, {side: dict.fromkeys(MONEY, ZERO) for side in sides}
            )
            for side, values in sides.items():
                for name, amount in values.items():
                    mine[side][name] += amount
        for item in other.top:
            if len(self.top) < TOP:
                heapq.heappush(self.top, item)
            else:
                heapq.heappushpop(self.top, item)
        self.error_samples = (self.error_samples + other.error_samples)[:5]

    def summary(self, *, baseline: str, candidate: str) -> dict[str, Any]:
        """JSON for the replay row, the page and the command."""
        totals = {}
        for currency, sides in sorted(self.totals.items()):
            difference = {n: sides["candidate"][n] - sides["baseline"][n] for n in MONEY}
            totals[currency] = {
                side: {n: str(round_money(v, currency)) for n, v in values.items()}
                for side, values in (*sides.items(), ("difference", difference))
            }
        return {
            "baseline": baseline,
            "candidate": candidate,
            "cases": self.cases,
            "changed": self.changed,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "refusals": {
                **self.refusals,
                "difference": self.refusals["candidate"] - self.refusals["baseline"],
            },
            "totals": totals,
            "most_changed": [entry for _, _, entry in sorted(self.top, reverse=True)],
        }


def replay_batch(cases: list[ReplayCase], baseline: Version, candidate: Version) -> ReplayTally:
    tally = ReplayTally()
    for case in cases:
        try:
            before, _ = outcome(case, baseline)
            after, _ = outcome(case, candidate)
        except (ValueError, ArithmeticError, KeyError) as error:
            tally.add_error(case, error)
            continue
        tally.add(case, before, after)
    return tally


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as text (the command's output)."""
    lines = [
        f"Replayed {summary['cases']} cases: {summary['candidate']} against "
        f"{summary['baseline']} (in force)",
        f"Cases that change: {summary['changed']}; cases that could not be quoted: "
        f"{summary['errors']}",
    ]
    for currency, sides in summary["totals"].items():
        for side, title in (
            ("baseline", f"in force ({summary['baseline']})"),
            ("candidate", f"under {summary['candidate']}"),
            ("difference", "difference"),
        ):
            values = sides[side]
            lines.append(
                f"{currency} {title}: refunded {values['refunded']}, credit {values['credit']}, "
                f"still due {values['due']}"
            )
    refusals = summary["refusals"]
    lines.append(
        f"Refusals: in force {refusals['baseline']}, under {summary['candidate']} "
        f"{refusals['candidate']}, difference {refusals['difference']:+d}"
    )
    return lines
