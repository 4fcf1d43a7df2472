"""Which retention rule of a policy applies to a workspace, decided from stored rows.

Pure. A quote resolves every variant against the full subscription snapshot, but the
retention rule is applied long after the quote, by the daily purge and the activity
write, in batches, from the workspace's and its latest subscription's columns. So a
variant that sets `retention` may only be conditioned on what those columns decide
(`RETENTION_CRITERIA`; `validation` refuses the others, naming the field): where it was
bought and how it is paid, the place, interval, plan, purchase date, and whether the
cancellation came inside the trial. Under those criteria the quote and the purge pick
the same rule.

The trial criterion is read at the cancellation request (or the end, without one): a
subscription still running has not decided it, so such a variant does not hold for it
yet and its workspace follows the policy's own rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .conditions import purchase_terms_hold
from .rules import Condition, PolicyRules, RetentionRule, TrialState

# The `Condition` fields a retention variant may use; every other one must stay unset.
RETENTION_CRITERIA = frozenset(
    {
        "channels",
        "payment_methods",
        "countries",
        "regions",
        "intervals",
        "plans",
        "trial",
        "purchased_from",
        "purchased_before",
    }
)


@dataclass(frozen=True)
class RetentionSubject:
    """The columns of a workspace's latest subscription that retention variants read."""

    channel: str
    payment_method: str
    country: str
    interval: str
    plan_code: str
    subscribed_at: datetime
    trial_end: datetime | None
    decided_at: datetime | None  # the cancellation request, or the end; None while running


@dataclass(frozen=True)
class RetentionTerms:
    """A policy's retention rule and the variants that replace it, in the policy's order."""

    rule: RetentionRule
    variants: tuple[tuple[Condition, RetentionRule], ...] = ()
    time_zone: str = "UTC"

    def rule_for(self, subject: RetentionSubject | None) -> RetentionRule:
        """The first variant that holds for `subject` decides; none (or no subject, for a
        workspace that never subscribed): the policy's own rule."""
        if subject is not None:
            for condition, rule in self.variants:
                if _holds(condition, subject, self.time_zone):
                    return rule
        return self.rule


def retention_terms(rules: PolicyRules) -> RetentionTerms:
    return RetentionTerms(
        rules.retention,
        tuple(
            (variant.when, variant.rules["retention"])
            for variant in rules.variants
            if "retention" in variant.rules
        ),
        rules.time_zone,
    )


def _trial_state(subject: RetentionSubject) -> TrialState | None:
    if subject.trial_end is None:
        return TrialState.NO_TRIAL
    if subject.decided_at is None:
        return None
    return TrialState.IN_TRIAL if subject.decided_at < subject.trial_end else TrialState.AFTER_TRIAL


def _holds(c: Condition, subject: RetentionSubject, time_zone: str) -> bool:
    return purchase_terms_hold(c, subject, time_zone) and (
        not c.trial or _trial_state(subject) in c.trial
    )
