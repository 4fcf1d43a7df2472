"""Chargeback consequences as policy data (`chargeback` in the rules), applied by the
dispute service with an audit record naming the clause; without one, the house rule
(locked until resolved, a lost dispute is a failed payment) as tests/billing/test_disputes.py
checks."""

import datetime as dt
from dataclasses import replace

import pytest
from django.utils import timezone

from accounts.models import AuditRecord
from billing.models import RefundPolicy
from billing.policy.presets import ORGIX
from billing.policy.rules import ChargebackOnLost, ChargebackOnOpen, ChargebackRule, Clause
from billing.services.disputes import dispute_close, dispute_open
from tests.factories import PaymentFactory
from tests.factories.cancellations import free_plan
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db
CLAUSE = Clause("§12 chargebacks")


def disputed(on_open: ChargebackOnOpen, on_lost: ChargebackOnLost = ChargebackOnLost.DUNNING):
    """A payment under orgix with this chargeback rule, and its dispute opened."""
    payment = PaymentFactory()
    subscription = payment.subscription
    subscription.policy = RefundPolicy.objects.create(
        slug="orgix-chargeback",
        version=RefundPolicy.objects.filter(slug="orgix-chargeback").count() + 1,
        title="Orgix with a chargeback rule",
        effective_from=dt.date(2026, 1, 1),
        rules=replace(ORGIX, chargeback=ChargebackRule(on_open, on_lost, CLAUSE)).to_dict(),
    )
    subscription.save(update_fields=["policy"])
    dispute = dispute_open(
        payment=payment,
        amount=payment.amount,
        reason="fraudulent",
        reference="",
        actor=agent(),
        now=timezone.now(),
    )
    payment.workspace.refresh_from_db()
    return payment, dispute


@pytest.mark.parametrize(
    ("on_open", "status", "reason"),
    [
        pytest.param(ChargebackOnOpen.LOCK, "suspended", "chargeback", id="locked-until-resolved"),
        pytest.param(ChargebackOnOpen.RESTRICT, "restricted", "chargeback", id="read-only"),
        pytest.param(ChargebackOnOpen.NOTHING, "active", "", id="left-as-it-is"),
    ],
)
def test_an_open_chargeback_does_what_the_policy_says_with_an_audit_naming_the_clause(
    on_open, status, reason
):
    payment, dispute = disputed(on_open)

    assert (payment.workspace.status, payment.workspace.suspension_reason) == (status, reason)
    record = AuditRecord.objects.get(action="dispute.policy_applied", target_id=str(dispute.pk))
    assert record.after == {"outcome": "open", "consequence": on_open.value, "clause": CLAUSE.ref}


def test_a_restricted_workspace_is_restored_when_the_chargeback_is_won():
    payment, dispute = disputed(ChargebackOnOpen.RESTRICT)

    dispute_close(dispute=dispute, outcome="won", actor=agent(), now=timezone.now())

    payment.workspace.refresh_from_db()
    assert (payment.workspace.status, payment.workspace.suspension_reason) == ("active", "")


def test_a_lost_chargeback_ends_the_subscription_at_once_where_the_policy_says_so():
    payment, dispute = disputed(ChargebackOnOpen.LOCK, ChargebackOnLost.END)
    free_plan("orgix")

    dispute_close(dispute=dispute, outcome="lost", actor=agent(), now=timezone.now())

    payment.refresh_from_db()
    subscription = payment.subscription
    subscription.refresh_from_db()
    assert payment.status == "lost"
    assert subscription.status == "cancelled" and subscription.ended_at is not None
    # orgix falls back to the Free plan: the chargeback downgrades the workspace.
    assert subscription.workspace.subscriptions.filter(plan__interval="none").exists()
    lost = AuditRecord.objects.get(action="dispute.policy_applied", after__outcome="lost")
    assert lost.after["consequence"] == "end"


def test_a_lost_chargeback_under_the_dunning_rule_makes_the_subscription_past_due():
    payment, dispute = disputed(ChargebackOnOpen.LOCK, ChargebackOnLost.DUNNING)

    dispute_close(dispute=dispute, outcome="lost", actor=agent(), now=timezone.now())

    payment.subscription.refresh_from_db()
    assert payment.subscription.status == "past_due"


def test_without_a_chargeback_rule_no_policy_record_is_written():
    payment = PaymentFactory()

    dispute_open(
        payment=payment,
        amount=payment.amount,
        reason="fraudulent",
        reference="",
        actor=agent(),
        now=timezone.now(),
    )

    payment.workspace.refresh_from_db()
    assert payment.workspace.status == "suspended"
    assert not AuditRecord.objects.filter(action="dispute.policy_applied").exists()
