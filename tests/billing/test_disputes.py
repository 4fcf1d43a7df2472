"""Disputes suspend paid features while open (orgix §11); won restores, lost is unpaid."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditRecord, Workspace
from accounts.services.workspaces import workspace_set_status
from billing.errors import InvalidTransition
from billing.services.disputes import dispute_close, dispute_open
from tests.factories import PaymentFactory
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db


def open_dispute(payment, reference=""):
    return dispute_open(
        payment=payment,
        amount=payment.amount,
        reason="fraudulent",
        reference=reference,
        actor=agent(),
        now=timezone.now(),
    )


def test_an_open_dispute_suspends_the_workspace_for_chargeback():
    payment = PaymentFactory()
    open_dispute(payment)
    payment.workspace.refresh_from_db()
    assert (payment.workspace.status, payment.workspace.suspension_reason) == (
        "suspended",
        "chargeback",
    )
    assert AuditRecord.objects.filter(action="dispute.open").exists()


def test_a_won_dispute_restores_the_workspace_once_no_other_is_open():
    payment = PaymentFactory()
    other = PaymentFactory(subscription=payment.subscription)
    first, second = open_dispute(payment), open_dispute(other)
    dispute_close(dispute=first, outcome="won", actor=agent(), now=timezone.now())
    payment.workspace.refresh_from_db()
    assert payment.workspace.status == "suspended"
    dispute_close(dispute=second, outcome="won", actor=agent(), now=timezone.now())
    payment.workspace.refresh_from_db()
    assert (payment.workspace.status, payment.workspace.suspension_reason) == ("active", "")


def test_a_lost_dispute_makes_the_payment_unpaid_and_the_subscription_past_due():
    payment = PaymentFactory()
    dispute = open_dispute(payment)
    now = timezone.now()
    closed = dispute_close(dispute=dispute, outcome="lost", actor=agent(), now=now)
    payment.refresh_from_db()
    payment.subscription.refresh_from_db()
    payment.workspace.refresh_from_db()
    assert closed.status == "lost" and payment.status == "lost"
    assert (payment.subscription.status, payment.subscription.past_due_since) == ("past_due", now)
    assert (payment.workspace.status, payment.workspace.suspension_reason) == (
        "restricted",
        "non_payment",
    )
    with pytest.raises(InvalidTransition):
        dispute_close(dispute=dispute, outcome="won", actor=agent(), now=now)


def test_a_misuse_suspension_is_kept_through_a_dispute():
    payment = PaymentFactory()
    workspace_set_status(
        workspace=payment.workspace,
        status=Workspace.Status.SUSPENDED,
        reason="misuse",
        actor=None,
        now=timezone.now(),
    )
    dispute = open_dispute(payment)
    dispute_close(dispute=dispute, outcome="won", actor=agent(), now=timezone.now())
    payment.workspace.refresh_from_db()
    assert payment.workspace.suspension_reason == "misuse"


def test_the_same_provider_dispute_is_recorded_once():
    payment = PaymentFactory()
    assert open_dispute(payment, "dp_1") == open_dispute(payment, "dp_1")
    assert payment.disputes.count() == 1
    assert Decimal(payment.disputes.get().amount) == payment.amount
