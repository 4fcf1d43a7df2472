"""Upgrades, downgrades, add-ons and order packs."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditRecord, Workspace
from billing.errors import DomainError
from billing.models import AddOn, Payment
from billing.services.addons import addon_add, addon_remove, order_pack_buy
from billing.services.period_end_plans import plan_changes_apply_due
from billing.services.plan_changes import (
    plan_change_preview,
    subscription_change_plan,
    subscription_downgrade,
    subscription_upgrade,
    workspace_limits_enforce,
)
from billing.services.renewals import subscriptions_renew_due
from billing.usage import subscription_limits
from tests.factories.lifecycle import ScriptedGateway, add_members, family_plans, subscription_on

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def at(day: int, hour: int = 0, month: int = 1) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("policy", "moment", "expected"),
    [
        ("orgix", at(11), Decimal("67.74")),  # 21 of 31 days, to the minute
        ("orgix", at(10, 12), Decimal("69.35")),  # 21.5 of 31 days, to the minute
        ("connex", at(10, 12), Decimal("67.74")),  # whole days left: 21 of 31
        ("sync-with-connex", at(31, 23), Decimal("0.00")),  # no whole day left
    ],
)
def test_upgrade_charges_the_prorated_difference_to_the_cent(policy, moment, expected):
    plans = family_plans(policy)
    subscription = subscription_on(plans["pro"], start=JAN)
    gateway = ScriptedGateway()

    subscription, _ = subscription_upgrade(
        subscription=subscription, plan=plans["max"], actor=None, now=moment, gateway=gateway
    )

    assert subscription.plan == plans["max"]
    charged = Payment.objects.filter(kind=Payment.Kind.UPGRADE_PRORATION)
    assert [p.amount for p in charged] == ([expected] if expected else [])
    assert [amount for _, amount in gateway.charges] == ([expected] if expected else [])
    assert AuditRecord.objects.filter(action="subscription.upgrade").count() == 1


def test_a_discount_applies_to_the_upgrade_difference():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN, discount_percent=Decimal("50"))

    _, payment = subscription_upgrade(
        subscription=subscription,
        plan=plans["max"],
        actor=None,
        now=at(11),
        gateway=ScriptedGateway(),
    )

    assert payment.amount == Decimal("33.87")  # 100 x 50% x 21/31


def test_a_declined_upgrade_changes_nothing():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    gateway = ScriptedGateway()
    gateway.declining = True

    with pytest.raises(DomainError) as error:
        subscription_upgrade(
            subscription=subscription, plan=plans["max"], actor=None, now=at(11), gateway=gateway
        )

    assert error.value.field == "payment"
    subscription.refresh_from_db()
    assert subscription.plan == plans["pro"]
    assert not Payment.objects.exists()


def test_an_upgrade_during_a_trial_charges_nothing():
    plans = family_plans("prorated-credit")
    subscription = subscription_on(plans["pro"], start=JAN, trial_days=14)

    subscription, payment = subscription_upgrade(
        subscription=subscription,
        plan=plans["max"],
        actor=None,
        now=at(5),
        gateway=ScriptedGateway(),
    )

    assert payment is None and subscription.plan == plans["max"]


def test_upgrade_refuses_a_cheaper_or_foreign_plan():
    plans = family_plans("orgix")
    other = family_plans("connex")
    subscription = subscription_on(plans["pro"], start=JAN)

    for plan in (plans["basic"], other["max"], plans["free"]):
        with pytest.raises(DomainError) as error:
            subscription_upgrade(subscription=subscription, plan=plan, actor=None, now=at(5))
        assert error.value.field == "plan"


@pytest.mark.parametrize(
    ("policy", "moment", "effective", "notice"),
    [
        ("connex", at(22), at(1, month=2), False),  # exactly 10 days before: in time
        ("connex", at(22, 1), at(1, month=3), True),  # later: the cycle after
        ("orgix", at(31, 23), at(1, month=2), False),  # no notice
    ],
)
def test_downgrade_waits_for_the_period_end_and_the_notice(policy, moment, effective, notice):
    plans = family_plans(policy)
    subscription = subscription_on(plans["pro"], start=JAN)

    subscription, quote = subscription_downgrade(
        subscription=subscription, plan=plans["basic"], actor=None, now=moment
    )

    assert subscription.plan == plans["pro"]
    assert (subscription.pending_plan, subscription.pending_plan_effective_at) == (
        plans["basic"],
        effective,
    )
    assert quote.notice_applied is notice and quote.refund == 0
    assert not Payment.objects.exists()


def test_preview_warns_of_the_limits_a_downgrade_would_exceed():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    add_members(subscription.workspace, 4)

    preview = plan_change_preview(subscription=subscription, plan=plans["basic"], now=at(5))

    assert preview["direction"] == "downgrade" and preview["charge_now"] == "0"
    assert [w["limit"] for w in preview["limit_warnings"]] == ["seats"]
    assert "allows 3 seats; this workspace uses 5" in preview["limit_warnings"][0]["message"]


def test_an_applied_downgrade_over_the_limits_restricts_with_a_message_naming_them(
    mailoutbox, django_capture_on_commit_callbacks
):
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    add_members(subscription.workspace, 4)
    subscription_downgrade(subscription=subscription, plan=plans["basic"], actor=None, now=at(5))

    with django_capture_on_commit_callbacks(execute=True):
        summary = plan_changes_apply_due(now=at(1, month=2))
    again = plan_changes_apply_due(now=at(1, month=2))

    subscription.refresh_from_db()
    assert subscription.plan == plans["basic"] and subscription.pending_plan is None
    assert (summary.downgrades_applied, again.downgrades_applied) == (1, 0)
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    assert workspace.status == Workspace.Status.RESTRICTED
    note = AuditRecord.objects.get(action="workspace.status").note
    assert "Basic plan allows 3 seats; this workspace uses 5" in note
    assert "remove members or upgrade your plan or buy extra seats" in mailoutbox[0].body


def test_addons_raise_limits_are_prorated_and_lower_them_once_they_end():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    add_members(subscription.workspace, 10)  # 11 seats of 10
    workspace_limits_enforce(subscription=subscription, now=at(2))
    assert Workspace.objects.get(pk=subscription.workspace_id).status == "restricted"

    addon, payment = addon_add(
        subscription=subscription,
        kind="extra_seats",
        quantity=2,
        actor=None,
        now=at(11),
        gateway=ScriptedGateway(),
    )

    assert (payment.kind, payment.amount) == (Payment.Kind.ADD_ON, Decimal("6.77"))  # 10 x 21/31
    assert subscription_limits(subscription, now=at(11)).seats == 12
    assert Workspace.objects.get(pk=subscription.workspace_id).status == "active"

    addon_remove(addon=addon, actor=None, now=at(20))
    addon.refresh_from_db()
    assert addon.ends_at == at(1, month=2)
    assert subscription_limits(subscription, now=at(31)).seats == 12
    plan_changes_apply_due(now=at(1, 1, month=2))
    assert subscription_limits(subscription, now=at(1, 1, month=2)).seats == 10
    assert Workspace.objects.get(pk=subscription.workspace_id).status == "restricted"


def test_paid_addons_are_refused_on_the_free_plan():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["free"], start=JAN)

    with pytest.raises(DomainError) as error:
        addon_add(subscription=subscription, kind="extra_seats", quantity=1, actor=None, now=at(2))

    assert error.value.field == "add_paid_addon"
    assert "not available on the Free plan" in error.value.message


def test_addon_quantity_must_fit_its_unit():
    subscription = subscription_on(family_plans("orgix")["pro"], start=JAN)

    with pytest.raises(DomainError) as error:
        addon_add(
            subscription=subscription, kind="extra_storage", quantity=300, actor=None, now=at(2)
        )

    assert error.value.field == "quantity" and "multiple of 1000" in error.value.message


def test_order_packs_are_paid_once_and_reset_at_renewal_where_the_policy_says():
    plans = family_plans("sync-with-connex")
    subscription = subscription_on(plans["pro"], start=JAN)
    gateway = ScriptedGateway()

    _, payment = order_pack_buy(
        subscription=subscription, packs=2, actor=None, now=at(20), gateway=gateway
    )
    assert (payment.kind, payment.amount) == (Payment.Kind.ONE_TIME_PURCHASE, Decimal("40.00"))
    assert subscription_limits(subscription, now=at(21)).orders == 1200
    subscription.orders_used_this_period = 1100
    subscription.save()

    subscriptions_renew_due(now=at(1, 1, month=2), gateway=gateway)

    subscription.refresh_from_db()
    assert subscription.orders_used_this_period == 0
    assert subscription_limits(subscription, now=at(2, month=2)).orders == 1000
    assert [p.amount for p in Payment.objects.filter(kind="subscription")] == [Decimal("100.00")]


def test_order_packs_carry_their_unused_orders_where_not_reset():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    order_pack_buy(
        subscription=subscription, packs=2, actor=None, now=at(20), gateway=ScriptedGateway()
    )
    subscription.orders_used_this_period = 1150  # 150 taken from the packs
    subscription.save()

    subscriptions_renew_due(now=at(1, 1, month=2), gateway=ScriptedGateway())

    assert subscription_limits(subscription, now=at(2, month=2)).orders == 1050
    assert AddOn.objects.filter(kind="order_pack", ends_at__isnull=True).get().quantity == 50


def test_change_plan_upgrades_now_or_schedules_the_downgrade_as_the_quote_says():
    plans = family_plans("orgix")
    up = subscription_on(plans["basic"], start=JAN)
    down = subscription_on(plans["pro"], start=JAN)
    gateway = ScriptedGateway()

    went_up = subscription_change_plan(
        subscription=up, plan=plans["pro"], actor=None, now=at(16), gateway=gateway
    )
    went_down = subscription_change_plan(
        subscription=down, plan=plans["basic"], actor=None, now=at(16)
    )

    up.refresh_from_db()
    down.refresh_from_db()
    assert (went_up, up.plan, len(gateway.charges)) == ("upgrade", plans["pro"], 1)
    assert (went_down, down.plan, down.pending_plan) == ("downgrade", plans["pro"], plans["basic"])
