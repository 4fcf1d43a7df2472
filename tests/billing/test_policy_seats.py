"""Seat rules, one clause at a time, with the boundary on each side (pure).

A January 2022 period (31 days) at a seat price of 31.00, so one seat-day is 1.00 (and
at 44,640.00 one seat-minute is 1.00). Rules are orgix with immediate cancellation and the
seat rule switched on, so a failure points at the seat rule.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from billing.policy.rules import (
    ChargeKind,
    ChargeRule,
    Clause,
    Effective,
    PolicyRules,
    Proration,
    SeatBilling,
    SeatRule,
)
from billing.policy.snapshot import SeatSnapshot

from .policy_cases import D, quote, snap, t
from .test_policy_generality import BASE

MINUTE = timedelta(minutes=1)
DEC_1 = t(2021, 12, 1)
JAN_1, JAN_11 = t(2022, 1, 1), t(2022, 1, 11)


def seat_rule(**changes) -> SeatRule:
    rule = SeatRule(
        billing=SeatBilling.IN_ADVANCE,
        inactive_after_days=28,
        minimum_billed=1,
        credit_inactive=True,
        proration=Proration.BY_DAY,
        clause=Clause("§seats"),
    )
    return replace(rule, **changes)


def rules(seats: SeatRule | None = None, **changes) -> PolicyRules:
    return replace(
        BASE,
        cancellation_effective=Effective.IMMEDIATELY,
        seats=seats or seat_rule(),
        **changes,
    )


SEAT_DAYS = (ChargeRule(ChargeKind.SEAT_DAYS, Decimal("100"), "Seats added", Clause("§arrears")),)


def seat(ref: str, *, added=DEC_1, removed=None, active=None) -> SeatSnapshot:
    return SeatSnapshot(ref, added, removed, active)


def active(ref: str) -> SeatSnapshot:
    return seat(ref, active=t(2022, 1, 20))


def seats_snap(*seats: SeatSnapshot, seat_price: str = "31.00"):
    return snap(
        start=DEC_1,
        period_start=JAN_1,
        price="93.00",
        seat_price=D(seat_price),
        seats=seats,
    )


def credit(q) -> Decimal:
    return sum((line.amount for line in q.lines if line.label.startswith("Seats not used")), D(0))


# --- a billed seat inactive for N days earns credit ----------------------------------------


@pytest.mark.parametrize(
    ("last_active", "credited"),
    [
        # Inactive 28 days after the last activity; credited in whole days up to 11 January.
        pytest.param(t(2021, 12, 13), D("1.00"), id="inactive-from-10-january-one-day"),
        pytest.param(t(2021, 12, 13) + MINUTE, D("0.00"), id="a-minute-later-no-whole-day"),
        pytest.param(t(2021, 12, 10), D("4.00"), id="inactive-from-7-january-four-days"),
    ],
)
def test_seat_inactive_for_28_days_is_credited_for_the_whole_days_it_was_not_used(
    last_active, credited
):
    snapshot = seats_snap(seat("ana", active=last_active), active("ben"), active("dee"))

    q = quote(rules(), snapshot, JAN_11)

    assert credit(q) == credited
    assert q.refund == credited  # orgix prorates nothing else


@pytest.mark.parametrize(
    ("at", "credited"),
    [
        pytest.param(t(2022, 1, 8) - MINUTE, D("0.00"), id="a-minute-before-the-first-day"),
        pytest.param(t(2022, 1, 8), D("1.00"), id="the-first-whole-day"),
    ],
)
def test_credit_counts_whole_days_up_to_the_cancellation(at, credited):
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 10)), active("ben"))  # inactive 7 Jan

    assert credit(quote(rules(), snapshot, at)) == credited


def test_a_removed_seat_is_credited_from_its_removal():
    snapshot = seats_snap(seat("ana", removed=t(2022, 1, 5), active=t(2022, 1, 4)), active("ben"))

    q = quote(rules(), snapshot, JAN_11)

    assert credit(q) == D("6.00")
    assert "6 seat-days of a 31-day period" in q.lines[-1].label


def test_a_seat_already_inactive_at_the_period_start_was_not_billed_and_earns_nothing():
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 1)), active("ben"))  # inactive 29 Dec

    assert credit(quote(rules(), snapshot, JAN_11)) == D("0.00")


# --- the minimum of billed seats -----------------------------------------------------------


@pytest.mark.parametrize(
    ("minimum", "credited"),
    [
        # Ana inactive from 7 January, Ben from 9 January, both billed: with a minimum of
        # one, only one of them is credited at a time.
        pytest.param(0, D("6.00"), id="no-minimum-both-credited"),
        pytest.param(1, D("4.00"), id="minimum-one-keeps-one-billed"),
        pytest.param(2, D("0.00"), id="minimum-two-nothing-credited"),
    ],
)
def test_credit_never_takes_the_billed_seats_below_the_minimum(minimum, credited):
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 10)), seat("ben", active=t(2021, 12, 12)))

    assert credit(quote(rules(seat_rule(minimum_billed=minimum)), snapshot, JAN_11)) == credited


# --- seat-days in arrears ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("added", "due"),
    [
        pytest.param(JAN_1, D("0.00"), id="there-at-the-period-start-paid-in-advance"),
        # From 00:01 to 11 January: 9 days 23:59, a started day counts.
        pytest.param(JAN_1 + MINUTE, D("10.00"), id="a-minute-later-billed-by-the-day"),
        pytest.param(t(2022, 1, 10, 23, 59), D("1.00"), id="one-minute-is-one-started-day"),
    ],
)
def test_seats_added_after_the_period_start_are_billed_by_the_day_at_cancellation(added, due):
    snapshot = seats_snap(active("ben"), seat("cy", added=added, active=t(2022, 1, 10, 23, 59)))

    q = quote(rules(charges=SEAT_DAYS), snapshot, JAN_11)

    assert q.amount_due == due
    assert [line.amount for line in q.due_lines] == ([due] if due else [])


@pytest.mark.parametrize(
    ("minimum", "removed", "due"),
    [
        # Flexible: every seat billed by the day from the period start to 11 January.
        pytest.param(0, None, D("20.00"), id="two-seats-ten-days"),
        pytest.param(3, None, D("30.00"), id="minimum-three-seats-billed"),
        # Ben removed at noon on 5 January: 4.5 days, 14.5 seat-days, rounded up to 15.
        pytest.param(0, t(2022, 1, 5, 12), D("15.00"), id="a-removed-seat-until-its-removal"),
    ],
)
def test_seats_billed_in_arrears_count_every_seat_day_at_least_the_minimum(minimum, removed, due):
    rule = seat_rule(
        billing=SeatBilling.IN_ARREARS,
        inactive_after_days=None,
        minimum_billed=minimum,
        credit_inactive=False,
    )
    snapshot = seats_snap(seat("ana"), seat("ben", removed=removed))

    assert quote(rules(rule, charges=SEAT_DAYS), snapshot, JAN_11).amount_due == due


def test_seat_time_by_the_minute():
    rule = seat_rule(proration=Proration.BY_MINUTE)
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 10)), active("ben"), seat_price="44640.00")

    assert credit(quote(rules(rule), snapshot, t(2022, 1, 7) + MINUTE)) == D("1.00")


def test_running_to_the_period_end_credits_the_inactive_seat_to_the_end():
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 10)), active("ben"))
    at_period_end = replace(rules(), cancellation_effective=Effective.PERIOD_END)

    q = quote(at_period_end, snapshot, JAN_11)

    assert (credit(q), q.ends_at) == (D("25.00"), t(2022, 2, 1))  # 7 January to 1 February


def test_policies_without_seat_rules_read_no_seats():
    snapshot = seats_snap(seat("ana", active=t(2021, 12, 10)), active("ben"))

    assert quote(BASE, snapshot, JAN_11).refund == D("0.00")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(
            lambda: seat_rule(proration=Proration.WHOLE_MONTHS),
            "proration: seat-time is counted by_day or by_minute",
            id="seat-time-by-day-or-minute",
        ),
        pytest.param(
            lambda: replace(BASE, charges=SEAT_DAYS),
            "charges: a seat_days charge needs the seats rule",
            id="seat-days-need-seats",
        ),
    ],
)
def test_inconsistent_seat_rules_are_refused_naming_the_field(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_seat_rules_round_trip_and_a_bad_billing_names_its_field():
    data = rules(charges=SEAT_DAYS).to_dict()
    assert PolicyRules.from_dict(data) == rules(charges=SEAT_DAYS)

    data["seats"]["billing"] = "monthly"
    with pytest.raises(ValueError, match=r"^seats\.billing: 'monthly' is not one of"):
        PolicyRules.from_dict(data)
