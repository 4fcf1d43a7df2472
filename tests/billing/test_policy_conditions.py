"""Conditions on rules: which variants apply, first match wins per rule field, and the
rules JSON refused field by field (pure: no database)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from billing.policy.conditions import matches, resolve
from billing.policy.presets import PRESETS
from billing.policy.rules import (
    Channel,
    Clause,
    Condition,
    Effective,
    Fallback,
    Initiator,
    Interval,
    PaymentMethod,
    Phase,
    PolicyRules,
    Region,
    TrialState,
    Variant,
)

from .policy_cases import D, pay, quote, snap, t

MINUTE = timedelta(minutes=1)
START = t(2022, 1, 31)
ORGIX = PRESETS["orgix"]


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        pytest.param(Condition(), {}, True, id="empty-condition-matches-everything"),
        pytest.param(Condition(channels=(Channel.WEB,)), {}, True, id="channel-web-default"),
        pytest.param(
            Condition(channels=(Channel.WEB,)),
            {"channel": Channel.APP_STORE},
            False,
            id="channel-app-store-is-not-web",
        ),
        pytest.param(
            Condition(payment_methods=(PaymentMethod.CARD, PaymentMethod.INVOICE)),
            {"payment_method": PaymentMethod.INVOICE},
            True,
            id="payment-method-any-of-list",
        ),
        pytest.param(
            Condition(payment_methods=(PaymentMethod.CARD,)),
            {"payment_method": PaymentMethod.DIRECT_DEBIT},
            False,
            id="payment-method-direct-debit-is-not-card",
        ),
        pytest.param(Condition(countries=("DE",)), {"country": "DE"}, True, id="country-listed"),
        pytest.param(Condition(countries=("DE",)), {"country": "AT"}, False, id="country-unlisted"),
        pytest.param(Condition(countries=("DE",)), {}, False, id="country-unknown-is-no-place"),
        pytest.param(Condition(regions=(Region.EU,)), {"country": "IE"}, True, id="region-eu-ie"),
        pytest.param(Condition(regions=(Region.EU,)), {"country": "GB"}, False, id="region-eu-gb"),
        pytest.param(Condition(regions=(Region.UK,)), {"country": "GB"}, True, id="region-uk-gb"),
        pytest.param(
            Condition(regions=(Region.EEA,)), {"country": "NO"}, True, id="region-eea-norway"
        ),
        pytest.param(
            Condition(countries=("CH",), regions=(Region.EU,)),
            {"country": "CH"},
            True,
            id="countries-and-regions-together-name-the-places",
        ),
        pytest.param(
            Condition(intervals=(Interval.YEAR,)), {}, False, id="interval-month-is-not-year"
        ),
        pytest.param(Condition(plans=("pro",)), {"plan_code": "pro"}, True, id="plan-code"),
        pytest.param(Condition(plans=("pro",)), {"plan_code": "team"}, False, id="plan-other"),
        pytest.param(
            Condition(committed=True),
            {"commitment_end": t(2023, 1, 31)},
            True,
            id="committed-term-beyond-the-period",
        ),
        pytest.param(
            Condition(committed=True),
            {"commitment_end": t(2022, 2, 28)},
            False,
            id="committed-term-ending-with-the-period-is-none-left",
        ),
        pytest.param(Condition(committed=False), {}, True, id="no-commitment"),
        pytest.param(Condition(past_due=True), {"status": "past_due"}, True, id="past-due"),
        pytest.param(Condition(past_due=True), {}, False, id="active-is-not-past-due"),
    ],
)
def test_condition_criterion_holds_or_not(condition, attributes, expected):
    snapshot = snap(start=START, **attributes)

    assert matches(condition, snapshot, START + timedelta(days=3)) is expected


@pytest.mark.parametrize(
    ("phase", "offset", "expected"),
    [
        # Monthly from 31 January: the first renewal is 28 February (clamped).
        pytest.param(Phase.FIRST_PERIOD, -MINUTE, True, id="first-period-last-minute"),
        pytest.param(Phase.FIRST_PERIOD, timedelta(0), False, id="first-period-over-at-renewal"),
        pytest.param(Phase.RENEWAL, -MINUTE, False, id="renewal-not-before-first-renewal"),
        pytest.param(Phase.RENEWAL, timedelta(0), True, id="renewal-from-first-renewal"),
        pytest.param(Phase.ANY, -MINUTE, True, id="any"),
    ],
)
def test_phase_first_period_ends_at_the_first_renewal(phase, offset, expected):
    snapshot = snap(start=START)

    assert matches(Condition(phase=phase), snapshot, t(2022, 2, 28) + offset) is expected


@pytest.mark.parametrize(
    ("phase", "offset", "expected"),
    [
        pytest.param(Phase.FIRST_YEAR, -MINUTE, True, id="first-year-last-minute"),
        pytest.param(Phase.FIRST_YEAR, timedelta(0), False, id="first-year-over-at-anniversary"),
        pytest.param(Phase.AFTER_FIRST_YEAR, timedelta(0), True, id="after-first-year"),
    ],
)
def test_phase_first_year_ends_at_the_anniversary(phase, offset, expected):
    snapshot = snap(start=START, interval=Interval.YEAR)

    assert matches(Condition(phase=phase), snapshot, t(2023, 1, 31) + offset) is expected


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        pytest.param(-MINUTE, TrialState.IN_TRIAL, id="last-trial-minute"),
        pytest.param(timedelta(0), TrialState.AFTER_TRIAL, id="trial-over-at-its-end"),
    ],
)
def test_trial_state_changes_at_the_trial_end(offset, expected):
    trial_end = t(2022, 2, 14)
    snapshot = snap(start=START, trial_end=trial_end)

    assert matches(Condition(trial=(expected,)), snapshot, trial_end + offset)
    assert not matches(Condition(trial=(TrialState.NO_TRIAL,)), snapshot, trial_end + offset)


@pytest.mark.parametrize(
    ("last_used_at", "expected"),
    [
        pytest.param(None, False, id="never-used"),
        pytest.param(t(2022, 3, 31), False, id="used-at-the-payment-minute-is-before-it"),
        pytest.param(t(2022, 3, 31) + MINUTE, True, id="used-a-minute-after-the-payment"),
        pytest.param(t(2022, 4, 20), False, id="activity-after-the-moment-is-not-known-yet"),
    ],
)
def test_used_since_payment_compares_activity_with_the_latest_payment(last_used_at, expected):
    snapshot = snap(
        start=START,
        period_start=t(2022, 3, 31),
        payments=(pay("100.00", START, "first"), pay("100.00", t(2022, 3, 31), "renewal")),
        last_used_at=last_used_at,
    )

    assert matches(Condition(used_since_payment=True), snapshot, t(2022, 4, 10)) is expected


@pytest.mark.parametrize(
    ("initiated_by", "expected"),
    [(Initiator.PROVIDER, True), (Initiator.CUSTOMER, False)],
)
def test_initiated_by_singles_out_provider_terminations(initiated_by, expected):
    condition = Condition(initiated_by=(Initiator.PROVIDER,))

    assert matches(condition, snap(), t(2022, 1, 10), initiated_by) is expected


def _variant(name: str, when: Condition, **rules) -> Variant:
    return Variant(name, when, rules, Clause(f"§{name}"))


def test_resolve_without_variants_returns_the_rules_themselves():
    rules, used = resolve(ORGIX, snap(), t(2022, 1, 10))

    assert rules is ORGIX
    assert used == ()


def test_resolve_first_matching_variant_wins_per_field_and_variants_compose():
    rules = replace(
        ORGIX,
        variants=(
            _variant("web", Condition(channels=(Channel.APP_STORE,)), fallback=Fallback.EXPIRED),
            _variant("eu", Condition(regions=(Region.EU,)), fallback=Fallback.DISABLED),
            _variant("eu-late", Condition(regions=(Region.EU,)), fallback=Fallback.FREE_PLAN),
            _variant("annual", Condition(), access_grace_days=15),
        ),
    )

    resolved, used = resolve(rules, snap(country="FR"), t(2022, 1, 10))

    assert resolved.fallback == Fallback.DISABLED
    assert resolved.access_grace_days == 15
    assert [v.name for v in used] == ["eu", "annual"]


def test_quote_names_the_variants_that_applied_with_their_clause():
    rules = replace(
        ORGIX,
        variants=(
            _variant(
                "EU withdrawal",
                Condition(regions=(Region.EU,)),
                cancellation_effective=Effective.IMMEDIATELY,
            ),
        ),
    )

    eu = quote(rules, snap(country="DE"), t(2022, 1, 10))
    us = quote(rules, snap(country="US"), t(2022, 1, 10))

    assert eu.variants == ("EU withdrawal",)
    assert ("Applies: EU withdrawal", "§EU withdrawal") in [(x.label, x.clause) for x in eu.lines]
    assert eu.ends_at == t(2022, 1, 10)
    assert us.variants == ()
    assert us.ends_at == t(2022, 2, 1)


def test_variant_rules_round_trip_through_json():
    rules = replace(
        ORGIX,
        variants=(_variant("eu", Condition(regions=(Region.EU,)), fallback=Fallback.DISABLED),),
    )

    assert PolicyRules.from_dict(rules.to_dict()) == rules


def _with(path: list, value) -> dict:
    data = ORGIX.to_dict()
    data["variants"] = [
        {
            "name": "v",
            "when": {"channels": ["web"]},
            "rules": {"fallback": "disabled"},
            "clause": {"ref": "§v", "reading": ""},
        }
    ]
    data["charges"] = [
        {"kind": "remaining_commitment", "percent": "50", "label": "fee", "clause": {"ref": "x"}}
    ]
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["proration", 0, "phase"], "firts_year", "proration.0.phase: 'firts_year' is not one"),
        (["refusals", 0, "code"], "chargeback", "refusals.0.code: 'chargeback' is not one of"),
        (["variants", 0, "when", "channels"], ["webb"], "variants.0.when.channels.0: 'webb'"),
        (["variants", 0, "when", "phase"], "renewals", "variants.0.when.phase: 'renewals' is not"),
        (["variants", 0, "when", "trial"], ["trial"], "variants.0.when.trial.0: 'trial' is not"),
        (["variants", 0, "when", "countries"], ["de"], "variants.0.when.countries: 'de' is not"),
        (["variants", 0, "when", "colour"], "red", "variants.0.when.colour: unknown field"),
        (["variants", 0, "rules", "fallback"], "gone", "variants.0.rules.fallback: 'gone' is not"),
        (["variants", 0, "rules", "name"], "X", "variants.0.rules.name: not a rule a variant"),
        (["variants", 0, "rules", "refunds"], [], "variants.0.rules.refunds: not a rule"),
        (["charges", 0, "kind"], "penalty", "charges.0.kind: 'penalty' is not one of"),
        (["charges", 0, "percent"], "150", "charges.0.percent: must be between 0 and 100"),
        (["retention", "counted_from"], "start", "retention.counted_from: 'start' is not one"),
        (["timing_choice"], "yes", "timing_choice: expected true or false"),
        (["access_grace_days"], "15", "access_grace_days: expected a whole number"),
        (["refund_destination"], "card", "refund_destination: 'card' is not one of"),
        (["cancellation_effective"], "later", "cancellation_effective: 'later' is not one of"),
        (["fallback"], None, "fallback: None is not one of"),
        (["refund"], 1, "refund: unknown field"),
    ],
)
def test_rules_json_refuses_a_bad_field_naming_it(path, value, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        PolicyRules.from_dict(_with(path, value))


def test_rules_json_refuses_paying_out_credit_without_cash_value():
    data = ORGIX.to_dict()
    data["credit"] = {
        "expires_after_days": None,
        "expires_with_paid_plan": False,
        "cash_value": False,
        "paid_out_at_closure": True,
        "clause": {"ref": "§c"},
    }

    with pytest.raises(ValueError, match=r"^credit\.paid_out_at_closure: credit without cash"):
        PolicyRules.from_dict(data)


def test_rules_json_refuses_a_window_without_any_limit():
    data = ORGIX.to_dict()
    data["refund_window"] = {
        "days": None,
        "counted_from": "purchase",
        "refundable_kinds": ["subscription"],
        "clause": {"ref": "§w"},
    }

    with pytest.raises(ValueError, match=r"^refund_window\.days: null"):
        PolicyRules.from_dict(data)


def test_house_presets_parse_to_themselves_with_every_new_field_at_its_default():
    for rules in PRESETS.values():
        assert PolicyRules.from_dict(rules.to_dict()) == rules
        assert rules.variants == () and rules.charges == () and rules.credit is None
        assert D(rules.access_grace_days) == 0 and rules.timing_choice is False
