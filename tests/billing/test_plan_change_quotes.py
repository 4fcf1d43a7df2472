"""Plan-change quotes as lines (credit for the old plan, charge for the new), checked
against the examples Stripe, Kill Bill and Chargebee publish, and the four presets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.policy.engine import quote_plan_change
from billing.policy.presets import CONNEX, ORGIX, PRORATED_CREDIT, SYNC_WITH_CONNEX
from billing.policy.rules import Effective, Interval, PaymentKind, PolicyRules, Proration
from billing.policy.snapshot import PaymentSnapshot, SubscriptionSnapshot

D = Decimal


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def monthly(price: str, start: datetime, end: datetime, **kw) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        currency="USD",
        interval=kw.pop("interval", Interval.MONTH),
        price=D(price),
        subscribed_at=start,
        trial_end=None,
        period_start=start,
        period_end=end,
        payments=(PaymentSnapshot("sub", PaymentKind.SUBSCRIPTION, D(price), start),),
        **kw,
    )


def change(rules: PolicyRules, snapshot, price: str, at: datetime, **kw):
    return quote_plan_change(
        rules=rules, policy_label="test@1", snapshot=snapshot, new_price=D(price), at=at, **kw
    )


def with_changes(rules: PolicyRules, **changes) -> PolicyRules:
    return replace(rules, changes=replace(rules.changes, **changes))


def test_stripe_upgrade_10_to_20_halfway_through_a_month_charges_5():
    """Stripe's prorations docs: $10 → $20 halfway through the month nets +$5.00."""
    rules = with_changes(PRORATED_CREDIT, upgrade_proration=Proration.BY_MINUTE)
    april = monthly("10.00", t(2024, 4, 1), t(2024, 5, 1))

    q = change(rules, april, "20.00", t(2024, 4, 16))

    assert [line.amount for line in q.lines] == [D("-5.00"), D("10.00")]
    assert (q.net, q.charge_now, q.refund) == (D("5.00"), D("5.00"), D("0"))


def test_kill_bill_silver_to_gold_on_26_april_repair_adj_and_recurring():
    """Kill Bill's subscription-change tutorial: Silver $20/month, 2013-04-11..05-11,
    changed on 04-26 to a $30 plan: RECURRING +$15.00 for 04-26..05-11 and REPAIR_ADJ
    -$10.00 for the unused Silver."""
    rules = with_changes(PRORATED_CREDIT, upgrade_proration=Proration.BY_DAY)
    silver = monthly("20.00", t(2013, 4, 11), t(2013, 5, 11))

    q = change(rules, silver, "30.00", t(2013, 4, 26), new_plan="Gold", old_plan="Silver")

    repair, recurring = q.lines
    assert (repair.amount, repair.period_start, repair.period_end) == (
        D("-10.00"),
        t(2013, 4, 26),
        t(2013, 5, 11),
    )
    assert (recurring.amount, recurring.period_start, recurring.period_end) == (
        D("15.00"),
        t(2013, 4, 26),
        t(2013, 5, 11),
    )
    assert "Silver" in repair.label and "Gold" in recurring.label
    assert q.net == D("5.00") and q.effective_at == t(2013, 4, 26)


def test_chargebee_immediate_downgrade_60_to_30_on_21_april_credits_10():
    """Chargebee's proration example: $60 → $30 on 21 April in a 1 April - 1 May cycle,
    downgraded immediately, gives a $10.00 credit."""
    rules = with_changes(
        PRORATED_CREDIT,
        downgrade_effective=Effective.IMMEDIATELY,
        downgrade_refunds_current_period=True,
        downgrade_proration=Proration.BY_DAY,
    )
    april = monthly("60.00", t(2024, 4, 1), t(2024, 5, 1))

    q = change(rules, april, "30.00", t(2024, 4, 21))

    assert [line.amount for line in q.lines] == [D("-20.00"), D("10.00")]
    assert (q.direction, q.net, q.refund, q.charge_now) == ("downgrade", D("-10.00"), D("10.00"), 0)
    assert q.effective_at == t(2024, 4, 21)


@pytest.mark.parametrize(
    ("rules", "price", "at", "direction", "net", "effective"),
    [
        pytest.param(
            ORGIX,
            "131.00",
            t(2022, 1, 16, 12),
            "upgrade",
            "15.50",
            t(2022, 1, 16, 12),
            id="orgix §6 'upgrades may apply immediately', prorated",
        ),
        pytest.param(
            ORGIX,
            "10.00",
            t(2022, 1, 10),
            "downgrade",
            "0",
            t(2022, 2, 1),
            id="orgix §6 'downgrades normally apply at the end', no credit",
        ),
        pytest.param(
            CONNEX,
            "50.00",
            t(2022, 1, 21, 23, 59),
            "downgrade",
            "0",
            t(2022, 2, 1),
            id="connex 10 days' notice: the last minute before it, period end",
        ),
        pytest.param(
            CONNEX,
            "50.00",
            t(2022, 1, 22, 0, 1),
            "downgrade",
            "0",
            t(2022, 3, 1),
            id="connex 10 days' notice: a minute inside it, a cycle later",
        ),
    ],
)
def test_preset_plan_change_follows_its_policy(rules, price, at, direction, net, effective):
    q = change(rules, monthly("100.00", t(2022, 1, 1), t(2022, 2, 1)), price, at)

    assert (q.direction, q.net, q.effective_at) == (direction, D(net), effective)
    assert all(line.clause for line in q.lines)


def test_sync_annual_tier_upgrade_charges_the_prorated_difference_in_two_lines():
    year = monthly("1200.00", t(2022, 1, 1), t(2023, 1, 1), interval=Interval.YEAR)

    q = change(SYNC_WITH_CONNEX, year, "2400.00", t(2022, 7, 1))

    assert [line.amount for line in q.lines] == [D("-604.93"), D("1209.86")]
    assert q.charge_now == q.net == D("604.93")  # 1200 x 184/365, rounded once
    assert "pro-rated difference" in q.lines[0].clause


def test_a_change_of_interval_starts_the_new_plans_own_period():
    month = monthly("100.00", t(2022, 1, 1), t(2022, 2, 1))

    q = change(ORGIX, month, "1500.00", t(2022, 1, 16, 12), new_interval=Interval.YEAR)

    assert q.direction == "upgrade"  # 1,500 a year against 1,200 a year
    assert [line.amount for line in q.lines] == [D("-50.00"), D("1500.00")]
    assert q.lines[1].period_end == t(2023, 1, 16, 12)
    assert q.to_dict()["net"] == "1450.00"
