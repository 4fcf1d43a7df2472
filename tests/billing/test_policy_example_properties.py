"""Properties that hold for every example policy, whatever the subscription's attributes
(hypothesis): the invariants of the house presets, plus what the new concepts promise."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.policy.calendars import add_months, interval_months
from billing.policy.examples import EXAMPLE_POLICIES
from billing.policy.rules import Channel, Interval, PaymentMethod
from billing.policy.snapshot import PaymentSnapshot, SubscriptionSnapshot

from .policy_cases import D, K, quote, t

RULES = [rules for versions in EXAMPLE_POLICIES.values() for _title, rules in versions]


@st.composite
def cases(draw):
    rules = draw(st.sampled_from(RULES))
    interval = draw(st.sampled_from(list(Interval)))
    months = interval_months(interval)
    start = t(2022, 1, 1) + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60)))
    trial = draw(st.sampled_from([None, 14]))
    trial_end = start + timedelta(days=trial) if trial else None
    paid_from = trial_end or start
    renewals = draw(st.integers(0, 3))
    price = D(draw(st.integers(0, 100_000))).scaleb(-2)
    payments = tuple(
        PaymentSnapshot(f"p{i}", K.SUBSCRIPTION, price, add_months(paid_from, i * months))
        for i in range(renewals + draw(st.sampled_from([0, 1])))  # the current one may be unpaid
    )
    period_start = add_months(paid_from, renewals * months)
    commitment = draw(st.sampled_from([None, 12, 36]))
    snapshot = SubscriptionSnapshot(
        currency="USD",
        interval=interval,
        price=price,
        subscribed_at=start,
        trial_end=trial_end,
        period_start=period_start,
        period_end=add_months(period_start, months),
        payments=payments,
        status=draw(st.sampled_from(["active", "past_due"])),
        channel=draw(st.sampled_from(list(Channel))),
        payment_method=draw(st.sampled_from(list(PaymentMethod))),
        country=draw(st.sampled_from(["", "US", "CA", "DE", "FR", "GB"])),
        commitment_end=add_months(start, commitment) if commitment else None,
        last_used_at=draw(st.sampled_from([None, start, period_start + timedelta(days=2)])),
        unbilled_usage=D(draw(st.integers(0, 5_000))).scaleb(-2),
        credit_balance=D(draw(st.integers(0, 5_000))).scaleb(-2),
    )
    span = int((snapshot.period_end - period_start).total_seconds() // 60)
    at = period_start + timedelta(minutes=draw(st.integers(0, span - 1)))
    return rules, snapshot, max(at, start)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_example_policy_quote_properties(case):
    rules, snapshot, at = case

    q = quote(rules, snapshot, at)

    remainders = {p.ref: p.amount - p.refunded for p in snapshot.payments}
    assert q.refund >= 0
    assert sum((line.amount for line in q.lines), D(0)) == q.refund
    for refunded in q.payment_refunds:
        assert 0 < refunded.amount <= remainders[refunded.payment_ref]
    assert q.amount_due >= 0
    assert sum((line.amount for line in q.due_lines), D(0)) == q.amount_due
    assert set(q.variants) <= {variant.name for variant in rules.variants}
    assert q.ends_at >= at
    assert q.access_until <= q.ends_at + timedelta(days=rules.access_grace_days)
    assert quote(rules, snapshot, at) == q
    if q.alternative is not None:
        assert rules.timing_choice
        assert q.alternative.refund <= q.refund
        assert q.alternative.ends_at >= q.ends_at
