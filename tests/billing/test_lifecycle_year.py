"""A year in the life of a subscription, on each preset, with the clock travelling.

Every day the three jobs run in beat order (plan changes, renewals, dunning). On given
days the customer acts: a 14-day trial, an upgrade, an add-on, a declined renewal and its
recovery, an add-on removed, a downgrade (connex: inside its 10-day notice), a cancellation.
Every payment row is checked to the cent, and the refund a cancellation would pay is the
engine's quote.

The cancellation service belongs to the cancellations branch; here `cancel` sets the
cancellation fields the way it does (at the period end, or now with a refund for
prorated-credit), which is all the renewal job reads.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditRecord, Workspace
from billing.models import Payment
from billing.selectors import quote_for_subscription
from billing.services.addons import addon_add, addon_remove
from billing.services.dunning_job import dunning_run_due
from billing.services.period_end_plans import plan_changes_apply_due
from billing.services.plan_changes import (
    subscription_downgrade,
    subscription_upgrade,
)
from billing.services.renewals import subscriptions_renew_due
from tests.factories.lifecycle import ScriptedGateway, add_members, family_plans, subscription_on

pytestmark = pytest.mark.django_db
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def d(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=dt.UTC)


def cancel(subscription, *, immediately: bool, now: dt.datetime) -> None:
    """What the cancellation service leaves for the renewal job to read."""
    subscription.cancel_at_period_end = not immediately
    subscription.cancelled_at = now
    subscription.cancel_effective_at = now if immediately else subscription.current_period_end
    subscription.save()


# policy: (upgrade charge on Jan 25 12:00, renewal on May 15, refund quoted on Nov 20)
EXPECTED = {
    # Upgrades prorated by whole days left (20 of 31); the downgrade asked on May 8 is
    # inside the 10-day notice, so May is still billed on Max; no prorated refunds.
    "connex": (Decimal("64.52"), Decimal("200.00"), Decimal("0.00")),
    "sync-with-connex": (Decimal("64.52"), Decimal("50.00"), Decimal("0.00")),
    # To the minute: 20.5 of 31 days.
    "orgix": (Decimal("66.13"), Decimal("50.00"), Decimal("0.00")),
    # Cancelling refunds the unused time as credit: 25 of 30 days of 50.00.
    "prorated-credit": (Decimal("66.13"), Decimal("50.00"), Decimal("41.67")),
}


@pytest.mark.parametrize("policy", list(EXPECTED))
def test_a_year_of_subscription_lifecycle(policy):
    upgrade_charge, may_renewal, refund = EXPECTED[policy]
    plans = family_plans(policy)
    gateway = ScriptedGateway()
    subscription = subscription_on(plans["pro"], start=START, trial_days=14)
    add_members(subscription.workspace, 4)  # 5 seats: fine on Pro and Max, 3 too many on Basic
    addon = None

    def on(moment):
        nonlocal addon
        now = timezone.now()
        if moment == d(1, 25, 12):
            subscription_upgrade(
                subscription=subscription, plan=plans["max"], actor=None, now=now, gateway=gateway
            )
        elif moment == d(2, 1):
            addon, _ = addon_add(
                subscription=subscription,
                kind="extra_seats",
                quantity=2,
                actor=None,
                now=now,
                gateway=gateway,
            )
        elif moment == d(3, 15):
            gateway.declining = True
        elif moment == d(3, 18):
            gateway.declining = False
        elif moment == d(4, 20):
            addon_remove(addon=addon, actor=None, now=now)
        elif moment == d(5, 8):
            subscription_downgrade(
                subscription=subscription, plan=plans["basic"], actor=None, now=now
            )
        elif moment == d(11, 20):
            subscription.refresh_from_db()
            assert quote_for_subscription(subscription, at=now).refund == refund
            cancel(subscription, immediately=policy == "prorated-credit", now=now)

    events = {d(1, 25, 12), d(2, 1), d(3, 15), d(3, 18), d(4, 20), d(5, 8), d(11, 20)}
    moment = START
    while moment < d(12, 31):
        for event in sorted(e for e in events if moment <= e < moment + dt.timedelta(days=1)):
            with time_machine.travel(event, tick=False):
                on(event)
        with time_machine.travel(moment + dt.timedelta(hours=1), tick=False):
            now = timezone.now()
            plan_changes_apply_due(now=now)
            subscriptions_renew_due(now=now, gateway=gateway)
            dunning_run_due(now=now, gateway=gateway)
        if moment == d(3, 15):
            workspace = Workspace.objects.get(pk=subscription.workspace_id)
            assert (workspace.status, workspace.suspension_reason) == ("restricted", "non_payment")
        moment += dt.timedelta(days=1)

    rows = [
        (p.kind, p.status, p.amount, p.period_start)
        for p in Payment.objects.filter(subscription=subscription).order_by("id")
    ]
    s, ok, failed = "subscription", "succeeded", "failed"
    assert rows == [
        (s, ok, Decimal("100.00"), d(1, 15)),  # the trial converts
        ("upgrade_proration", ok, upgrade_charge, d(1, 25, 12)),
        ("add_on", ok, Decimal("4.52"), d(2, 1)),  # 10.00 x 14/31 days left
        (s, ok, Decimal("210.00"), d(2, 15)),  # Max + the add-on
        (s, failed, Decimal("210.00"), d(3, 15)),  # declined: dunning
        (s, failed, Decimal("210.00"), d(3, 15)),  # first retry, a day later
        (s, ok, Decimal("210.00"), d(3, 15)),  # second retry (day 3) pays the same period
        (s, ok, Decimal("210.00"), d(4, 15)),
        (s, ok, may_renewal, d(5, 15)),  # the add-on ended; the downgrade, unless notice
        *[(s, ok, Decimal("50.00"), d(month, 15)) for month in range(6, 12)],
        # cancelled on Nov 20: nothing charged on Dec 15
    ]
    succeeded = sum(amount for _, status, amount, _ in rows if status == ok)
    assert sum(amount for _, amount in gateway.charges) == succeeded
    subscription.refresh_from_db()
    assert subscription.plan == plans["basic"] and subscription.status == "active"
    assert subscription.current_period_end == d(12, 15)
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    assert workspace.status == "restricted"  # 5 seats on Basic's 3
    assert "Basic plan allows 3 seats; this workspace uses 5" in (
        AuditRecord.objects.filter(action="workspace.status").latest("id").note
    )
