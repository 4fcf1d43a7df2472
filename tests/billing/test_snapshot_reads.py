"""The subscription snapshot is the same however its payments were read: with the
subscription on the API's hot path (`with_snapshot_payments`, a JSON array on PostgreSQL),
by their own compiled query, or from `Payment` objects."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import Dispute, Payment
from billing.selectors import (
    live_subscription_with_flags,
    snapshot_payments_of,
    subscription_for_quote,
    subscription_snapshot,
)
from tests.factories import PaymentFactory
from tests.factories.cancellations import PERIOD_START, paid_subscription
from tests.factories.refunds import DisputeFactory

pytestmark = pytest.mark.django_db


def test_payments_read_with_the_subscription_make_the_same_snapshot():
    subscription = paid_subscription("orgix", with_payment=False)
    older = PERIOD_START - dt.timedelta(days=31, microseconds=-250)
    PaymentFactory(
        subscription=subscription,
        paid_at=older,
        period_start=older,
        period_end=PERIOD_START,
        amount=Decimal("119.99"),
        tax=Decimal("20.00"),
        amount_refunded=Decimal("10.50"),
    )
    disputed = PaymentFactory(subscription=subscription, paid_at=PERIOD_START)
    DisputeFactory(payment=disputed, status=Dispute.Status.OPEN)
    PaymentFactory(
        subscription=subscription,
        kind=Payment.Kind.ACTIVATION_FEE,
        paid_at=PERIOD_START,
        period_start=None,
        period_end=None,
    )
    PaymentFactory(subscription=subscription, status=Payment.Status.FAILED)  # not refundable

    live = live_subscription_with_flags(subscription.workspace_id)
    assert hasattr(live, "payment_rows") == (connection.vendor == "postgresql")
    with_subscription = subscription_snapshot(live)
    by_query = subscription_snapshot(subscription_for_quote(subscription.pk))
    from_objects = subscription_snapshot(
        subscription_for_quote(subscription.pk),
        payments=list(snapshot_payments_of([subscription.pk])),
    )

    assert with_subscription == by_query == from_objects
    assert [p.disputed for p in by_query.payments] == [False, True, False]
    assert by_query.payments[0].paid_at == older and by_query.payments[2].period_start is None


def test_a_subscription_without_payments_has_none_in_its_snapshot():
    subscription = paid_subscription("orgix", with_payment=False)

    assert (
        subscription_snapshot(live_subscription_with_flags(subscription.workspace_id)).payments
        == ()
    )
