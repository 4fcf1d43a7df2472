"""What conditions read, from the models: the subscription's purchase channel, payment
method and commitment, the workspace's country and activity, the plan's code; the credit
balance only where the policy pays it out."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import CreditEntry
from billing.policy.rules import Channel, PaymentMethod
from billing.selectors import quote_for_subscription, subscription_for_quote, subscription_snapshot
from tests.factories import PaymentFactory, PlanFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2025, 1, 11, tzinfo=dt.UTC)


def _subscription(policy_slug: str, **fields):
    payment = PaymentFactory(subscription__plan=PlanFactory(policy_slug=policy_slug))
    subscription = payment.subscription
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.save()
    return subscription_for_quote(subscription.pk)


def test_snapshot_carries_the_attributes_conditions_read():
    subscription = _subscription(
        "orgix",
        purchase_channel="app_store",
        payment_method="invoice",
        commitment_end=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    subscription.workspace.country = "ca"
    subscription.workspace.last_activity_at = AT

    snapshot = subscription_snapshot(subscription)

    assert (snapshot.channel, snapshot.payment_method) == (Channel.APP_STORE, PaymentMethod.INVOICE)
    assert snapshot.country == "CA"
    assert snapshot.plan_code == subscription.plan.code
    assert snapshot.commitment_end == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert snapshot.last_used_at == AT


def test_new_subscriptions_default_to_web_and_card_without_commitment():
    snapshot = subscription_snapshot(_subscription("orgix"))

    assert (snapshot.channel, snapshot.payment_method, snapshot.commitment_end) == (
        Channel.WEB,
        PaymentMethod.CARD,
        None,
    )


def test_live_quote_pays_out_the_ledger_balance_where_the_policy_says_so():
    subscription = _subscription("example-google-workspace")
    for amount in ("30.00", "-12.50"):
        CreditEntry.objects.create(
            workspace=subscription.workspace,
            kind=CreditEntry.Kind.ADJUSTMENT,
            amount=Decimal(amount),
            currency=subscription.plan.currency,
            created_at=AT,
        )

    quote = quote_for_subscription(subscription, at=AT)

    assert quote.credit_payout == Decimal("17.50")


def test_live_quote_reads_no_ledger_for_a_policy_without_payout():
    subscription = _subscription("orgix")
    subscription_snapshot(subscription)  # warm the rules cache

    with CaptureQueriesContext(connection) as captured:
        quote_for_subscription(subscription, at=AT)

    assert captured and not any("billing_creditentry" in q["sql"] for q in captured)
