"""The diff between two policy versions, in words, for each kind of rule field; the
generic codec and validation it sits on."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from billing.policy.codec import CodecError, from_json, to_json
from billing.policy.diff import rules_diff
from billing.policy.presets import CONNEX, ORGIX, SYNC_WITH_CONNEX
from billing.policy.rules import (
    Clause,
    Destination,
    Fallback,
    NoticeRule,
    PaymentKind,
    PolicyRules,
    Refusal,
    WindowFrom,
)
from billing.policy.snapshot import PaymentSnapshot, SubscriptionSnapshot
from billing.policy.validation import RulesInvalid, parse_rules, rules_problems

replace = dataclasses.replace


@pytest.mark.parametrize(
    ("new", "line"),
    [
        pytest.param(
            replace(CONNEX, refund_window=replace(CONNEX.refund_window, days=14)),
            "refund window: 30 → 14 days from first payment",
            id="window-days",
        ),
        pytest.param(
            replace(
                CONNEX,
                refund_window=replace(CONNEX.refund_window, counted_from=WindowFrom.SIGNUP),
            ),
            "refund window counted from: first payment → signup",
            id="enum",
        ),
        pytest.param(
            replace(CONNEX, destination_choice_allowed=False),
            "agent may choose customer credit instead: yes → no",
            id="bool",
        ),
        pytest.param(
            replace(CONNEX, refund_destination=Destination.CUSTOMER_CREDIT),
            "refunds go to: the original payment method → customer credit",
            id="destination",
        ),
        pytest.param(
            replace(CONNEX, fallback=Fallback.FREE_PLAN),
            "after the end the workspace is: disabled → free plan",
            id="fallback",
        ),
        pytest.param(
            replace(
                CONNEX,
                never_refunded_kinds=(*CONNEX.never_refunded_kinds, PaymentKind.ADD_ON),
            ),
            "never refunded: adds add on",
            id="kinds-added",
        ),
        pytest.param(
            replace(CONNEX, retention=replace(CONNEX.retention, after_end_days=None)),
            "data kept after the end for: 90 days → none",
            id="optional-number",
        ),
        pytest.param(
            replace(CONNEX, cancellation_notice=NoticeRule(7, Clause("§7 days"))),
            "cancellation notice added: days 7, clause “§7 days”",
            id="optional-rule-added",
        ),
        pytest.param(
            replace(CONNEX, trial=None),
            "trial rule removed: monthly refund no",
            id="optional-rule-removed",
        ),
        pytest.param(
            replace(
                CONNEX,
                service_deductions=(
                    CONNEX.service_deductions[0],
                    replace(CONNEX.service_deductions[1], amount=Decimal("500.00")),
                    *CONNEX.service_deductions[2:],
                ),
            ),
            "service deduction for onboarding, deduction: 750.00 → 500.00",
            id="list-item-by-key",
        ),
        pytest.param(
            replace(CONNEX, service_deductions=CONNEX.service_deductions[:2]),
            "service deduction for follow up call removed",
            id="list-item-removed",
        ),
        pytest.param(
            replace(
                SYNC_WITH_CONNEX,
                proration=(
                    replace(SYNC_WITH_CONNEX.proration[0], fixed_deduction=Decimal("299.00")),
                    *SYNC_WITH_CONNEX.proration[1:],
                ),
            ),
            "proration rule 1, fixed deduction: 399.00 → 299.00",
            id="ordered-list-by-position",
        ),
        pytest.param(
            replace(CONNEX, dunning=replace(CONNEX.dunning, retry_after_days=(1, 3))),
            "failed payment retried on days: no longer 5, 7",
            id="number-list",
        ),
        pytest.param(
            replace(CONNEX, refusals=(*CONNEX.refusals, Refusal("x", "No.", Clause("§9")))),
            "refusal for x added: code x, message No., clause “§9”",
            id="refusal-added",
        ),
        pytest.param(
            replace(
                CONNEX,
                refund_window=replace(
                    CONNEX.refund_window, clause=Clause(CONNEX.refund_window.clause.ref, "New.")
                ),
            ),
            "refund window reading: “",
            id="reading",
        ),
        pytest.param(
            replace(CONNEX, clauses={**CONNEX.clauses, "fallback": Clause("§Terms 2")}),
            "clause on fallback: “connex §Terms: termination results in "
            "deactivation of your account” → “§Terms 2”",
            id="general-clause",
        ),
    ],
)
def test_each_kind_of_change_reads_in_words(new, line):
    changes = rules_diff(CONNEX if new.name == CONNEX.name else SYNC_WITH_CONNEX, new)

    assert any(change.startswith(line) for change in changes), changes


def test_a_version_compared_with_itself_has_no_changes():
    assert rules_diff(ORGIX, ORGIX) == []


def test_the_same_kinds_in_another_order_are_no_change():
    reordered = replace(CONNEX, never_refunded_kinds=CONNEX.never_refunded_kinds[::-1])

    assert rules_diff(CONNEX, reordered) == []


def test_a_field_added_to_the_rules_shows_in_the_diff_by_its_name():
    @dataclasses.dataclass(frozen=True)
    class WiderRules(PolicyRules):
        access_grace_days: int = 0

    old = WiderRules(**{f.name: getattr(CONNEX, f.name) for f in dataclasses.fields(CONNEX)})

    assert rules_diff(old, replace(old, access_grace_days=3)) == ["access grace days: 0 → 3 days"]


def test_the_snapshot_round_trips_through_json():
    snapshot = SubscriptionSnapshot(
        currency="EUR",
        interval="month",
        price=Decimal("10.00"),
        subscribed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        trial_end=None,
        period_start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        period_end=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        payments=(
            PaymentSnapshot(
                "7",
                PaymentKind.SUBSCRIPTION,
                Decimal("10.00"),
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            ),
        ),
    )

    assert from_json(SubscriptionSnapshot, to_json(snapshot)) == snapshot


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"refund_window": {"days": "30"}}, "refund_window.days", id="type"),
        pytest.param({"proration": [{"mode": "hourly"}]}, "proration.0.mode", id="enum-in-list"),
        pytest.param({"surprise": 1}, "surprise", id="unknown"),
    ],
)
def test_bad_rules_json_names_the_field(data, field):
    with pytest.raises(RulesInvalid) as raised:
        parse_rules({**CONNEX.to_dict(), **_merge(CONNEX.to_dict(), data)})

    assert raised.value.problems[0].field == field


def _merge(base, changes):
    out = {}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        elif isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = [{**base[key][i], **item} for i, item in enumerate(value)]
        else:
            out[key] = value
    return out


def test_codec_errors_carry_the_path():
    with pytest.raises(CodecError) as raised:
        from_json(SubscriptionSnapshot, {"currency": "USD"}, "snapshot")

    assert raised.value.field == "snapshot.interval"


def test_the_presets_are_valid():
    for rules in (CONNEX, ORGIX, SYNC_WITH_CONNEX):
        assert rules_problems(rules) == []


def test_a_schedule_must_end_with_nothing_refunded():
    schedule = (
        replace(CONNEX.service_deductions[0], amount=None),
        CONNEX.service_deductions[1],
    )

    problems = rules_problems(replace(CONNEX, service_deductions=schedule))

    assert [p.field for p in problems] == ["service_deductions.0.amount"]


def test_suspension_after_expiry_is_named():
    rules = replace(CONNEX, dunning=replace(CONNEX.dunning, suspend_after_days=60))

    assert [p.field for p in rules_problems(rules)] == ["dunning.suspend_after_days"]
