"""Refund lifecycle: proposal refusals, four eyes, lead threshold, execution and retry."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditRecord, Workspace
from billing.errors import DomainError, InvalidTransition, PermissionDenied, RefundRefused
from billing.gateways import GatewayError
from billing.models import CreditEntry, Payment, Refund
from billing.services.credit import credit_balance
from billing.services.refunds import (
    RefundRetryable,
    refund_approve,
    refund_execute,
    refund_propose,
    refund_reject,
    refund_retry,
)
from tests.factories import PaymentFactory, PlanFactory, SubscriptionFactory
from tests.factories.refunds import DisputeFactory, FakeGateway, agent, lead

pytestmark = pytest.mark.django_db
D = Decimal


def propose(payment, amount="40.00", **kwargs):
    kwargs.setdefault("actor", agent())
    kwargs.setdefault("destination", "")
    return refund_propose(payment=payment, amount=D(amount), now=timezone.now(), **kwargs)


def payment_under(policy_slug: str, **kwargs) -> Payment:
    plan = PlanFactory(policy_slug=policy_slug)
    return PaymentFactory(subscription=SubscriptionFactory(plan=plan), **kwargs)


def test_an_open_dispute_refuses_the_refund_with_its_clause():
    payment = PaymentFactory()
    DisputeFactory(payment=payment)
    with pytest.raises(RefundRefused) as error:
        propose(payment)
    assert "dispute is open" in error.value.message and "§11" in error.value.message


def test_a_workspace_suspended_for_misuse_gets_no_refund_under_orgix():
    payment = PaymentFactory()
    Workspace.objects.filter(pk=payment.workspace_id).update(
        status="suspended", suspension_reason="misuse"
    )
    payment.refresh_from_db()
    with pytest.raises(RefundRefused) as error:
        propose(payment)
    assert "orgix §17" in error.value.message


def test_a_kind_never_refunded_is_refused_unless_proposed_as_goodwill_under_case_by_case():
    addon = PaymentFactory(kind=Payment.Kind.ADD_ON)
    with pytest.raises(RefundRefused) as error:
        propose(addon)
    assert "never refunds add-on payments" in error.value.message
    assert propose(addon, is_goodwill=True).is_goodwill


def test_connex_allows_no_goodwill_exception_for_a_never_refunded_kind():
    upgrade = payment_under("connex", kind=Payment.Kind.UPGRADE_PRORATION)
    with pytest.raises(RefundRefused) as error:
        propose(upgrade, is_goodwill=True)
    assert "no case-by-case exception" in error.value.message


def test_destination_defaults_to_the_policy_and_credit_only_where_a_choice_is_allowed():
    assert propose(PaymentFactory()).destination == "original_payment_method"
    assert propose(PaymentFactory(), destination="customer_credit").destination == (
        "customer_credit"
    )
    credit_only = payment_under("prorated-credit")
    assert propose(credit_only).destination == "customer_credit"
    with pytest.raises(RefundRefused):
        propose(credit_only, destination="original_payment_method")
    sync = payment_under("sync-with-connex")
    with pytest.raises(RefundRefused) as error:
        propose(sync, destination="customer_credit")
    assert error.value.field == "destination"
    with pytest.raises(DomainError) as error:
        propose(PaymentFactory(), destination="cheque")
    assert error.value.field == "destination"


def test_the_proposer_cannot_approve_their_own_refund():
    proposer = lead()
    refund = propose(PaymentFactory(), actor=proposer)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        refund_approve(refund=refund, actor=proposer, now=timezone.now())


def test_a_support_agent_approves_small_refunds_but_not_large_or_goodwill(settings):
    settings.REFUND_LEAD_APPROVAL_THRESHOLD = D("50.00")
    payment = PaymentFactory(amount=D("200.00"))
    small, large = propose(payment, "50.00"), propose(payment, "50.01")
    goodwill = propose(payment, "1.00", is_goodwill=True)
    now = timezone.now()
    assert refund_approve(refund=small, actor=agent(), now=now).status == "approved"
    for refund in (large, goodwill):
        with pytest.raises(PermissionDenied, match="Billing lead"):
            refund_approve(refund=refund, actor=agent(), now=now)
        assert refund_approve(refund=refund, actor=lead(), now=now).status == "approved"


def test_approval_reserves_the_amount_on_the_payment_and_schedules_execution(
    django_capture_on_commit_callbacks,
):
    payment = PaymentFactory(amount=D("100.00"))
    first, second = propose(payment, "60.00"), propose(payment, "40.01")
    with django_capture_on_commit_callbacks() as callbacks:
        refund_approve(refund=first, actor=lead(), now=timezone.now())
    assert len(callbacks) == 1
    payment.refresh_from_db()
    assert payment.amount_refunded == D("60.00")
    with pytest.raises(DomainError, match=r"Only 40\.00"):
        refund_approve(refund=second, actor=lead(), now=timezone.now())
    assert AuditRecord.objects.filter(action="refund.approve").count() == 1


def test_a_rejection_needs_a_reason_and_is_final():
    refund = propose(PaymentFactory())
    with pytest.raises(DomainError) as error:
        refund_reject(refund=refund, actor=agent(), reason=" ", now=timezone.now())
    assert error.value.field == "reason"
    refund_reject(refund=refund, actor=agent(), reason="Used all month", now=timezone.now())
    with pytest.raises(InvalidTransition):
        refund_approve(refund=refund, actor=lead(), now=timezone.now())


def approved(payment=None, **kwargs) -> Refund:
    refund = propose(payment or PaymentFactory(), **kwargs)
    return refund_approve(refund=refund, actor=lead(), now=timezone.now())


def test_execution_refunds_through_the_gateway_once_even_if_the_task_runs_twice():
    refund, gateway = approved(), FakeGateway()
    now = timezone.now()
    assert refund_execute(refund_id=refund.pk, now=now, gateway=gateway).status == "succeeded"
    refund_execute(refund_id=refund.pk, now=now, gateway=gateway)
    assert gateway.calls == 1
    refund.refresh_from_db()
    assert refund.provider_reference.startswith("re_") and refund.completed_at == now


def test_a_retryable_error_retries_and_the_last_attempt_marks_failed_with_the_message():
    refund = approved()
    gateway = FakeGateway(fail_next=[GatewayError("Try later", retryable=True)] * 2)
    with pytest.raises(RefundRetryable):
        refund_execute(
            refund_id=refund.pk, now=timezone.now(), gateway=gateway, final_attempt=False
        )
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("processing", 1)
    failed = refund_execute(refund_id=refund.pk, now=timezone.now(), gateway=gateway)
    assert (failed.status, failed.failure_message, failed.attempts) == ("failed", "Try later", 2)
    assert gateway.moved == {}


def test_an_agent_retries_a_failed_refund_and_the_amount_stays_reserved(
    django_capture_on_commit_callbacks,
):
    payment = PaymentFactory(amount=D("100.00"))
    refund = approved(payment)
    gateway = FakeGateway(fail_next=[GatewayError("Your card was declined.", code="card")])
    refund_execute(refund_id=refund.pk, now=timezone.now(), gateway=gateway)
    payment.refresh_from_db()
    assert payment.amount_refunded == D("40.00")
    with django_capture_on_commit_callbacks() as callbacks:
        assert refund_retry(refund=refund, actor=agent(), now=timezone.now()).status == (
            "processing"
        )
    assert len(callbacks) == 1
    assert refund_execute(refund_id=refund.pk, now=timezone.now(), gateway=gateway).status == (
        "succeeded"
    )
    assert gateway.moved == {refund.idempotency_key: [D("40.00")]}


def test_a_credit_refund_adds_customer_credit_once():
    refund = approved(destination="customer_credit")
    refund_execute(refund_id=refund.pk, now=timezone.now())
    refund_execute(refund_id=refund.pk, now=timezone.now())
    assert CreditEntry.objects.filter(refund=refund).count() == 1
    assert credit_balance(workspace=refund.workspace, currency=refund.currency) == D("40.00")


def test_the_task_executes_with_the_local_gateway_on_commit(django_capture_on_commit_callbacks):
    refund = propose(PaymentFactory())
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(refund=refund, actor=lead(), now=timezone.now())
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_reference.startswith("local_re_")


def test_the_task_retries_retryable_errors_then_its_last_attempt_marks_the_refund_failed(
    monkeypatch,
):
    from celery.exceptions import Retry

    from billing.tasks import execute_refund

    refund = approved()
    gateway = FakeGateway(fail_next=[GatewayError("Rate limited", retryable=True)] * 2)
    monkeypatch.setattr("billing.services.refunds.get_gateway", lambda provider: gateway)
    with pytest.raises(Retry):
        execute_refund.apply(args=[refund.pk], retries=0, throw=True)
    refund.refresh_from_db()
    assert refund.status == "processing"
    execute_refund.apply(args=[refund.pk], retries=execute_refund.max_retries)
    refund.refresh_from_db()
    assert (refund.status, refund.failure_message, refund.attempts) == (
        "failed",
        "Rate limited",
        2,
    )
    assert gateway.moved == {}


def test_a_dispute_opened_after_approval_fails_the_refund_instead_of_paying_twice():
    refund, gateway = approved(), FakeGateway()
    DisputeFactory(payment=refund.payment)
    failed = refund_execute(refund_id=refund.pk, now=timezone.now(), gateway=gateway)
    assert failed.status == "failed" and "dispute opened" in failed.failure_message
    assert gateway.calls == 0
