"""The example versions that complete Slack, Google Workspace and Basecamp current
(shared/policies/external.md §1, §7, §6): their main cases computed by hand (pure).
Microsoft 365's German purchase date is in test_policy_limits_and_dates.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.policy.examples import BASECAMP_CURRENT, GOOGLE_WORKSPACE, SLACK
from billing.policy.rules import Effective, Interval
from billing.policy.snapshot import SeatSnapshot

from .policy_cases import D, monthly_history, pay, quote, snap, t

DEC_1 = t(2021, 12, 1)
JAN_1, JAN_11 = t(2022, 1, 1), t(2022, 1, 11)
MINUTE = timedelta(minutes=1)
JAN_10 = t(2022, 1, 10)


def member(ref, *, added=DEC_1, removed=None, active=JAN_10) -> SeatSnapshot:
    return SeatSnapshot(ref, added, removed, active)


def slack_snap(*seats: SeatSnapshot, **kw):
    """January 2022 (31 days), 25.00 a member, three members paid at the period start."""
    return snap(
        start=DEC_1,
        period_start=JAN_1,
        price="75.00",
        seat_price=D("25.00"),
        seats=seats,
        **kw,
    )


def seat_credit(q) -> Decimal:
    return sum((line.amount for line in q.lines if line.label.startswith("Seats not used")), D(0))


# --- Slack: Fair Billing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_active", "credit"),
    [
        # Inactive from 28 days after the last activity; whole days to 11 January.
        pytest.param(t(2021, 12, 10), D("3.23"), id="inactive-from-7-january-25x4/31"),
        pytest.param(t(2021, 12, 14), D("0.00"), id="inactive-only-from-11-january"),
    ],
)
def test_slack_member_inactive_28_days_earns_a_prorated_credit(last_active, credit):
    q = quote(
        SLACK, slack_snap(member("ana", active=last_active), member("ben"), member("dee")), JAN_11
    )

    assert seat_credit(q) == credit
    assert q.refund == D("50.81") + credit  # 21 unused days of 75.00, plus the seat credit


def test_slack_deactivated_member_earns_credit_from_the_deactivation():
    seats = (member("ana", removed=t(2022, 1, 5), active=t(2022, 1, 4)), member("ben"))

    assert seat_credit(quote(SLACK, slack_snap(*seats), JAN_11)) == D("4.84")  # 25 x 6 / 31


def test_slack_bills_at_least_one_member_so_a_lone_inactive_member_earns_nothing():
    q = quote(SLACK, slack_snap(member("ana", active=t(2021, 12, 10))), JAN_11)

    assert seat_credit(q) == D("0.00")


@pytest.mark.parametrize(
    ("added", "due"),
    [
        pytest.param(JAN_1, D("0.00"), id="member-at-the-period-start-paid-with-it"),
        # Added 6 January at noon: 4.5 days to the 11th, started days count: 25 x 5 / 31.
        pytest.param(t(2022, 1, 6, 12), D("4.03"), id="added-mid-cycle-billed-by-the-day"),
    ],
)
def test_slack_members_added_mid_cycle_are_prorated_by_day_and_billed_later(added, due):
    q = quote(SLACK, slack_snap(member("ben"), member("cy", added=added)), JAN_11)

    assert q.amount_due == due


def test_slack_downgrading_at_the_cycle_end_credits_inactive_members_to_the_end():
    q = quote(SLACK, slack_snap(member("ana", active=t(2021, 12, 10)), member("ben")), JAN_11)

    alternative = q.alternative
    assert alternative is not None
    # No unused fees credited; Ana inactive 7 January to 1 February: 25 x 25 / 31.
    assert (alternative.refund, alternative.ends_at) == (D("20.16"), t(2022, 2, 1))


# --- Google Workspace ------------------------------------------------------------------------


def test_google_flexible_bills_every_user_day_in_arrears_at_cancellation():
    snapshot = snap(
        start=DEC_1,
        period_start=JAN_1,
        price="14.00",
        payments=(pay("28.00", DEC_1, "december"),),  # the previous month, billed in arrears
        seat_price=D("31.00"),
        seats=(member("owner"), member("editor", removed=t(2022, 1, 5, 12))),
    )

    q = quote(GOOGLE_WORKSPACE, snapshot, JAN_11)

    # 10 days for the owner, 4.5 for the editor, 14.5 rounded up: 31.00 x 15 / 31.
    assert (q.refund, q.amount_due, q.ends_at) == (D("0.00"), D("15.00"), JAN_11)
    assert q.variants == ("Flexible plan",)


def annual_paid_monthly(*seats: SeatSnapshot):
    """12.00 a month committed to 1 January 2023, two licences at 6.00; cancelled 10 March."""
    return snap(
        start=JAN_1,
        period_start=t(2022, 3, 1),
        price="12.00",
        payments=monthly_history(JAN_1, 3, "12.00"),
        commitment_end=t(2023, 1, 1),
        seat_price=D("6.00"),
        seats=seats,
    )


@pytest.mark.parametrize(
    ("added", "due"),
    [
        pytest.param(t(2022, 3, 1), D("108.00"), id="licences-from-the-period-start"),
        # Added 5 March: 5 days to the 10th, 6.00 x 5 / 31 = 0.97, on top of 9 x 12.00.
        pytest.param(t(2022, 3, 5), D("108.97"), id="licence-added-mid-term-prorated"),
    ],
)
def test_google_annual_paid_monthly_owes_the_commitment_and_added_licences(added, due):
    snapshot = annual_paid_monthly(member("owner", added=JAN_1), member("new", added=added))

    q = quote(GOOGLE_WORKSPACE, snapshot, t(2022, 3, 10))

    assert (q.refund, q.amount_due) == (D("0.00"), due)
    assert q.variants == ()


def test_google_annual_licences_cannot_be_removed_before_renewal_no_credit():
    removed = member("gone", added=JAN_1, removed=t(2022, 3, 2))
    snapshot = annual_paid_monthly(member("owner", added=JAN_1), removed)

    q = quote(GOOGLE_WORKSPACE, snapshot, t(2022, 3, 10))

    assert q.refund == D("0.00") and seat_credit(q) == D("0.00")


# --- Basecamp current: HEY annual ------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "refund"),
    [
        # Months not yet started, the current one kept: May is month 5 of 12, 7 left.
        pytest.param(t(2022, 6, 1) - MINUTE, D("57.75"), id="in-may-seven-months-back"),
        pytest.param(t(2022, 6, 1), D("49.50"), id="in-june-six-months-back"),
    ],
)
def test_basecamp_current_annual_refunds_the_remaining_whole_months(at, refund):
    snapshot = snap(interval=Interval.YEAR, price="99.00", start=JAN_1)

    q = quote(BASECAMP_CURRENT, snapshot, at)

    assert (q.refund, q.effective) == (refund, Effective.IMMEDIATELY)
    assert q.variants == ("Annual plan no longer needed",)


def test_basecamp_current_monthly_plan_keeps_no_refund_outside_a_forgotten_renewal():
    q = quote(BASECAMP_CURRENT, snap(price="99.00", last_used_at=t(2022, 1, 5)), t(2022, 1, 11))

    assert q.refund == D("0.00")
    assert any("case-by-case" in line.label for line in q.lines)
