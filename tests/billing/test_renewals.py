"""The renewal job: credit first, discount, trials, idempotency and concurrency."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Payment, Subscription
from billing.services.charging import policies_in_force
from billing.services.credit import credit_add, credit_balance
from billing.services.renewals import (
    renewal_due,
    subscriptions_renew_batch,
    subscriptions_renew_due,
)
from billing.services.subscription_locks import subscription_lock
from tests.factories.lifecycle import ScriptedGateway, family_plans, subscription_on

JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FEB = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
MAR = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_renewal_spends_credit_first_then_charges_the_rest():
    subscription = subscription_on(family_plans("prorated-credit")["pro"], start=JAN)
    credit_add(
        workspace=subscription.workspace,
        amount=Decimal("30.00"),
        currency="USD",
        now=JAN,
        actor=None,
    )
    gateway = ScriptedGateway()

    summary = subscriptions_renew_due(now=FEB, gateway=gateway)

    payment = Payment.objects.get()
    assert (payment.amount, payment.credit_applied, payment.status) == (
        Decimal("100.00"),
        Decimal("30.00"),
        "succeeded",
    )
    assert (payment.period_start, payment.period_end) == (FEB, MAR)
    assert [amount for _, amount in gateway.charges] == [Decimal("70.00")]
    assert credit_balance(workspace=subscription.workspace, currency="USD") == 0
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (FEB, MAR)
    assert summary.renewed == 1


@pytest.mark.django_db
def test_renewal_fully_paid_by_credit_does_not_touch_the_gateway():
    subscription = subscription_on(family_plans("prorated-credit")["pro"], start=JAN)
    credit_add(
        workspace=subscription.workspace,
        amount=Decimal("150.00"),
        currency="USD",
        now=JAN,
        actor=None,
    )
    gateway = ScriptedGateway()

    subscriptions_renew_due(now=FEB, gateway=gateway)

    assert gateway.charges == []
    payment = Payment.objects.get()
    assert (payment.provider, payment.credit_applied) == ("credit", Decimal("100.00"))
    assert credit_balance(workspace=subscription.workspace, currency="USD") == Decimal("50.00")


@pytest.mark.django_db
def test_a_discount_carries_over_renewals_and_recurring_addons_renew_at_full_price():
    subscription = subscription_on(
        family_plans("orgix")["pro"], start=JAN, discount_percent=Decimal("20")
    )
    subscription.addons.create(
        kind="extra_seats", quantity=2, price=Decimal("10.00"), currency="EUR", started_at=JAN
    )
    gateway = ScriptedGateway()

    subscriptions_renew_due(now=FEB, gateway=gateway)
    subscriptions_renew_due(now=MAR, gateway=gateway)

    assert [p.amount for p in Payment.objects.order_by("paid_at")] == [Decimal("90.00")] * 2


@pytest.mark.django_db
def test_a_trial_converts_to_paid_at_its_end():
    subscription = subscription_on(family_plans("connex")["pro"], start=JAN, trial_days=14)
    trial_end = JAN + dt.timedelta(days=14)

    assert subscriptions_renew_due(now=trial_end - dt.timedelta(minutes=1)).renewed == 0
    summary = subscriptions_renew_due(now=trial_end, gateway=ScriptedGateway())

    subscription.refresh_from_db()
    assert (summary.renewed, summary.trials_converted) == (1, 1)
    assert subscription.status == "active"
    assert subscription.current_period_end == dt.datetime(2025, 2, 15, tzinfo=dt.UTC)
    assert [(p.amount, p.period_start) for p in Payment.objects.all()] == [
        (Decimal("100.00"), trial_end)
    ]


@pytest.mark.django_db
def test_a_trial_cancelled_before_its_end_is_never_charged():
    subscription = subscription_on(
        family_plans("prorated-credit")["pro"], start=JAN, trial_days=14, cancel_at_period_end=True
    )
    gateway = ScriptedGateway()

    subscriptions_renew_due(now=JAN + dt.timedelta(days=20), gateway=gateway)

    assert gateway.charges == [] and not Payment.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == "trialing"  # the cancellation job ends it


@pytest.mark.django_db
def test_a_second_run_the_same_day_charges_nothing_more():
    subscription_on(family_plans("orgix")["pro"], start=JAN)
    gateway = ScriptedGateway()

    first = subscriptions_renew_due(now=FEB, gateway=gateway)
    second = subscriptions_renew_due(now=FEB + dt.timedelta(hours=5), gateway=gateway)

    assert (first.renewed, second.renewed) == (1, 0)
    assert Payment.objects.count() == 1 and len(gateway.charges) == 1


@pytest.mark.django_db
def test_renewal_walks_every_batch():
    plan = family_plans("orgix")["pro"]
    for _ in range(6):
        subscription_on(plan, start=JAN)

    summary = subscriptions_renew_due(now=FEB, batch_size=4, gateway=ScriptedGateway())

    assert summary.renewed == 6
    assert Payment.objects.filter(period_start=FEB).count() == 6


@pytest.mark.postgres("row locks (SKIP LOCKED)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_charge_each_subscription_once():
    plan = family_plans("orgix")["pro"]
    for _ in range(12):
        subscription_on(plan, start=JAN)
    gateway = ScriptedGateway()
    summaries = []

    def run():
        try:
            summaries.append(subscriptions_renew_due(now=FEB, batch_size=5, gateway=gateway))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(s.renewed for s in summaries) == 12
    assert Payment.objects.count() == 12 and len(gateway.charges) == 12
    assert set(Subscription.objects.values_list("current_period_end", flat=True)) == {MAR}


@pytest.mark.postgres("row locks and PostgreSQL's re-check of a row changed while waiting")
@pytest.mark.django_db(transaction=True)
def test_a_row_renewed_by_a_concurrent_run_while_waiting_for_its_lock_is_not_due():
    """The lock re-checks the due condition on the row's new version: a subquery would
    keep the old snapshot, call the row due again and charge the next period too."""
    subscription = subscription_on(family_plans("orgix")["pro"], start=JAN)
    holding = threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                Subscription.objects.select_for_update().get(pk=subscription.pk)
                holding.set()
                time.sleep(0.5)  # long enough for the lock below to be waiting
                Subscription.objects.filter(pk=subscription.pk).update(
                    current_period_start=FEB, current_period_end=MAR
                )
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(timeout=5)
    with transaction.atomic():
        claimed = subscription_lock(subscription.pk, renewal_due(FEB), skip_locked=False)
    thread.join()

    assert claimed is None


def _batch_queries(size: int) -> int:
    plan = family_plans("orgix")["pro"]
    ids = [subscription_on(plan, start=JAN).pk for _ in range(size)]
    policies = policies_in_force(FEB)

    with CaptureQueriesContext(connection) as queries:
        summary = subscriptions_renew_batch(
            subscription_ids=ids, now=FEB, gateway=ScriptedGateway(), policies=policies
        )

    assert summary.renewed == size
    return len(queries)


@pytest.mark.django_db
def test_the_queries_of_a_renewal_batch_do_not_grow_with_its_size():
    assert _batch_queries(2) == _batch_queries(9)


@pytest.mark.django_db
def test_a_batch_renews_plain_and_credit_holding_subscriptions_alike():
    plan = family_plans("prorated-credit")["pro"]
    plain, with_credit = subscription_on(plan, start=JAN), subscription_on(plan, start=JAN)
    credit_add(
        workspace=with_credit.workspace,
        amount=Decimal("30.00"),
        currency="USD",
        now=JAN,
        actor=None,
    )

    summary = subscriptions_renew_batch(
        subscription_ids=[plain.pk, with_credit.pk], now=FEB, gateway=ScriptedGateway()
    )

    assert summary.renewed == 2
    paid = dict(Payment.objects.values_list("subscription_id", "credit_applied"))
    assert paid == {plain.pk: Decimal("0.00"), with_credit.pk: Decimal("30.00")}
    for subscription in (plain, with_credit):
        subscription.refresh_from_db()
        assert subscription.current_period_end == MAR


@pytest.mark.django_db
def test_a_declined_renewal_records_the_downgraded_price_and_keeps_credit():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    subscription.pending_plan, subscription.pending_plan_effective_at = plans["basic"], FEB
    subscription.save()
    credit_add(
        workspace=subscription.workspace,
        amount=Decimal("20.00"),
        currency="EUR",
        now=JAN,
        actor=None,
    )
    gateway = ScriptedGateway()
    gateway.declining = True

    assert subscriptions_renew_due(now=FEB, gateway=gateway).failed == 1

    failed = Payment.objects.get()
    assert (failed.status, failed.amount, failed.credit_applied) == ("failed", Decimal("50.00"), 0)
    assert credit_balance(workspace=subscription.workspace, currency="EUR") == Decimal("20.00")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.plan, subscription.pending_plan) == (
        "past_due",
        plans["pro"],
        plans["basic"],
    )
