"""Limits on changes and the purchase-date condition, with the boundary on each side
(pure: the engine and `billing/policy/change_limits.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from billing.policy.change_limits import limit_message, limit_reached
from billing.policy.examples import MICROSOFT_365, SLACK
from billing.policy.rules import (
    ChangeLimit,
    Clause,
    Condition,
    Fallback,
    Interval,
    LimitedChange,
    LimitPer,
    PolicyRules,
    Variant,
)
from billing.policy.snapshot import ChangeEvent

from .policy_cases import D, pay, quote, snap, t
from .test_policy_generality import BASE, by_day

MINUTE = timedelta(minutes=1)
PAUSES = ChangeLimit(LimitedChange.PAUSE, 2, LimitPer.YEAR, Clause("§pauses: two a year"))
FREE_ONCE = ChangeLimit(
    LimitedChange.DOWNGRADE_TO_FREE, 1, LimitPer.ACCOUNT, Clause("§free: once per account")
)


def paused(*moments) -> tuple[ChangeEvent, ...]:
    return tuple(ChangeEvent(LimitedChange.PAUSE, moment) for moment in moments)


# --- limits on changes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "refused"),
    [
        # Paused on 1 March and 1 June 2022: two in the 12 months before the change.
        pytest.param(t(2023, 3, 1) - MINUTE, True, id="both-pauses-within-twelve-months"),
        pytest.param(t(2023, 3, 1), False, id="march-pause-twelve-months-old"),
    ],
)
def test_two_pauses_per_year_counts_the_twelve_months_before_the_change(at, refused):
    rules = replace(BASE, limits=(PAUSES,))
    history = paused(t(2022, 3, 1), t(2022, 6, 1))

    assert (limit_reached(rules, LimitedChange.PAUSE, history, at) is not None) == refused


def test_the_refusal_names_the_limit_its_clause_and_when_the_next_is_possible():
    rules = replace(BASE, limits=(PAUSES,))
    limit, used = limit_reached(
        rules, LimitedChange.PAUSE, paused(t(2022, 3, 1), t(2022, 6, 1)), t(2022, 9, 1)
    )

    assert limit_message(limit, used) == (
        "This policy allows 2 pauses per year (§pauses: two a year): already used on "
        "1 March 2022, 1 June 2022. The next is possible after 1 March 2023."
    )


@pytest.mark.parametrize(
    ("history", "refused"),
    [
        pytest.param((), False, id="never-downgraded"),
        pytest.param(
            (ChangeEvent(LimitedChange.DOWNGRADE_TO_FREE, t(2019, 5, 1)),),
            True,
            id="once-years-ago",
        ),
        pytest.param(paused(t(2021, 5, 1)), False, id="a-pause-is-another-change"),
    ],
)
def test_downgrade_to_free_once_per_account_counts_the_whole_life(history, refused):
    rules = replace(BASE, limits=(FREE_ONCE,))

    reached = limit_reached(rules, LimitedChange.DOWNGRADE_TO_FREE, history, t(2022, 1, 11))

    assert (reached is not None) == refused


@pytest.mark.parametrize(
    ("history", "fallback"),
    [
        pytest.param((), Fallback.FREE_PLAN, id="first-time-falls-back-to-free"),
        pytest.param(
            (ChangeEvent(LimitedChange.DOWNGRADE_TO_FREE, t(2021, 3, 1)),),
            Fallback.DISABLED,
            id="second-time-the-workspace-is-disabled",
        ),
    ],
)
def test_a_cancellation_past_the_free_plan_limit_falls_back_otherwise(history, fallback):
    rules = replace(SLACK, limits=(FREE_ONCE,))

    q = quote(rules, snap(changes=history), t(2022, 1, 11))

    assert q.fallback == fallback
    assert q.refund == D("67.74")  # the money does not change, only what the workspace becomes
    notes = [line.label for line in q.lines if line.clause == "§free: once per account"]
    assert notes == (
        []
        if fallback == Fallback.FREE_PLAN
        else [
            "This policy allows one downgrade to the Free plan per account "
            "(§free: once per account): already used on 1 March 2021. "
            "The workspace is disabled instead"
        ]
    )


def test_the_free_plan_is_not_a_limit_s_otherwise():
    with pytest.raises(ValueError, match="otherwise: the Free plan is what the limit withholds"):
        replace(FREE_ONCE, otherwise=Fallback.FREE_PLAN)


def test_limits_round_trip_and_an_unknown_change_names_its_field():
    data = replace(BASE, limits=(PAUSES, FREE_ONCE)).to_dict()
    assert PolicyRules.from_dict(data).limits == (PAUSES, FREE_ONCE)

    data["limits"][0]["change"] = "upgrade"
    with pytest.raises(ValueError, match=r"^limits\.0\.change: 'upgrade' is not one of"):
        PolicyRules.from_dict(data)


# --- a condition on the purchase date --------------------------------------------------------


def bought_from_march_2022(time_zone: str = "UTC", **when) -> PolicyRules:
    variant = Variant(
        "Bought from 1 March 2022",
        Condition(**when),
        {"proration": by_day()},
        Clause("§bought-after"),
    )
    return replace(BASE, variants=(variant,), time_zone=time_zone)


@pytest.mark.parametrize(
    ("bought", "applies"),
    [
        # 1 March 2022 in Berlin starts at 28 February 23:00 UTC.
        pytest.param(t(2022, 2, 28, 22, 59), False, id="last-minute-of-february-in-berlin"),
        pytest.param(t(2022, 2, 28, 23, 0), True, id="first-minute-of-march-in-berlin"),
    ],
)
def test_purchased_from_is_the_day_of_purchase_in_the_policy_time_zone(bought, applies):
    rules = bought_from_march_2022("Europe/Berlin", purchased_from=date(2022, 3, 1))
    snapshot = snap(start=bought, period_start=t(2022, 4, 1), payments=(pay("100.00", bought),))

    q = quote(rules, snapshot, t(2022, 4, 11))

    assert q.variants == (("Bought from 1 March 2022",) if applies else ())


@pytest.mark.parametrize(
    ("bought", "applies"),
    [
        pytest.param(t(2022, 2, 28, 23, 59), True, id="the-day-before"),
        pytest.param(t(2022, 3, 1), False, id="the-day-itself-is-excluded"),
    ],
)
def test_purchased_before_excludes_its_own_day(bought, applies):
    rules = bought_from_march_2022(purchased_before=date(2022, 3, 1))
    snapshot = snap(start=bought, period_start=t(2022, 4, 1), payments=(pay("100.00", bought),))

    assert bool(quote(rules, snapshot, t(2022, 4, 11)).variants) == applies


@pytest.mark.parametrize(
    ("bought", "refund"),
    [
        # Renewed on the anniversary, cancelled on 1 September 2023: the March renewal
        # has 182 of its 366 days left (99.00 x 182 / 366 = 49.2295).
        pytest.param(t(2022, 2, 28), D("0.00"), id="bought-28-february-2022-no-proration"),
        pytest.param(t(2022, 3, 1), D("49.23"), id="bought-1-march-2022-prorated"),
    ],
)
def test_microsoft_germany_prorates_renewals_only_of_plans_bought_after_1_march_2022(
    bought, refund
):
    renewal = bought.replace(year=2023)
    snapshot = snap(
        interval=Interval.YEAR,
        price="99.00",
        start=bought,
        period_start=renewal,
        payments=(pay("99.00", bought, "first"), pay("99.00", renewal, "renewal")),
        country="DE",
    )

    q = quote(MICROSOFT_365, snapshot, t(2023, 9, 1))

    assert q.refund == refund


def test_purchase_dates_in_the_wrong_order_are_refused():
    with pytest.raises(ValueError, match="purchased_before: must be after purchased_from"):
        Condition(purchased_from=date(2022, 3, 1), purchased_before=date(2022, 3, 1))


def test_a_purchase_date_round_trips_and_a_bad_one_names_its_field():
    data = bought_from_march_2022(purchased_from=date(2022, 3, 1)).to_dict()
    assert data["variants"][0]["when"]["purchased_from"] == "2022-03-01"
    assert PolicyRules.from_dict(data).variants[0].when.purchased_from == date(2022, 3, 1)

    data["variants"][0]["when"]["purchased_from"] = "2022-13-01"
    with pytest.raises(
        ValueError, match=r"^variants\.0\.when\.purchased_from: '2022-13-01' is not a date"
    ):
        PolicyRules.from_dict(data)
