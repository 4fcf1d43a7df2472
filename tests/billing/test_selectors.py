"""Selectors: the snapshot built from models, in a constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services.workspaces import workspace_set_status
from billing.models import Dispute, Payment
from billing.policy.rules import PaymentKind
from billing.selectors import (
    policy_rules,
    quote_for_subscription,
    subscription_for_quote,
    subscription_snapshot,
)
from tests.factories import (
    AddOnFactory,
    OnboardingServiceFactory,
    PaymentFactory,
    PlanFactory,
    policy_version,
)

pytestmark = pytest.mark.django_db
AT = dt.datetime(2025, 1, 11, tzinfo=dt.UTC)


def _queries(subscription_id: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        subscription_snapshot(subscription_for_quote(subscription_id))
    return len(captured)


def test_snapshot_query_count_does_not_grow_with_payments():
    first = PaymentFactory(subscription__plan=PlanFactory(policy_slug="prorated-credit"))
    subscription = first.subscription
    baseline = _queries(subscription.pk)

    for _ in range(5):
        PaymentFactory(subscription=subscription, kind=Payment.Kind.ADD_ON)
        AddOnFactory(subscription=subscription)
        OnboardingServiceFactory(subscription=subscription)

    assert _queries(subscription.pk) == baseline == 4


def test_snapshot_carries_refunds_disputes_services_and_misuse():
    payment = PaymentFactory(
        subscription__plan=PlanFactory(policy_slug="connex"), amount_refunded=Decimal("10.00")
    )
    subscription = payment.subscription
    Dispute.objects.create(payment=payment, amount=payment.amount, currency="USD", opened_at=AT)
    PaymentFactory(subscription=subscription, status=Payment.Status.FAILED)
    OnboardingServiceFactory(subscription=subscription, price=Decimal("250.00"))
    workspace_set_status(
        workspace=subscription.workspace, status="suspended", reason="misuse", actor=None, now=AT
    )

    snapshot = subscription_snapshot(subscription_for_quote(subscription.pk))

    (only,) = snapshot.payments  # the failed payment is left out
    assert (only.kind, only.refunded, only.disputed) == (PaymentKind.SUBSCRIPTION, 10, True)
    assert snapshot.services[0].price == Decimal("250.00")
    assert snapshot.suspended_for_misuse


def test_quote_for_subscription_uses_its_policy_version():
    payment = PaymentFactory(subscription__plan=PlanFactory(policy_slug="prorated-credit"))

    quote = quote_for_subscription(payment.subscription, at=AT)

    assert quote.policy == "prorated-credit@1"
    assert quote.refund == Decimal("67.74")


def test_policy_rules_are_parsed_once_per_version():
    policy = policy_version("orgix")

    assert policy_rules(policy) is policy_rules(policy_version("orgix"))


def test_new_rules_given_to_a_policy_instance_are_read_again():
    policy = policy_version("connex")
    first = policy_rules(policy)
    policy.rules = {**policy.rules, "refund_window": {**policy.rules["refund_window"], "days": 3}}

    assert policy_rules(policy) is not first
    assert policy_rules(policy).refund_window.days == 3
    assert policy_rules(policy_version("connex")) is first
