"""Which variants of a policy apply to a subscription at a moment, and what the rules
become.

Pure. A `Condition` holds when every criterion it gives holds; `resolve` applies the
policy's variants in order, the first matching variant that sets a rule field deciding
that field, and returns the variants it used so the quote can name them. A policy without
variants costs nothing here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .calendars import add_months, interval_months
from .rules import Condition, Initiator, Phase, PolicyRules, Region, TrialState, Variant
from .snapshot import SubscriptionSnapshot

EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
REGION_COUNTRIES: dict[Region, frozenset[str]] = {
    Region.EU: EU,
    Region.EEA: EU | {"IS", "LI", "NO"},
    Region.UK: frozenset({"GB"}),
}


def trial_state(snapshot: SubscriptionSnapshot, at: datetime) -> TrialState:
    if snapshot.trial_end is None:
        return TrialState.NO_TRIAL
    return TrialState.IN_TRIAL if at < snapshot.trial_end else TrialState.AFTER_TRIAL


def paid_start(snapshot: SubscriptionSnapshot) -> datetime:
    """The first paid moment: the trial end if there was a trial, else the signup."""
    if snapshot.trial_end is not None:
        return max(snapshot.trial_end, snapshot.subscribed_at)
    return snapshot.subscribed_at


def first_renewal(snapshot: SubscriptionSnapshot) -> datetime:
    """The end of the first paid billing period."""
    return add_months(paid_start(snapshot), interval_months(snapshot.interval))


def phase_holds(phase: Phase, snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    if phase == Phase.ANY:
        return True
    if phase in (Phase.FIRST_YEAR, Phase.AFTER_FIRST_YEAR):
        first_year = at < add_months(snapshot.subscribed_at, 12)
        return first_year == (phase == Phase.FIRST_YEAR)
    first_period = at < first_renewal(snapshot)
    return first_period == (phase == Phase.FIRST_PERIOD)


def used_since_payment(snapshot: SubscriptionSnapshot, at: datetime) -> bool:
    """Any activity after the latest payment made by `at` (any activity at all if none)."""
    used = snapshot.last_used_at
    if used is None or used > at:
        return False
    latest = snapshot.index.latest_paid_at(at)
    return latest is None or used > latest


def in_place(condition: Condition, country: str) -> bool:
    if not condition.countries and not condition.regions:
        return True
    return country in condition.countries or any(
        country in REGION_COUNTRIES[region] for region in condition.regions
    )


def purchased_on(snapshot: SubscriptionSnapshot, time_zone: str) -> date:
    """The day of the purchase (the subscription's start) in the policy's time zone."""
    return snapshot.subscribed_at.astimezone(ZoneInfo(time_zone)).date()


def purchase_date_holds(condition: Condition, snapshot: SubscriptionSnapshot, time_zone: str):
    if condition.purchased_from is None and condition.purchased_before is None:
        return True
    day = purchased_on(snapshot, time_zone)
    return (condition.purchased_from is None or day >= condition.purchased_from) and (
        condition.purchased_before is None or day < condition.purchased_before
    )


def purchase_terms_hold(c: Condition, subject, time_zone: str) -> bool:
    """The criteria fixed at purchase (channel, payment method, place, interval, plan,
    purchase date), read from anything with those attributes: the snapshot here, the
    stored columns the purge reads (`retention_terms.RetentionSubject`)."""
    return (
        (not c.channels or subject.channel in c.channels)
        and (not c.payment_methods or subject.payment_method in c.payment_methods)
        and in_place(c, subject.country)
        and (not c.intervals or subject.interval in c.intervals)
        and (not c.plans or subject.plan_code in c.plans)
        and purchase_date_holds(c, subject, time_zone)
    )


def matches(
    condition: Condition,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    initiated_by: Initiator = Initiator.CUSTOMER,
    time_zone: str = "UTC",
) -> bool:
    c = condition
    committed = snapshot.commitment_end is not None and snapshot.commitment_end > max(
        snapshot.period_end, at
    )
    return (
        purchase_terms_hold(c, snapshot, time_zone)
        and (c.committed is None or c.committed == committed)
        and (not c.trial or trial_state(snapshot, at) in c.trial)
        and (not c.initiated_by or initiated_by in c.initiated_by)
        and (c.past_due is None or c.past_due == (snapshot.status == "past_due"))
        and phase_holds(c.phase, snapshot, at)
        and (
            c.used_since_payment is None or c.used_since_payment == used_since_payment(snapshot, at)
        )
    )


def resolve(
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    initiated_by: Initiator = Initiator.CUSTOMER,
) -> tuple[PolicyRules, tuple[Variant, ...]]:
    """The rules in force for this subscription at `at`, and the variants that shaped them."""
    if not rules.variants:
        return rules, ()
    held = tuple(
        i
        for i, variant in enumerate(rules.variants)
        if matches(variant.when, snapshot, at, initiated_by, rules.time_zone)
    )
    # The same variants give the same rules: built once per snapshot, rules and set held
    # (replacing a field of the rules costs more than the rest of a simple quote).
    memo = snapshot.index.by_rule
    key = ("variants", id(rules), held)
    entry = memo.get(key)
    if entry is None or entry[0] is not rules:
        entry = (rules, *_apply(rules, held))
        memo[key] = entry
    return entry[1], entry[2]


def _apply(rules: PolicyRules, held: tuple[int, ...]) -> tuple[PolicyRules, tuple[Variant, ...]]:
    chosen: dict = {}
    used: list[Variant] = []
    for i in held:
        variant = rules.variants[i]
        fresh = {key: value for key, value in variant.rules.items() if key not in chosen}
        if fresh:
            chosen.update(fresh)
            used.append(variant)
    return (replace(rules, **chosen) if chosen else rules), tuple(used)
