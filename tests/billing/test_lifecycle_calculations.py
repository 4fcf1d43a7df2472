"""Pure lifecycle calculations: add-on prices and charges, renewal amount, order packs."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.policy.lifecycle import (
    addon_period_price,
    order_packs_carried_over,
    quote_addon,
    renewal_charge,
)
from billing.policy.presets import ORGIX, SYNC_WITH_CONNEX
from billing.policy.rules import Interval

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kind", "quantity", "interval", "price"),
    [
        ("extra_seats", 3, Interval.MONTH, "15.00"),
        ("extra_seats", 3, Interval.YEAR, "150.00"),  # ten months for a year
        ("extra_storage", 2000, Interval.MONTH, "20.00"),
        ("order_pack", 300, Interval.YEAR, "60.00"),  # one-time: never times ten
    ],
)
def test_addon_prices(kind, quantity, interval, price):
    assert addon_period_price(kind, quantity, interval, "USD") == Decimal(price)


def test_renewal_charge_takes_the_discount_off_the_plan_only_unless_void():
    addons = (("Extra seats x 2", Decimal("10.00")),)
    kwargs = dict(plan_name="Pro", plan_price=Decimal("99.99"), addons=addons, currency="EUR")

    kept = renewal_charge(discount_percent=Decimal("15"), discount_void=False, **kwargs)
    void = renewal_charge(discount_percent=Decimal("15"), discount_void=True, **kwargs)

    assert kept.amount == Decimal("94.99")  # 99.99 - 15.00 (14.9985 rounded) + 10.00
    assert [line.amount for line in kept.lines] == [
        Decimal("99.99"),
        Decimal("-15.00"),
        Decimal("10.00"),
    ]
    assert void.amount == Decimal("109.99")


@pytest.mark.parametrize(
    ("packs", "used", "limit", "left"),
    [(200, 1150, 1000, 50), (200, 900, 1000, 200), (100, 5000, 1000, 0), (100, 10, None, 100)],
)
def test_unused_pack_orders_carry_over(packs, used, limit, left):
    assert order_packs_carried_over(pack_orders=packs, orders_used=used, plan_limit=limit) == left


@given(
    price=st.decimals(min_value=0, max_value=10_000, places=2),
    minutes=st.integers(min_value=0, max_value=31 * 24 * 60),
)
def test_an_addon_charge_never_exceeds_its_period_price_nor_grows_with_time(price, minutes):
    at = START + dt.timedelta(minutes=minutes)
    later = at + dt.timedelta(hours=7)

    def charge(moment, rules):
        return quote_addon(
            changes=rules.changes,
            period_price=price,
            one_time=False,
            period_start=START,
            period_end=END,
            currency="USD",
            at=moment,
        ).amount

    for rules in (ORGIX, SYNC_WITH_CONNEX):
        assert Decimal(0) <= charge(later, rules) <= charge(at, rules) <= price
