"""Pause: the pure helper, the engine's quotes while paused, the services, and a year of
renewals with a pause in it (the renewal job resumes it)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditRecord
from billing.errors import DomainError, InvalidTransition
from billing.models import Payment, Subscription
from billing.policy.pauses import pause_window, period_end_on_resume
from billing.selectors import quote_for_subscription
from billing.services.pauses import (
    subscription_pause,
    subscription_resume,
    subscriptions_resume_due,
)
from billing.services.renewals import subscriptions_renew_due
from tests.factories.cancellations import MID_PERIOD, refundable_connex
from tests.factories.lifecycle import ScriptedGateway, family_plans, subscription_on

UTC = dt.UTC


def d(month: int, day: int, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


def test_pause_window_moves_the_period_end_by_the_calendar_months():
    window = pause_window(period_end=d(2, 15), at=d(1, 31), months=1)

    assert window.resumes_at == d(2, 28)  # Jan 31 + 1 month, clamped
    assert window.period_end == d(2, 15) + (d(2, 28) - d(1, 31))
    assert window.length == dt.timedelta(days=28)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (d(3, 1), d(5, 15) - dt.timedelta(days=31)),  # a month early: a month back
        (d(4, 1), d(5, 15)),  # on time: unchanged
        (d(4, 3), d(5, 15)),  # the job came late: nothing given back twice
    ],
)
def test_resuming_early_gives_back_the_unused_pause(at, expected):
    assert period_end_on_resume(period_end=d(5, 15), resumes_at=d(4, 1), at=at) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("months", [0, 13, "2"])
def test_a_pause_length_out_of_range_names_the_months(months):
    with pytest.raises(DomainError) as caught:
        subscription_pause(
            subscription=refundable_connex(), months=months, actor=None, now=MID_PERIOD
        )
    assert caught.value.field == "months"


@pytest.mark.django_db
def test_only_an_active_subscription_pauses():
    subscription = refundable_connex(status=Subscription.Status.PAST_DUE)

    with pytest.raises(InvalidTransition) as caught:
        subscription_pause(subscription=subscription, months=1, actor=None, now=MID_PERIOD)

    assert caught.value.field == "status"
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and subscription.paused_at is None


@pytest.mark.django_db
def test_the_quote_while_paused_is_the_quote_at_the_pause_with_dates_moved():
    """connex, bought on PERIOD_START: inside the 30-day window at the pause (day 9).
    Sixty days into a three-month pause the window's clock still reads day 9, so the
    refund is the same; the end moves with the pause (the clock stood still)."""
    subscription = refundable_connex()
    at_pause = quote_for_subscription(subscription, at=MID_PERIOD)
    subscription_pause(subscription=subscription, months=3, actor=None, now=MID_PERIOD)
    subscription.refresh_from_db()

    later = MID_PERIOD + dt.timedelta(days=60)
    paused = quote_for_subscription(subscription, at=later)

    assert at_pause.refund == Decimal("100.00") and paused.refund == at_pause.refund
    assert paused.effective == at_pause.effective == "immediately"
    assert paused.ends_at == later and paused.access_until == at_pause.access_until + (
        later - MID_PERIOD
    )


@pytest.mark.django_db
def test_pausing_and_resuming_early_are_audited_and_move_the_renewal():
    subscription = refundable_connex()
    period_end = subscription.current_period_end
    paused = subscription_pause(subscription=subscription, months=2, actor=None, now=MID_PERIOD)
    resumes_at = paused.resumes_at

    resumed = subscription_resume(
        subscription=subscription, actor=None, now=MID_PERIOD + dt.timedelta(days=10)
    )

    assert resumes_at == dt.datetime(2026, 5, 10, 12, tzinfo=UTC)
    assert paused.current_period_end == period_end + (resumes_at - MID_PERIOD)
    assert resumed.status == "active" and resumed.paused_at is None
    assert resumed.current_period_end == period_end + dt.timedelta(days=10)
    actions = AuditRecord.objects.filter(target_id=str(subscription.pk)).values_list(
        "action", flat=True
    )
    assert {"subscription.pause", "subscription.resume"} <= set(actions)
    with pytest.raises(InvalidTransition):
        subscription_resume(subscription=subscription, actor=None, now=MID_PERIOD)


@pytest.mark.django_db
def test_a_paused_subscription_stays_live_so_it_is_never_purged_for_inactivity():
    from accounts.services.purge import purge_blockers

    subscription = refundable_connex()
    subscription_pause(subscription=subscription, months=3, actor=None, now=MID_PERIOD)
    subscription.refresh_from_db()

    assert subscription.is_live
    assert "live paid subscription" in purge_blockers(subscription.workspace)


@pytest.mark.django_db
def test_a_year_with_a_pause_bills_nothing_while_paused_and_the_renewal_job_resumes():
    """orgix Pro, 100.00 a month from Jan 1. Paused on Mar 10 for two months: Mar 10 to
    May 10 is free, the March period (paid on Mar 1) runs on after the pause, so the
    next renewal is Jun 1 instead of Apr 1, and the 1st of each month after that."""
    plans = family_plans("orgix")
    gateway = ScriptedGateway()
    start = d(1, 1)
    subscription = subscription_on(plans["pro"], start=start)
    pause_at = dt.datetime(2025, 3, 10, 0, tzinfo=UTC)
    shift = dt.timedelta(days=61)  # Mar 10 -> May 10: Apr 1 becomes Jun 1
    seen_paused = []

    moment = start
    while moment < d(12, 31):
        with time_machine.travel(moment + dt.timedelta(hours=1), tick=False):
            now = timezone.now()
            if moment == pause_at:
                subscription_pause(subscription=subscription, months=2, actor=None, now=now)
            subscriptions_renew_due(now=now, gateway=gateway)
            seen_paused.append(
                Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.PAUSED
            )
        moment += dt.timedelta(days=1)

    periods = [
        p.period_start
        for p in Payment.objects.filter(subscription=subscription, status="succeeded").order_by(
            "id"
        )
    ]
    assert periods[:2] == [d(2, 1), d(3, 1)]
    assert periods[2:] == [d(month, 1) for month in range(6, 13)]
    assert d(4, 1) + shift == d(6, 1)
    assert sum(seen_paused) == 61  # paused from Mar 10 until the job on May 10 resumed it
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.resumes_at is None
    assert subscriptions_resume_due(now=d(12, 31)) == 0
