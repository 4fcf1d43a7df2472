"""The seven external policies (shared/policies/external.md) as example presets: their
main cases, computed by hand from the paraphrase, clause by clause (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from billing.policy.engine import quote_plan_change
from billing.policy.examples import (
    ADOBE,
    ATLASSIAN,
    BASECAMP_CLASSIC,
    BASECAMP_CURRENT,
    EXAMPLE_POLICIES,
    GITHUB,
    GITHUB_OLDER,
    GOOGLE_WORKSPACE,
    GOOGLE_WORKSPACE_V1,
    MICROSOFT_365,
    SLACK,
    SLACK_V1,
)
from billing.policy.presets import PRESETS
from billing.policy.rules import (
    Channel,
    Destination,
    Effective,
    Fallback,
    Interval,
    PaymentMethod,
    PolicyRules,
)

from .policy_cases import D, monthly_history, pay, quote, snap, t

MINUTE = timedelta(minutes=1)
JAN_1 = t(2022, 1, 1)


def test_every_example_round_trips_through_json_and_stays_out_of_the_house_presets():
    for slug, versions in EXAMPLE_POLICIES.items():
        assert slug.startswith("example-") and slug not in PRESETS
        for _title, rules in versions:
            assert PolicyRules.from_dict(rules.to_dict()) == rules


# --- 1. Slack ---------------------------------------------------------------------------


def test_slack_downgrade_to_free_now_turns_unused_days_into_credit_usable_180_days():
    q = quote(SLACK, snap(), t(2022, 1, 11))

    assert q.refund == D("67.74")  # 21 unused days of 31, of $100
    assert q.destination == Destination.CUSTOMER_CREDIT
    assert q.credit_expires_at == t(2022, 7, 10)
    assert "no cash value and is not refundable, usable until 10 July 2022" in q.lines[-1].label
    assert (q.effective, q.ends_at, q.fallback) == (
        Effective.IMMEDIATELY,
        t(2022, 1, 11),
        Fallback.FREE_PLAN,
    )


def test_slack_or_downgrade_at_the_cycle_end_with_no_credit():
    alternative = quote(SLACK, snap(), t(2022, 1, 11)).alternative

    assert alternative is not None
    assert (alternative.refund, alternative.ends_at) == (D("0.00"), t(2022, 2, 1))


def test_slack_v1_members_added_mid_cycle_came_as_an_amount_billed_in_arrears():
    q = quote(SLACK_V1, snap(unbilled_usage=D("12.90")), t(2022, 1, 11))

    assert q.refund == D("67.74")
    assert q.amount_due == D("12.90")


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({"channel": Channel.SALES}, id="bought-through-sales"),
        pytest.param({"payment_method": PaymentMethod.DIRECT_DEBIT}, id="paid-by-direct-debit"),
    ],
)
def test_slack_fair_billing_covers_only_web_purchases_by_card_or_invoice(attributes):
    q = quote(SLACK, snap(**attributes), t(2022, 1, 11))

    assert q.refund == D("0.00")
    assert len(q.variants) == 1 and q.variants[0].startswith("Outside Fair Billing")
    assert any("case-by-case" in line.label for line in q.lines)


# --- 2. Adobe Creative Cloud ---------------------------------------------------------------


def annual_paid_monthly(month: int) -> dict:
    return {
        "price": "54.99",
        "period_start": t(2022, month, 1),
        "payments": monthly_history(JAN_1, month, "54.99"),
        "commitment_end": t(2023, 1, 1),
    }


@pytest.mark.parametrize(
    ("at", "refund", "ends_at"),
    [
        pytest.param(t(2022, 1, 16) - MINUTE, D("54.99"), t(2022, 1, 16) - MINUTE, id="day-14"),
        pytest.param(t(2022, 1, 16), D("0.00"), t(2022, 2, 1), id="after-14-days"),
    ],
)
def test_adobe_full_refund_within_14_days_of_the_initial_order(at, refund, ends_at):
    q = quote(ADOBE, snap(**annual_paid_monthly(1)), at)

    assert (q.refund, q.ends_at) == (refund, ends_at)


def test_adobe_monthly_after_14_days_no_refund_service_to_the_end_of_the_month():
    q = quote(ADOBE, snap(price="59.99"), t(2022, 1, 20))

    assert (q.refund, q.amount_due, q.ends_at) == (D("0.00"), D("0.00"), t(2022, 2, 1))


def test_adobe_annual_prepaid_after_14_days_no_refund_service_to_the_end_of_the_term():
    q = quote(ADOBE, snap(interval=Interval.YEAR, price="599.88"), t(2022, 3, 1))

    assert (q.refund, q.amount_due, q.ends_at) == (D("0.00"), D("0.00"), t(2023, 1, 1))


def test_adobe_annual_paid_monthly_after_14_days_owes_half_the_remaining_obligation():
    q = quote(ADOBE, snap(**annual_paid_monthly(4)), t(2022, 4, 10))

    # May to December: 8 x 54.99 = 439.92; half of it.
    assert q.amount_due == D("219.96")
    assert q.ends_at == t(2022, 5, 1)
    assert q.refund == D("0.00")


def test_adobe_trial_cancelled_before_it_ends_charges_nothing():
    q = quote(ADOBE, snap(trial_end=t(2022, 1, 8), payments=()), t(2022, 1, 5))

    assert (q.refund, q.amount_due) == (D("0.00"), D("0.00"))


# --- 3. Atlassian Cloud --------------------------------------------------------------------


def annual_renewed() -> dict:
    return {
        "interval": Interval.YEAR,
        "price": "1200.00",
        "start": t(2022, 3, 1),
        "period_start": t(2023, 3, 1),
        "payments": (pay("1200.00", t(2022, 3, 1), "y1"), pay("1200.00", t(2023, 3, 1), "y2")),
    }


@pytest.mark.parametrize(
    ("at", "refund"),
    [
        pytest.param(t(2023, 4, 1) - MINUTE, D("1200.00"), id="30th-day-after-the-renewal"),
        pytest.param(t(2023, 4, 1), D("0.00"), id="31st-day-after-the-renewal"),
    ],
)
def test_atlassian_annual_refund_within_30_days_of_a_payment(at, refund):
    assert quote(ATLASSIAN, snap(**annual_renewed()), at).refund == refund


def test_atlassian_cancelling_ends_at_the_cycle_end_and_the_site_stays_15_days():
    q = quote(ATLASSIAN, snap(**annual_renewed()), t(2023, 6, 1))

    assert (q.refund, q.ends_at) == (D("0.00"), t(2024, 3, 1))
    assert q.access_until == t(2024, 3, 16)


@pytest.mark.parametrize(
    ("at", "refund"),
    [
        pytest.param(t(2022, 2, 15) - MINUTE, D("10.00"), id="last-minute-of-first-paid-month"),
        pytest.param(t(2022, 2, 15), D("0.00"), id="second-month"),
    ],
)
def test_atlassian_monthly_refund_only_in_the_first_paid_month_after_the_trial(at, refund):
    snapshot = snap(
        price="10.00",
        trial_end=t(2022, 1, 15),
        period_start=t(2022, 2, 15) if at >= t(2022, 2, 15) else t(2022, 1, 15),
        payments=(pay("10.00", t(2022, 1, 15), "m1"), pay("10.00", t(2022, 2, 15), "m2")),
    )

    q = quote(ATLASSIAN, snapshot, at)

    assert q.refund == refund
    assert q.variants == ("Monthly plan",)


@pytest.mark.parametrize(
    ("trial_end", "at", "deleted"),
    [
        pytest.param(None, t(2022, 1, 20), t(2022, 3, 21), id="paid-60-days-after-cancellation"),
        pytest.param(t(2022, 1, 31), t(2022, 1, 20), t(2022, 2, 3), id="trial-14-days"),
    ],
)
def test_atlassian_data_deleted_60_days_after_cancellation_or_14_for_a_trial(
    trial_end, at, deleted
):
    snapshot = snap(start=JAN_1, trial_end=trial_end, payments=() if trial_end else None)

    assert quote(ATLASSIAN, snapshot, at).data_retained_until == deleted


# --- 4. GitHub -----------------------------------------------------------------------------


def test_github_cancellation_at_the_cycle_end_without_proration_then_free():
    q = quote(GITHUB, snap(price="4.00"), t(2022, 1, 11))

    assert (q.refund, q.ends_at, q.fallback) == (D("0.00"), t(2022, 2, 1), Fallback.FREE_PLAN)


def test_github_upgrade_now_prorated_by_day_downgrade_at_the_cycle_end():
    snapshot = snap(price="4.00")

    up = quote_plan_change(
        rules=GITHUB, policy_label="g@2", snapshot=snapshot, new_price=D("21.00"), at=t(2022, 1, 16)
    )
    down = quote_plan_change(
        rules=GITHUB, policy_label="g@2", snapshot=snapshot, new_price=D("0.00"), at=t(2022, 1, 16)
    )

    assert up.charge_now == D("8.77")  # 17.00 x 16 days of 31
    assert (down.refund, down.effective_at) == (D("0.00"), t(2022, 2, 1))


def test_github_older_text_downgrades_at_once_with_a_prorated_refund():
    q = quote(GITHUB_OLDER, snap(), t(2022, 1, 11))

    assert (q.refund, q.destination, q.ends_at) == (
        D("67.74"),
        Destination.ORIGINAL_PAYMENT_METHOD,
        t(2022, 1, 11),
    )


# --- 5. Microsoft 365 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "price", "start", "at", "refund"),
    [
        pytest.param(
            Interval.YEAR, "99.99", JAN_1, t(2022, 2, 1) - MINUTE, D("99.99"), id="annual-day-30"
        ),
        pytest.param(
            Interval.YEAR, "99.99", JAN_1, t(2022, 2, 1), D("0.00"), id="annual-after-30-days"
        ),
        # February: the first recurring charge (1 March) comes before 30 days.
        pytest.param(
            Interval.MONTH,
            "9.99",
            t(2022, 2, 1),
            t(2022, 3, 1) - MINUTE,
            D("9.99"),
            id="monthly-before-first-charge",
        ),
        pytest.param(
            Interval.MONTH,
            "9.99",
            t(2022, 2, 1),
            t(2022, 3, 1),
            D("0.00"),
            id="monthly-at-first-charge",
        ),
    ],
)
def test_microsoft_refund_within_30_days_or_before_the_first_recurring_charge(
    interval, price, start, at, refund
):
    q = quote(MICROSOFT_365, snap(interval=interval, price=price, start=start), at)

    assert q.refund == refund


def test_microsoft_eligible_customer_may_take_the_refund_now_or_keep_the_plan():
    q = quote(MICROSOFT_365, snap(interval=Interval.YEAR, price="99.99"), t(2022, 1, 20))

    assert (q.refund, q.ends_at) == (D("99.99"), t(2022, 1, 20))
    assert q.alternative is not None
    assert (q.alternative.refund, q.alternative.ends_at) == (D("0.00"), t(2023, 1, 1))


@pytest.mark.parametrize(
    ("country", "year", "refund"),
    [
        # 1 July: 184 of 365 days left; 99.99 x 184 / 365 = 50.4059.
        pytest.param("CA", 1, D("50.41"), id="canada-any-period"),
        pytest.param("DE", 1, D("0.00"), id="germany-first-period"),
        pytest.param("FI", 2, D("50.41"), id="finland-renewal-period"),
        pytest.param("US", 2, D("0.00"), id="elsewhere-no-proration"),
    ],
)
def test_microsoft_prorated_refunds_by_country(country, year, refund):
    period_start = t(2021 + year, 1, 1)
    snapshot = snap(
        interval=Interval.YEAR,
        price="99.99",
        period_start=period_start,
        payments=tuple(pay("99.99", t(2021 + y, 1, 1), f"y{y}") for y in range(1, year + 1)),
        country=country,
    )

    assert quote(MICROSOFT_365, snapshot, t(2021 + year, 7, 1)).refund == refund


def test_microsoft_app_store_purchases_follow_the_sellers_rules():
    q = quote(MICROSOFT_365, snap(channel=Channel.APP_STORE, country="CA"), t(2022, 1, 5))

    assert q.refund == D("0.00")
    assert q.variants[0] == "Bought from a retailer or an app store"


@pytest.mark.parametrize(
    ("variants", "due"),
    [
        pytest.param(MICROSOFT_365.variants, D("0.00"), id="overdue-amount-waived"),
        pytest.param((), D("9.99"), id="without-the-variant-the-unpaid-month-is-owed"),
    ],
)
def test_microsoft_overdue_customer_may_cancel_at_once_owing_nothing_more(variants, due):
    # The renewal of 1 March failed: the current period has no payment.
    snapshot = snap(
        price="9.99",
        period_start=t(2022, 3, 1),
        payments=monthly_history(JAN_1, 2, "9.99"),
        status="past_due",
    )

    q = quote(replace(MICROSOFT_365, variants=variants), snapshot, t(2022, 3, 10))

    assert q.amount_due == due
    if variants:
        assert (q.effective, q.ends_at) == (Effective.IMMEDIATELY, t(2022, 3, 10))


# --- 6. Basecamp ---------------------------------------------------------------------------


def test_basecamp_classic_no_refunds_ends_at_once_data_30_days_backups_60():
    q = quote(BASECAMP_CLASSIC, snap(), t(2022, 1, 11))

    assert (q.refund, q.ends_at, q.access_until) == (D("0.00"), t(2022, 1, 11), t(2022, 1, 11))
    assert q.data_retained_until == t(2022, 2, 10)
    assert [(p.what, p.until) for p in q.data_kept] == [("Backups", t(2022, 3, 12))]


def test_basecamp_classic_trial_cancelled_before_the_first_charge_costs_nothing():
    q = quote(BASECAMP_CLASSIC, snap(trial_end=t(2022, 1, 31), payments=()), t(2022, 1, 11))

    assert (q.refund, q.amount_due) == (D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("last_used_at", "refund"),
    [
        pytest.param(t(2022, 2, 20), D("100.00"), id="forgotten-renewal-not-used"),
        pytest.param(t(2022, 3, 2), D("0.00"), id="used-after-the-renewal"),
    ],
)
def test_basecamp_current_refunds_a_forgotten_unused_renewal(last_used_at, refund):
    snapshot = snap(
        period_start=t(2022, 3, 1),
        payments=monthly_history(JAN_1, 3),
        last_used_at=last_used_at,
    )

    q = quote(BASECAMP_CURRENT, snapshot, t(2022, 3, 10))

    assert q.refund == refund
    assert any("case-by-case" in line.label for line in q.lines)


def test_basecamp_current_keeps_some_account_data_indefinitely():
    q = quote(BASECAMP_CURRENT, snap(), t(2022, 1, 11))

    assert q.data_retained_until == t(2022, 3, 12)
    assert [(p.what, p.until) for p in q.data_kept] == [("Account credentials", None)]


# --- 7. Google Workspace -------------------------------------------------------------------


def test_google_v1_flexible_cancel_no_refund_unbilled_user_days_as_an_amount():
    q = quote(GOOGLE_WORKSPACE_V1, snap(price="14.00", unbilled_usage=D("37.50")), t(2022, 1, 11))

    assert (q.refund, q.amount_due, q.ends_at) == (D("0.00"), D("37.50"), t(2022, 1, 11))


def test_google_annual_paid_monthly_owes_the_rest_of_the_commitment():
    snapshot = snap(
        price="12.00",
        period_start=t(2022, 3, 1),
        payments=monthly_history(JAN_1, 3, "12.00"),
        commitment_end=t(2023, 1, 1),
    )

    q = quote(GOOGLE_WORKSPACE, snapshot, t(2022, 3, 10))

    # April to December: 9 x 12.00.
    assert q.amount_due == D("108.00")


def test_google_annual_paid_yearly_no_refund_and_nothing_more_due():
    q = quote(GOOGLE_WORKSPACE, snap(interval=Interval.YEAR, price="144.00"), t(2022, 3, 10))

    assert (q.refund, q.amount_due) == (D("0.00"), D("0.00"))


def test_google_trial_cancellation_costs_nothing_even_with_a_commitment():
    snapshot = snap(trial_end=t(2022, 1, 15), payments=(), commitment_end=t(2023, 1, 15))

    assert quote(GOOGLE_WORKSPACE, snapshot, t(2022, 1, 10)).amount_due == D("0.00")


def test_google_credit_balance_is_refunded_when_the_subscription_closes():
    q = quote(GOOGLE_WORKSPACE, snap(credit_balance=D("20.00")), t(2022, 1, 11))

    assert q.credit_payout == D("20.00")


@pytest.mark.parametrize(
    ("interval", "new_interval", "new_price", "effective_at"),
    [
        pytest.param(
            Interval.MONTH,
            Interval.YEAR,
            "144.00",
            t(2022, 1, 10),
            id="flexible-to-annual-any-time",
        ),
        pytest.param(
            Interval.YEAR,
            Interval.MONTH,
            "14.00",
            t(2023, 1, 1),
            id="annual-to-flexible-at-renewal",
        ),
    ],
)
def test_google_flexible_to_annual_any_time_annual_to_flexible_only_at_renewal(
    interval, new_interval, new_price, effective_at
):
    snapshot = snap(interval=interval, price="12.00" if interval == Interval.MONTH else "144.00")

    change = quote_plan_change(
        rules=GOOGLE_WORKSPACE,
        policy_label="example-google-workspace@1",
        snapshot=snapshot,
        new_price=D(new_price),
        new_interval=new_interval,
        at=t(2022, 1, 10),
    )

    assert change.effective_at == effective_at
