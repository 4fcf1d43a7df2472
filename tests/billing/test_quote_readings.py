"""Readings fixed in the second fidelity pass (issue #11), clause by clause, each with the
boundary minute on either side. Pure: no database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.policy.engine import quote_cancellation
from billing.policy.presets import CONNEX, ORGIX, PRESETS, PRORATED_CREDIT, SYNC_WITH_CONNEX
from billing.policy.render import quote_text
from billing.policy.rules import (
    DayCount,
    Interval,
    Money,
    NoAmountInCurrency,
    PaymentKind,
    PolicyRules,
    ServiceDeduction,
    ServiceKind,
    WindowFrom,
)
from billing.policy.snapshot import PaymentSnapshot, ServiceSnapshot, SubscriptionSnapshot
from billing.policy.window_refunds import window_start

D = Decimal
K = PaymentKind
MINUTE = timedelta(minutes=1)


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def subscription(
    *,
    start: datetime,
    interval: Interval = Interval.MONTH,
    price: str = "1000.00",
    currency: str = "USD",
    trial_end: datetime | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    payments: tuple[PaymentSnapshot, ...] | None = None,
    **kw,
) -> SubscriptionSnapshot:
    period_start = period_start or trial_end or start
    months = 12 if interval == Interval.YEAR else 1
    if period_end is None:
        from billing.policy.calendars import add_months

        period_end = add_months(period_start, months)
    if payments is None:
        payments = (PaymentSnapshot("sub", K.SUBSCRIPTION, D(price), period_start),)
    return SubscriptionSnapshot(
        currency=currency,
        interval=interval,
        price=D(price),
        subscribed_at=start,
        trial_end=trial_end,
        period_start=period_start,
        period_end=period_end,
        payments=payments,
        **kw,
    )


def quote(rules: PolicyRules, snapshot: SubscriptionSnapshot, at: datetime):
    return quote_cancellation(rules=rules, policy_label="test@1", snapshot=snapshot, at=at)


# --- 1. where a window ends -----------------------------------------------------------

JAN_1_10H = t(2022, 1, 1, 10)
WINDOW_CASES = [
    # rules, snapshot, at, refund
    pytest.param(
        CONNEX,
        subscription(start=JAN_1_10H),
        t(2022, 1, 31, 10),
        "1000.00",
        id="connex 'within 30 days of initial purchase': exactly 30 days to the minute is in",
    ),
    pytest.param(
        CONNEX,
        subscription(start=JAN_1_10H),
        t(2022, 1, 31, 23, 59),
        "1000.00",
        id="connex 30-day window: the last minute of the 30th day is in",
    ),
    pytest.param(
        CONNEX,
        subscription(start=JAN_1_10H),
        t(2022, 2, 1),
        "0.00",
        id="connex 30-day window: the first minute of the 31st day is out",
    ),
    pytest.param(
        SYNC_WITH_CONNEX,
        subscription(start=JAN_1_10H, interval=Interval.YEAR, price="2400.00"),
        t(2022, 1, 31, 23, 59),
        "2400.00",
        id="sync 'within 30 days of initial signup': the last minute of the 30th day is in",
    ),
    pytest.param(
        SYNC_WITH_CONNEX,
        subscription(start=JAN_1_10H, interval=Interval.YEAR, price="2400.00"),
        t(2022, 2, 1),
        str(round(D("2400.00") * 334 / 365, 2) - D("399.00")),  # prorated minus the fee
        id="sync 30-day window: the first minute of the 31st day is out (proration applies)",
    ),
    pytest.param(
        CONNEX,
        subscription(
            start=t(2022, 1, 1), trial_end=t(2022, 1, 15), interval=Interval.YEAR, price="1200"
        ),
        t(2022, 2, 14, 23, 59),
        str(round(D("1200") * 334 / 365, 2)),  # 334 whole days left of 365
        id="connex §Free Trials annual 'pro-rate for the first 30 days': last minute is in",
    ),
    pytest.param(
        CONNEX,
        subscription(
            start=t(2022, 1, 1), trial_end=t(2022, 1, 15), interval=Interval.YEAR, price="1200"
        ),
        t(2022, 2, 15),
        "0.00",
        id="connex §Free Trials annual: the 31st day after the trial is not refunded",
    ),
    pytest.param(
        replace(CONNEX, time_zone="America/New_York"),
        subscription(start=JAN_1_10H),  # 05:00 on 1 January in New York
        t(2022, 2, 1, 4, 59),  # 23:59 on 31 January in New York
        "1000.00",
        id="policy time zone: the window closes at the end of 31 January in New York (in)",
    ),
    pytest.param(
        replace(CONNEX, time_zone="America/New_York"),
        subscription(start=JAN_1_10H),
        t(2022, 2, 1, 5),
        "0.00",
        id="policy time zone: midnight in New York, 05:00 UTC, is out",
    ),
    pytest.param(
        replace(CONNEX, refund_window=replace(CONNEX.refund_window, counted=DayCount.ELAPSED)),
        subscription(start=JAN_1_10H),
        t(2022, 1, 31, 10),
        "1000.00",
        id="elapsed counting: N x 24 hours after the start, to the minute, is in",
    ),
    pytest.param(
        replace(CONNEX, refund_window=replace(CONNEX.refund_window, counted=DayCount.ELAPSED)),
        subscription(start=JAN_1_10H),
        t(2022, 1, 31, 10, 1),
        "0.00",
        id="elapsed counting: the minute after is out",
    ),
]


@pytest.mark.parametrize(("rules", "snapshot", "at", "refund"), WINDOW_CASES)
def test_window_is_inclusive_by_calendar_days(rules, snapshot, at, refund):
    assert quote(rules, snapshot, at).refund == D(refund)


def test_quote_shows_until_when_the_refund_window_runs():
    q = quote(CONNEX, subscription(start=JAN_1_10H), t(2022, 1, 5))

    assert q.refund_window_until == t(2022, 1, 31, 23, 59)
    assert q.to_dict()["refund_window_until"] == "2022-01-31T23:59:00+00:00"
    assert "Refund window:       until 31 January 2022 23:59 UTC" in quote_text(q)


def test_quote_shows_no_window_where_the_policy_has_none_or_it_does_not_apply():
    after_trial = subscription(start=t(2022, 1, 1), trial_end=t(2022, 1, 15))

    assert quote(ORGIX, subscription(start=JAN_1_10H), t(2022, 1, 5)).refund_window_until is None
    assert quote(CONNEX, after_trial, t(2022, 1, 20)).refund_window_until is None


# --- 5. when the window starts after a free trial ------------------------------------------

TRIAL_START, TRIAL_END = t(2022, 1, 1), t(2022, 1, 15)


def trial_account(paid_at: datetime = TRIAL_END) -> SubscriptionSnapshot:
    """Signed up for a free trial on 1 January, activated with a paid month at `paid_at`."""
    return subscription(
        start=TRIAL_START,
        trial_end=TRIAL_END,
        price="149.00",
        payments=(PaymentSnapshot("sub", K.SUBSCRIPTION, D("149.00"), paid_at),),
    )


@pytest.mark.parametrize(
    ("snapshot", "at", "refund"),
    [
        pytest.param(
            trial_account(),
            t(2022, 2, 5),
            "149.00",
            id="sync: 30 days run from the first paid signup, not from the free trial's start",
        ),
        pytest.param(
            trial_account(),
            t(2022, 2, 14, 23, 59),
            "149.00",
            id="sync: the last minute of the 30th day after the first payment is in",
        ),
        pytest.param(
            trial_account(),
            t(2022, 2, 15),
            "0.00",
            id="sync: the first minute after is out (month-to-month after 30 days)",
        ),
        pytest.param(
            trial_account(paid_at=t(2022, 1, 10)),
            t(2022, 2, 9, 23, 59),
            "149.00",
            id="sync: a trial activated early, the window runs from that payment (in)",
        ),
        pytest.param(
            trial_account(paid_at=t(2022, 1, 10)),
            t(2022, 2, 10),
            "0.00",
            id="sync: a trial activated early (out)",
        ),
    ],
)
def test_sync_window_runs_from_the_first_payment(snapshot, at, refund):
    assert quote(SYNC_WITH_CONNEX, snapshot, at).refund == D(refund)


@pytest.mark.parametrize(
    ("anchor", "paid_at", "start"),
    [
        pytest.param(WindowFrom.SIGNUP, TRIAL_END, TRIAL_START, id="signup"),
        pytest.param(WindowFrom.TRIAL_END, t(2022, 1, 10), TRIAL_END, id="trial end"),
        pytest.param(WindowFrom.FIRST_PAYMENT, t(2022, 1, 10), t(2022, 1, 10), id="first payment"),
        pytest.param(
            WindowFrom.FIRST_PAYMENT,
            t(2022, 3, 1),
            TRIAL_END,
            id="first payment: a later payment is a renewal, the trial end comes first",
        ),
    ],
)
def test_window_anchor_is_a_rule_field(anchor, paid_at, start):
    assert window_start(anchor, trial_account(paid_at)) == start


def test_presets_name_their_window_anchor():
    assert SYNC_WITH_CONNEX.refund_window.counted_from == WindowFrom.FIRST_PAYMENT
    assert CONNEX.refund_window.counted_from == WindowFrom.TRIAL_END


# --- 2. what is still due -----------------------------------------------------------------

MARCH = t(2022, 3, 1)


def renewed(price: str, *, march_paid: bool, **kw) -> SubscriptionSnapshot:
    """Since 1 January, monthly; January and February paid, March paid or not."""
    months = [t(2022, 1, 1), t(2022, 2, 1)] + ([MARCH] if march_paid else [])
    payments = tuple(
        PaymentSnapshot(
            f"m{i}",
            K.SUBSCRIPTION,
            D(price),
            paid_at,
            period_start=paid_at,
            period_end=paid_at.replace(month=paid_at.month + 1),
        )
        for i, paid_at in enumerate(months)
    )
    return subscription(
        start=t(2022, 1, 1), price=price, period_start=MARCH, payments=payments, **kw
    )


DUE_CASES = [
    # slug, price, march paid, at, amount due, clause fragment
    pytest.param(
        "connex",
        "100.00",
        False,
        t(2022, 3, 10),
        "100.00",
        "current month",
        id="connex 'responsible for the current month's payment': unpaid is due",
    ),
    pytest.param(
        "connex",
        "100.00",
        True,
        t(2022, 3, 10),
        "0.00",
        None,
        id="connex: a paid current month, nothing more is due",
    ),
    pytest.param(
        "sync-with-connex",
        "149.00",
        False,
        t(2022, 3, 10),
        "149.00",
        "if not already paid",
        id="sync 'minus the current month (if not already paid)': unpaid is due",
    ),
    pytest.param(
        "sync-with-connex",
        "149.00",
        True,
        t(2022, 3, 10),
        "0.00",
        None,
        id="sync: the current month already paid, nothing more is due",
    ),
    pytest.param(
        "sync-with-connex",
        "149.00",
        False,
        t(2022, 3, 28),
        "298.00",
        "if not already paid",
        id="sync: unpaid current month plus the next one inside the 7-day notice",
    ),
    pytest.param(
        "orgix",
        "35.00",
        False,
        t(2022, 3, 10),
        "0.00",
        None,
        id="orgix §4: the text asks nothing more than the paid period",
    ),
    pytest.param(
        "connex",
        "100.00",
        False,
        MARCH,
        "100.00",
        "current month",
        id="connex: from the first minute of the unpaid period",
    ),
]


@pytest.mark.parametrize(("slug", "price", "paid", "at", "due", "clause"), DUE_CASES)
def test_unpaid_current_period_is_still_due(slug, price, paid, at, due, clause):
    currency = "EUR" if slug == "orgix" else "USD"

    q = quote(PRESETS[slug], renewed(price, march_paid=paid, currency=currency), at)

    assert q.amount_due == D(due)
    unpaid = [line for line in q.lines if "is unpaid" in line.label]
    assert bool(unpaid) is (clause is not None)
    if clause:
        assert clause in unpaid[0].clause and unpaid[0].amount == 0
        assert "01 March 2022 to 01 April 2022" in unpaid[0].label


def test_the_last_minute_before_an_unpaid_period_owes_nothing_for_it():
    february = replace(
        renewed("100.00", march_paid=False), period_start=t(2022, 2, 1), period_end=MARCH
    )

    assert quote(CONNEX, february, MARCH - MINUTE).amount_due == 0


# --- 3. a fee charged once, not twice -------------------------------------------------------

ANNUAL = {"start": t(2022, 1, 1), "interval": Interval.YEAR, "price": "2400.00"}
FIRST_YEAR = t(2022, 7, 1)  # 184 of 365 days left: 2400 x 184/365 = 1209.86


@pytest.mark.parametrize(
    ("payments", "refund", "fee_line"),
    [
        pytest.param(
            (PaymentSnapshot("sub", K.SUBSCRIPTION, D("2400.00"), t(2022, 1, 1)),),
            "810.86",
            ("One-time activation fee", D("-399.00")),
            id="sync 'minus our one-time activation fee': not charged separately, deducted",
        ),
        pytest.param(
            (
                PaymentSnapshot("fee", K.ACTIVATION_FEE, D("399.00"), t(2022, 1, 1)),
                PaymentSnapshot("sub", K.SUBSCRIPTION, D("2400.00"), t(2022, 1, 1)),
            ),
            "1209.86",
            ("One-time activation fee: charged separately, not deducted again", D("0.00")),
            id="sync activation fee charged as its own payment: kept, not deducted again",
        ),
    ],
)
def test_sync_activation_fee_is_charged_once(payments, refund, fee_line):
    q = quote(SYNC_WITH_CONNEX, subscription(payments=payments, **ANNUAL), FIRST_YEAR)

    assert q.refund == D(refund)
    assert fee_line in [(line.label, line.amount) for line in q.lines]
    assert all(p.payment_ref != "fee" for p in q.payment_refunds)  # the fee is never refunded


# --- 4. money in the policy has a currency -------------------------------------------------

PRELIMINARY = (ServiceSnapshot(ServiceKind.PRELIMINARY_CALL, t(2022, 1, 3)),)


def test_connex_deduction_in_another_currency_is_refused_naming_the_rule():
    euros = subscription(start=t(2022, 1, 1), currency="EUR", services=PRELIMINARY)

    with pytest.raises(NoAmountInCurrency) as refused:
        quote(CONNEX, euros, t(2022, 1, 10))

    assert refused.value.field == "service_deductions[0].amount"
    assert "connex §30-Day Refund schedule 1" in refused.value.message
    assert "250.00 USD" in refused.value.message and "EUR" in refused.value.message


def test_sync_activation_fee_in_another_currency_is_refused_naming_the_rule():
    yen = subscription(currency="JPY", **{**ANNUAL, "price": "240000"})

    with pytest.raises(NoAmountInCurrency) as refused:
        quote(SYNC_WITH_CONNEX, yen, FIRST_YEAR)

    assert refused.value.field == "proration[0].fixed_deduction"


def test_a_version_that_defines_the_currency_uses_its_own_amount():
    schedule = (
        ServiceDeduction(
            ServiceKind.PRELIMINARY_CALL,
            (Money(D("250.00"), "USD"), Money(D("230.00"), "EUR")),
            CONNEX.service_deductions[0].clause,
        ),
    )
    euros = subscription(start=t(2022, 1, 1), currency="EUR", services=PRELIMINARY)

    q = quote(replace(CONNEX, service_deductions=schedule), euros, t(2022, 1, 10))

    assert q.refund == D("770.00")


def test_a_rule_without_fixed_amounts_applies_in_any_currency():
    euros = subscription(start=t(2022, 1, 1), currency="EUR")  # nothing rendered: no deduction

    assert quote(CONNEX, euros, t(2022, 1, 10)).refund == D("1000.00")


def test_rules_stored_before_amounts_had_a_currency_still_load():
    stored = json.loads(json.dumps(CONNEX.to_dict()))
    stored["service_deductions"][0]["amount"] = "250.00"
    stored["refund_window"]["counted_from"] = "purchase"
    for name in ("time_zone", "access_ends", "unpaid_period_due"):
        del stored[name]
    stored["proration"][0]["fixed_deduction"] = "0"

    rules = PolicyRules.from_dict(stored)

    assert rules.service_deductions[0].amount == (Money(D("250.00"), "USD"),)
    assert rules.refund_window.counted_from == WindowFrom.TRIAL_END
    assert rules.proration[0].fixed_deduction == ()
    assert rules.time_zone == "UTC"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"time_zone": "Mars/Olympus"}, "time_zone", id="unknown time zone"),
        pytest.param(
            {
                "service_deductions": [
                    {
                        "service": "onboarding",
                        "clause": {"ref": "x"},
                        "amount": [{"amount": "750", "currency": "XYZ"}],
                    }
                ]
            },
            "unknown currency",
            id="fixed amount in an unknown currency",
        ),
    ],
)
def test_rules_with_bad_zone_or_currency_are_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        PolicyRules.from_dict({**CONNEX.to_dict(), **change})


# --- 8. fixed points of time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "period_end", "ends"),
    [
        pytest.param(
            CONNEX,
            t(2021, 12, 15),
            t(2021, 12, 16),
            id="connex 'the 15th is the last day': a period ending at midnight",
        ),
        pytest.param(
            CONNEX,
            t(2021, 12, 15, 8),
            t(2021, 12, 16),
            id="connex 'the 15th is the last day': a period ending at 08:00",
        ),
        pytest.param(
            CONNEX,
            t(2021, 12, 15, 23, 59),
            t(2021, 12, 16),
            id="connex: a period ending in the last minute of the 15th",
        ),
        pytest.param(
            replace(CONNEX, time_zone="America/New_York"),
            t(2021, 12, 15, 3),
            t(2021, 12, 15, 5),
            id="connex in New York: 03:00 UTC is still the 14th, the 14th ends at 05:00",
        ),
        pytest.param(
            ORGIX,
            t(2021, 12, 15, 8),
            t(2021, 12, 15, 8),
            id="orgix §4 'until the end of the already paid billing period': an instant",
        ),
    ],
)
def test_a_day_named_by_the_text_ends_at_the_end_of_that_day(rules, period_end, ends):
    s = subscription(
        start=t(2021, 6, 15),
        period_start=t(2021, 11, 15),
        period_end=period_end,
        currency="EUR" if rules is ORGIX else "USD",
    )

    q = quote(rules, s, t(2021, 12, 1))

    assert (q.ends_at, q.access_until) == (ends, ends)


def test_prorated_credit_still_ends_at_the_cancellation_instant():
    q = quote(PRORATED_CREDIT, subscription(start=t(2022, 1, 1), price="100.00"), t(2022, 1, 11))

    assert q.ends_at == q.access_until == t(2022, 1, 11)
