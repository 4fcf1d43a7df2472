"""The general rule concepts, one at a time, with the boundary on each side (pure).

Rules are the orgix preset (no window, no proration) with one concept switched on, so a
failure points at that concept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from billing.policy.engine import quote_plan_change
from billing.policy.presets import PRESETS
from billing.policy.rules import (
    ChargeKind,
    ChargeRule,
    Clause,
    Condition,
    CreditRule,
    Destination,
    Effective,
    Initiator,
    Interval,
    Phase,
    Proration,
    ProrationRule,
    RefundWindow,
    Region,
    RetainedData,
    RetentionFrom,
    RetentionRule,
    Variant,
    WindowFrom,
)

from .policy_cases import D, K, monthly_history, pay, quote, snap, t

MINUTE = timedelta(minutes=1)
BASE = replace(
    PRESETS["orgix"],
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    case_by_case_review=False,
)


def window(days, counted_from=WindowFrom.TRIAL_END, until_first_renewal=False) -> RefundWindow:
    return RefundWindow(
        days, counted_from, (K.SUBSCRIPTION,), Clause("§w"), until_first_renewal=until_first_renewal
    )


def by_day() -> tuple[ProrationRule, ...]:
    return (ProrationRule(None, Phase.ANY, Proration.BY_DAY, (), "", Clause("§p")),)


# --- windows anchored elsewhere ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "refund"),
    [
        # Inclusive calendar days: 30 days from 1 March run to the end of 31 March.
        pytest.param(timedelta(days=31) - MINUTE, D("1200.00"), id="last-minute-of-30th-day"),
        pytest.param(timedelta(days=31), D("0.00"), id="closed-after-the-30th-day"),
    ],
)
def test_window_counted_from_each_payment_refunds_the_renewal(offset, refund):
    renewal = t(2023, 3, 1)
    snapshot = snap(
        interval=Interval.YEAR,
        price="1200.00",
        start=t(2022, 3, 1),
        period_start=renewal,
        payments=(pay("1200.00", t(2022, 3, 1), "first"), pay("1200.00", renewal, "renewal")),
    )
    rules = replace(BASE, refund_window=window(30, WindowFrom.EACH_PAYMENT))

    q = quote(rules, snapshot, renewal + offset)

    assert q.refund == refund
    assert {r.payment_ref for r in q.payment_refunds} <= {"renewal"}


@pytest.mark.parametrize(
    ("interval", "start", "at", "refund"),
    [
        # Monthly from 1 February: the first renewal (1 March) comes before 30 days (3 March).
        pytest.param(
            Interval.MONTH,
            t(2022, 2, 1),
            t(2022, 3, 1) - MINUTE,
            D("100.00"),
            id="feb-before-renewal",
        ),
        pytest.param(
            Interval.MONTH, t(2022, 2, 1), t(2022, 3, 1), D("0.00"), id="feb-closed-at-renewal"
        ),
        # Yearly from 1 January: 30 days (to the end of 31 January) come first.
        pytest.param(
            Interval.YEAR, t(2022, 1, 1), t(2022, 2, 1) - MINUTE, D("100.00"), id="year-last-day"
        ),
        pytest.param(
            Interval.YEAR, t(2022, 1, 1), t(2022, 2, 1), D("0.00"), id="year-closed-after-30-days"
        ),
    ],
)
def test_window_whichever_comes_first_of_days_and_first_renewal(interval, start, at, refund):
    rules = replace(BASE, refund_window=window(30, until_first_renewal=True))

    assert quote(rules, snap(interval=interval, start=start), at).refund == refund


@pytest.mark.parametrize(
    ("at", "refund"),
    [
        pytest.param(t(2022, 2, 15) - MINUTE, D("100.00"), id="last-minute-of-first-paid-month"),
        pytest.param(t(2022, 2, 15), D("0.00"), id="closed-at-first-renewal"),
    ],
)
def test_window_as_long_as_the_first_billing_period_after_the_trial(at, refund):
    trial_end = t(2022, 1, 15)
    rules = replace(BASE, refund_window=window(None, until_first_renewal=True))

    assert quote(rules, snap(start=t(2022, 1, 1), trial_end=trial_end), at).refund == refund


# --- a cancellation that charges: commitments, early-termination fees, arrears -------------


def fee(kind=ChargeKind.REMAINING_COMMITMENT, percent="50") -> ChargeRule:
    return ChargeRule(kind, D(percent), "Cancellation fee", Clause("§fee"))


@pytest.mark.parametrize(
    ("month", "remaining", "due"),
    [
        pytest.param(4, 8, D("200.00"), id="month-4-of-12-eight-left"),
        pytest.param(11, 1, D("25.00"), id="month-11-one-left"),
        pytest.param(12, 0, D("0.00"), id="last-month-nothing-left"),
    ],
)
def test_early_termination_fee_is_a_share_of_the_remaining_commitment(month, remaining, due):
    start = t(2022, 1, 1)
    period_start = t(2022, month, 1)
    snapshot = snap(
        price="50.00",
        start=start,
        period_start=period_start,
        payments=monthly_history(start, month, "50.00"),
        commitment_end=t(2023, 1, 1),
    )
    rules = replace(BASE, charges=(fee(),))

    q = quote(rules, snapshot, period_start + timedelta(days=3))

    assert q.amount_due == due
    assert q.refund == D("0.00")
    if remaining:
        [line] = q.due_lines
        assert line.amount == due and line.clause == "§fee"
        assert f"{remaining} remaining month" in line.label
    else:
        assert q.due_lines == ()


def test_multi_year_commitment_paid_yearly_owes_the_years_left_after_this_one():
    start = t(2022, 1, 1)
    snapshot = snap(
        interval=Interval.YEAR, price="1000.00", start=start, commitment_end=t(2025, 1, 1)
    )
    rules = replace(BASE, charges=(fee(percent="100"),))

    q = quote(rules, snapshot, t(2022, 6, 1))

    assert q.amount_due == D("2000.00")
    assert "2 remaining years" in q.due_lines[0].label


def test_remaining_commitment_is_counted_after_an_immediate_end_and_at_the_discounted_price():
    start = t(2022, 1, 1)
    snapshot = snap(
        price="50.00", start=start, commitment_end=t(2022, 4, 1), discount_percent=D("20")
    )
    rules = replace(
        BASE,
        cancellation_effective=Effective.IMMEDIATELY,
        charges=(fee("remaining_commitment", "100"),),
    )

    # Ends on 10 January: February and March are left, at 40.00 each.
    assert quote(rules, snapshot, t(2022, 1, 10)).amount_due == D("80.00")


def test_no_early_termination_fee_after_a_full_refund_inside_the_window():
    snapshot = snap(price="50.00", commitment_end=t(2023, 1, 1))
    rules = replace(BASE, refund_window=window(14), charges=(fee(),))

    inside = quote(rules, snapshot, t(2022, 1, 16) - MINUTE)
    outside = quote(rules, snapshot, t(2022, 1, 16))

    assert (inside.refund, inside.amount_due) == (D("50.00"), D("0.00"))
    assert (outside.refund, outside.amount_due) == (D("0.00"), D("275.00"))


@pytest.mark.parametrize(
    ("usage", "due"),
    [
        pytest.param("0", D("0.00"), id="nothing-accrued"),
        pytest.param("12.34", D("12.34"), id="accrued"),
    ],
)
def test_usage_billed_in_arrears_comes_due_at_cancellation(usage, due):
    rules = replace(BASE, charges=(fee(ChargeKind.UNBILLED_USAGE, "100"),))

    q = quote(rules, snap(unbilled_usage=D(usage)), t(2022, 1, 10))

    assert q.amount_due == due
    assert len(q.due_lines) == (1 if due else 0)


def test_notice_period_due_is_a_due_line_too():
    q = quote(PRESETS["sync-with-connex"], snap(interval=Interval.YEAR), t(2022, 12, 28))

    assert q.notice_applied
    assert [line.amount for line in q.due_lines] == [q.amount_due]


# --- the customer's choice of timing --------------------------------------------------------


def test_timing_choice_quotes_the_refund_now_and_the_run_to_the_period_end():
    rules = replace(BASE, proration=by_day(), timing_choice=True)

    q = quote(rules, snap(), t(2022, 1, 11))

    assert (q.refund, q.effective, q.ends_at) == (D("67.74"), Effective.IMMEDIATELY, t(2022, 1, 11))
    alternative = q.alternative
    assert alternative is not None and alternative.alternative is None
    assert alternative.refund == D("0.00")
    assert (alternative.effective, alternative.ends_at) == (Effective.PERIOD_END, t(2022, 2, 1))
    assert alternative.access_until == t(2022, 2, 1)


def test_timing_period_end_picks_the_alternative_and_is_ignored_without_a_choice():
    chosen = quote(
        replace(BASE, proration=by_day(), timing_choice=True),
        snap(),
        t(2022, 1, 11),
        timing=Effective.PERIOD_END,
    )
    no_choice = quote(
        replace(BASE, proration=by_day()), snap(), t(2022, 1, 11), timing=Effective.PERIOD_END
    )

    assert (chosen.refund, chosen.ends_at, chosen.alternative) == (D("0.00"), t(2022, 2, 1), None)
    assert (no_choice.refund, no_choice.alternative) == (D("67.74"), None)


def test_no_alternative_when_nothing_is_refunded_anyway():
    q = quote(replace(BASE, timing_choice=True), snap(), t(2022, 1, 11))

    assert q.timing_choice and q.alternative is None


# --- access grace, retention variants, credit lifecycle ------------------------------------


@pytest.mark.parametrize(("grace", "until"), [(0, t(2022, 2, 1)), (15, t(2022, 2, 16))])
def test_access_grace_keeps_read_access_after_the_end(grace, until):
    q = quote(replace(BASE, access_grace_days=grace), snap(), t(2022, 1, 11))

    assert q.ends_at == t(2022, 2, 1)
    assert q.access_until == until


@pytest.mark.parametrize(
    ("counted_from", "until"),
    [(RetentionFrom.END, t(2022, 4, 2)), (RetentionFrom.REQUEST, t(2022, 3, 12))],
)
def test_retention_counted_from_the_end_or_the_request(counted_from, until):
    retention = RetentionRule(60, None, Clause("§r"), counted_from)

    assert (
        quote(replace(BASE, retention=retention), snap(), t(2022, 1, 11)).data_retained_until
        == until
    )


def test_partial_retention_keeps_parts_on_their_own_horizon():
    retention = RetentionRule(
        30,
        None,
        Clause("§r"),
        partial=(
            RetainedData("Backups", 60, Clause("§b")),
            RetainedData("Credentials", None, Clause("§c")),
        ),
    )

    q = quote(replace(BASE, retention=retention), snap(), t(2022, 1, 11))

    assert q.data_retained_until == t(2022, 3, 3)
    assert [(p.what, p.until, p.clause) for p in q.data_kept] == [
        ("Backups", t(2022, 4, 2), "§b"),
        ("Credentials", None, "§c"),
    ]


@pytest.mark.parametrize(
    ("days", "with_plan", "expires"),
    [
        pytest.param(180, False, t(2022, 7, 10), id="180-days-from-the-cancellation"),
        pytest.param(None, True, t(2022, 1, 11), id="when-the-paid-plan-ends"),
        pytest.param(180, True, t(2022, 1, 11), id="whichever-comes-first"),
        pytest.param(None, False, None, id="never"),
    ],
)
def test_credit_given_by_the_cancellation_expires(days, with_plan, expires):
    credit = CreditRule(days, with_plan, False, False, Clause("§credit"))
    rules = replace(
        BASE,
        proration=by_day(),
        refund_destination=Destination.CUSTOMER_CREDIT,
        cancellation_effective=Effective.IMMEDIATELY,
        credit=credit,
    )

    q = quote(rules, snap(), t(2022, 1, 11))

    assert q.destination == Destination.CUSTOMER_CREDIT
    assert q.credit_expires_at == expires


def test_credit_refunded_to_the_card_has_no_expiry():
    credit = CreditRule(180, False, False, False, Clause("§credit"))
    rules = replace(BASE, proration=by_day(), credit=credit)

    assert quote(rules, snap(), t(2022, 1, 11)).credit_expires_at is None


@pytest.mark.parametrize(
    ("paid_out", "balance", "payout"),
    [(True, "25.50", D("25.50")), (True, "0", D("0")), (False, "25.50", D("0"))],
)
def test_credit_balance_paid_out_at_closure(paid_out, balance, payout):
    credit = CreditRule(None, False, True, paid_out, Clause("§payout"))

    q = quote(replace(BASE, credit=credit), snap(credit_balance=D(balance)), t(2022, 1, 11))

    assert q.credit_payout == payout
    assert any(line.clause == "§payout" for line in q.lines) is (payout > 0)
    assert q.refund == sum((line.amount for line in q.lines), D("0"))


# --- usage-conditioned eligibility, provider terminations ----------------------------------


@pytest.mark.parametrize(
    ("last_used_at", "refund"),
    [
        pytest.param(t(2022, 3, 1), D("100.00"), id="not-used-since-renewal"),
        pytest.param(t(2022, 3, 2), D("0.00"), id="used"),
    ],
)
def test_refund_only_if_not_used_since_the_charge(last_used_at, refund):
    rules = replace(
        BASE,
        variants=(
            Variant(
                "unused renewal",
                Condition(used_since_payment=False),
                {"refund_window": window(30, WindowFrom.EACH_PAYMENT)},
                Clause("§unused"),
            ),
        ),
    )
    snapshot = snap(
        period_start=t(2022, 3, 1),
        payments=monthly_history(t(2022, 1, 1), 3),
        last_used_at=last_used_at,
    )

    assert quote(rules, snapshot, t(2022, 3, 10)).refund == refund


@pytest.mark.parametrize(
    ("initiated_by", "refund"), [(Initiator.PROVIDER, D("67.74")), (Initiator.CUSTOMER, D("0.00"))]
)
def test_provider_termination_without_cause_refunds_prorated(initiated_by, refund):
    rules = replace(
        BASE,
        variants=(
            Variant(
                "terminated by us",
                Condition(initiated_by=(Initiator.PROVIDER,)),
                {"proration": by_day(), "cancellation_effective": Effective.IMMEDIATELY},
                Clause("§provider"),
            ),
        ),
    )

    assert quote(rules, snap(), t(2022, 1, 11), initiated_by=initiated_by).refund == refund


@pytest.mark.parametrize(
    ("country", "at", "refund"),
    [
        pytest.param("FR", t(2022, 3, 16) - MINUTE, D("51.61"), id="eu-last-minute-of-14th-day"),
        pytest.param("FR", t(2022, 3, 16), D("0.00"), id="eu-closed-after-the-14th-day"),
        pytest.param("US", t(2022, 3, 11), D("0.00"), id="outside-the-eu"),
    ],
)
def test_eu_window_from_each_renewal_prorated_is_one_variant(country, at, refund):
    """The issue's example: a 14-day window for EU customers counted from each renewal,
    refunding prorated, is one rule, not code."""
    eu_window = RefundWindow(
        14, WindowFrom.EACH_PAYMENT, (K.SUBSCRIPTION,), Clause("§eu"), prorated_by=Proration.BY_DAY
    )
    rules = replace(
        BASE,
        variants=(
            Variant(
                "EU withdrawal",
                Condition(regions=(Region.EU,)),
                {"refund_window": eu_window},
                Clause("§eu"),
            ),
        ),
    )
    snapshot = snap(
        period_start=t(2022, 3, 1), payments=monthly_history(t(2022, 1, 1), 3), country=country
    )

    # 15 March 23:59 (the 14th day after 1 March): 16 whole days of March's 31 are left.
    assert quote(rules, snapshot, at).refund == refund


# --- interval switches --------------------------------------------------------------------


def switching(to_longer=None, to_shorter=None):
    return replace(
        BASE,
        changes=replace(BASE.changes, to_longer_interval=to_longer, to_shorter_interval=to_shorter),
    )


@pytest.mark.parametrize(
    ("rules", "effective_at"),
    [
        pytest.param(switching(), t(2022, 1, 10), id="unset-the-upgrade-rule-decides"),
        pytest.param(
            switching(to_shorter=Effective.PERIOD_END),
            t(2023, 1, 1),
            id="to-shorter-waits-for-the-renewal",
        ),
        pytest.param(
            switching(to_shorter=Effective.IMMEDIATELY), t(2022, 1, 10), id="to-shorter-now"
        ),
    ],
)
def test_switch_from_yearly_to_monthly_follows_the_interval_rule(rules, effective_at):
    snapshot = snap(interval=Interval.YEAR, price="1000.00")

    change = quote_plan_change(
        rules=rules,
        policy_label="t@1",
        snapshot=snapshot,
        new_price=D("100.00"),
        new_interval=Interval.MONTH,
        at=t(2022, 1, 10),
    )

    assert change.effective_at == effective_at


def test_switch_to_a_shorter_interval_waits_for_the_end_of_the_commitment():
    snapshot = snap(interval=Interval.YEAR, price="1000.00", commitment_end=t(2025, 1, 1))

    change = quote_plan_change(
        rules=switching(to_shorter=Effective.PERIOD_END),
        policy_label="t@1",
        snapshot=snapshot,
        new_price=D("100.00"),
        new_interval=Interval.MONTH,
        at=t(2022, 1, 10),
    )

    assert change.effective_at == t(2025, 1, 1)
    assert change.net == D("0")


@pytest.mark.parametrize(
    ("rules", "effective_at"),
    [
        # 1,000 a year is less than 12 x 100: a downgrade, which orgix defers to period end.
        pytest.param(switching(), t(2022, 2, 1), id="unset-the-downgrade-rule-decides"),
        pytest.param(
            switching(to_longer=Effective.IMMEDIATELY), t(2022, 1, 11), id="to-longer-any-time"
        ),
    ],
)
def test_switch_from_monthly_to_yearly_follows_the_interval_rule(rules, effective_at):
    change = quote_plan_change(
        rules=rules,
        policy_label="t@1",
        snapshot=snap(price="100.00"),
        new_price=D("1000.00"),
        new_interval=Interval.YEAR,
        at=t(2022, 1, 11),
    )

    assert change.effective_at == effective_at
