"""Shared building blocks: credit ledger, refund proposal limits, plan limits, idempotency."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.errors import DomainError
from billing.policy.limits import Action, Limits, Usage, check_action, exceeded_limits, with_addons
from billing.services.credit import credit_add, credit_apply, credit_balance
from billing.services.refunds import refund_propose
from tests.factories import PaymentFactory, WorkspaceFactory

FREE = Limits(
    seats=3, storage_mb=500, modules=1, orders=50, plan_name="Free", paid_addons_allowed=False
)


def test_exceeded_limits_name_the_limit_and_the_fix():
    breaches = exceeded_limits(Usage(seats=5, storage_mb=100, modules=1), FREE)
    assert [b.limit for b in breaches] == ["seats"]
    assert "allows 3 seats" in breaches[0].message and "remove members" in breaches[0].message


def test_actions_over_the_limit_are_refused_and_within_are_allowed():
    usage = Usage(seats=3, storage_mb=499, modules=0)
    assert check_action(Action.ADD_USER, usage, FREE).limit == "seats"
    assert check_action(Action.UPLOAD, usage, FREE, amount=1) is None
    assert check_action(Action.UPLOAD, usage, FREE, amount=2).limit == "storage_mb"
    assert check_action(Action.ENABLE_MODULE, usage, FREE) is None
    assert check_action(Action.ADD_PAID_ADDON, usage, FREE).limit == "addons"


def test_addons_raise_limits_and_unlimited_stays_unlimited():
    raised = with_addons(
        Limits(seats=3, storage_mb=None, modules=1, orders=50),
        [("extra_seats", 5), ("extra_storage", 9)],
    )
    assert (raised.seats, raised.storage_mb, raised.modules) == (8, None, 1)


@pytest.mark.django_db
def test_credit_is_spent_up_to_the_balance():
    workspace = WorkspaceFactory()
    now = timezone.now()
    credit_add(workspace=workspace, amount=Decimal("30.00"), currency="EUR", now=now, actor=None)
    assert credit_apply(
        workspace=workspace, amount_due=Decimal("50.00"), currency="EUR", now=now
    ) == Decimal("30.00")
    assert credit_balance(workspace=workspace, currency="EUR") == Decimal("0")
    assert (
        credit_apply(workspace=workspace, amount_due=Decimal("50.00"), currency="EUR", now=now) == 0
    )


@pytest.mark.django_db
def test_a_refund_proposal_cannot_exceed_what_was_paid():
    payment = PaymentFactory(amount=Decimal("100.00"))
    with pytest.raises(DomainError) as error:
        refund_propose(
            payment=payment,
            amount=Decimal("100.01"),
            destination="customer_credit",
            actor=None,
            now=timezone.now(),
        )
    assert error.value.field == "amount"
    refund = refund_propose(
        payment=payment,
        amount=Decimal("100.00"),
        destination="customer_credit",
        actor=None,
        now=timezone.now(),
    )
    assert refund.status == "proposed"
