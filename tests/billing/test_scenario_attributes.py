"""Scenario keys that conditions and charges read: parsed into the snapshot, and bad
values refused with the field named (pure)."""

import json
from pathlib import Path

import pytest

from billing.policy.rules import Channel, Effective, Initiator, PaymentMethod
from billing.policy.scenarios import ScenarioError, parse_scenario, scenario_from_snapshot

from .policy_cases import D, t

BASE = json.loads(
    (
        Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "example-adobe.json"
    ).read_text()
)


def test_attributes_reach_the_snapshot_and_the_quote_options():
    scenario = parse_scenario(
        {
            **BASE,
            "channel": "reseller",
            "payment_method": "direct_debit",
            "country": "de",
            "status": "past_due",
            "last_used_at": "2022-04-02T10:00:00Z",
            "unbilled_usage": "3.50",
            "credit_balance": "7.00",
            "timing": "period_end",
            "initiated_by": "provider",
        }
    )
    snapshot = scenario.snapshot

    assert (snapshot.channel, snapshot.payment_method) == (
        Channel.RESELLER,
        PaymentMethod.DIRECT_DEBIT,
    )
    assert (snapshot.country, snapshot.status, snapshot.plan_code) == (
        "DE",
        "past_due",
        "all-apps-annual-paid-monthly",
    )
    assert snapshot.commitment_end == t(2023, 1, 1)
    assert snapshot.last_used_at == t(2022, 4, 2, 10)
    assert (snapshot.unbilled_usage, snapshot.credit_balance) == (D("3.50"), D("7.00"))
    assert (scenario.timing, scenario.initiated_by) == (Effective.PERIOD_END, Initiator.PROVIDER)


def test_scenario_from_a_snapshot_parses_back_to_the_same_snapshot():
    scenario = parse_scenario(
        {
            **BASE,
            "country": "FR",
            "channel": "sales",
            "seat_price": "6.00",
            "seats": [
                {"ref": "a", "added_at": "2022-01-01T00:00:00Z"},
                {
                    "ref": "b",
                    "added_at": "2022-01-01T00:00:00Z",
                    "removed_at": "2022-02-01T00:00:00Z",
                    "last_active_at": "2022-01-20T00:00:00Z",
                },
            ],
            "changes": [{"change": "pause", "at": "2021-06-01T00:00:00Z"}],
        }
    )
    assert len(scenario.snapshot.seats) == 2 and scenario.snapshot.changes

    again = parse_scenario(
        scenario_from_snapshot("example-adobe@1", scenario.snapshot, scenario.cancel_at)
    )

    assert again.snapshot == scenario.snapshot


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("channel", "shop", "channel"),
        ("payment_method", "cash", "payment_method"),
        ("country", "Germany", "country"),
        ("country", 49, "country"),
        ("status", "cancelled", "status"),
        ("commitment_end", "2021-12-31T00:00:00Z", "commitment_end"),
        ("commitment_end", "next year", "commitment_end"),
        ("last_used_at", "yesterday", "last_used_at"),
        ("unbilled_usage", "-1", "unbilled_usage"),
        ("credit_balance", "1.234", "credit_balance"),
        ("timing", "later", "timing"),
        ("initiated_by", "court", "initiated_by"),
        ("seat_price", "-5", "seat_price"),
        ("seats", [{"removed_at": "2022-01-05T00:00:00Z"}], "seats[0].added_at"),
        ("seats", [{"added_at": "2022-01-05T00:00:00Z", "left": True}], "seats[0].left"),
        (
            "seats",
            [{"added_at": "2022-01-05T00:00:00Z", "removed_at": "2022-01-04T00:00:00Z"}],
            "seats[0].removed_at",
        ),
        ("changes", [{"change": "upgrade", "at": "2022-01-05T00:00:00Z"}], "changes[0].change"),
        ("changes", [{"change": "pause"}], "changes[0].at"),
    ],
)
def test_bad_attribute_is_refused_naming_the_field(key, value, field):
    with pytest.raises(ScenarioError) as error:
        parse_scenario({**BASE, key: value})

    assert error.value.field == field


def test_bad_plan_code_is_refused_naming_the_field():
    with pytest.raises(ScenarioError) as error:
        parse_scenario({**BASE, "plan": {**BASE["plan"], "code": 7}})

    assert error.value.field == "plan.code"
