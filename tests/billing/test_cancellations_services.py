"""Cancellation services: preview, submit, assign, approve, reject, withdraw, apply."""

import datetime as dt
import logging
import threading
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections, transaction

from accounts.models import AuditRecord, Workspace
from billing.errors import DomainError, InvalidTransition
from billing.models import CancellationRequest, Refund, Subscription
from billing.policy.limits import Action
from billing.services.cancellations import (
    cancellation_apply,
    cancellation_approve,
    cancellation_assign,
    cancellation_preview,
    cancellation_reject,
    cancellation_submit,
    cancellation_withdraw,
)
from billing.services.restrictions import (
    LimitExceeded,
    workspace_ensure_allowed,
    workspace_restrictions,
)
from billing.usage import free_plan_with_usage, workspace_usage
from tests.factories import SubscriptionFactory, WorkspaceFactory
from tests.factories.cancellations import (
    INSIDE_NOTICE,
    MID_PERIOD,
    crowd,
    free_plan,
    make_agent,
    paid_subscription,
    refundable_connex,
)
from tests.factories.retention import WorkspaceModuleFactory

pytestmark = pytest.mark.django_db


def submit(subscription, *, now=MID_PERIOD, reason="too_expensive", reason_text=""):
    return cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason=reason,
        reason_text=reason_text,
        now=now,
    )


def test_preview_lists_the_free_plan_limits_the_workspace_would_exceed():
    subscription = paid_subscription("orgix")
    free_plan("orgix")
    crowd(subscription.workspace, seats=5)

    preview = cancellation_preview(subscription=subscription, at=MID_PERIOD)

    assert preview.quote.fallback == "free_plan" and preview.free_plan.name == "Free"
    assert [breach.limit for breach in preview.exceeded] == ["seats"]
    assert preview.notice == ""


@pytest.mark.parametrize(("seats", "modules"), [(1, 0), (4, 3)])
def test_the_free_plan_comes_with_the_usage_workspace_usage_reads(seats, modules):
    subscription = paid_subscription("orgix")
    plan = free_plan("orgix")
    workspace = subscription.workspace
    crowd(workspace, seats=seats)
    for _ in range(modules):
        WorkspaceModuleFactory(workspace=workspace)
    other = paid_subscription("orgix").workspace  # another workspace's rows are not counted
    crowd(other, seats=3)
    WorkspaceModuleFactory(workspace=other)

    found = free_plan_with_usage("orgix", workspace)

    assert found == (plan, workspace_usage(workspace))
    assert (found[1].seats, found[1].modules) == (seats, modules)
    assert free_plan_with_usage("no-such-family", workspace) is None


def test_preview_inside_the_notice_window_says_it_ends_a_period_later():
    subscription = paid_subscription("sync-with-connex")

    preview = cancellation_preview(subscription=subscription, at=INSIDE_NOTICE)

    assert preview.quote.notice_applied
    assert "at least 7 days before the renewal" in preview.notice
    assert "ends on 01 May 2026" in preview.notice and "100.00 USD" in preview.notice


def test_preview_outside_the_notice_window_still_explains_the_rule():
    preview = cancellation_preview(
        subscription=paid_subscription("sync-with-connex"), at=MID_PERIOD
    )

    assert not preview.quote.notice_applied
    assert "at least 7 days" in preview.notice and "falls inside" not in preview.notice


def test_submit_stores_the_quote_audits_and_emails_on_commit(django_capture_on_commit_callbacks):
    subscription = refundable_connex()

    with django_capture_on_commit_callbacks(execute=True):
        request, created = submit(subscription, reason_text="Budget cuts")

    assert created and request.status == CancellationRequest.Status.SUBMITTED
    assert request.quoted_refund == Decimal("100.00")
    assert request.quote["destination"] == "original_payment_method"
    assert request.effective_at == MID_PERIOD  # connex refunds end it immediately
    assert AuditRecord.objects.filter(action="cancellation.submit", target_id=request.pk).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [subscription.workspace.billing_email]
    assert "100.00 USD" in mail.outbox[0].body and "original payment method" in mail.outbox[0].body


def test_submitting_twice_returns_the_open_request():
    subscription = paid_subscription("orgix")
    first, _ = submit(subscription)

    second, created = submit(subscription, reason="other")

    assert not created and second.pk == first.pk
    assert CancellationRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "reason", "text", "field"),
    [
        ("paid", "bored", "", "reason"),
        ("paid", "other", "x" * 2001, "reason_text"),
        ("free", "other", "", "subscription"),
        ("cancelled", "other", "", "subscription"),
        ("expired", "other", "", "subscription"),
        ("none", "other", "", "subscription"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(setup, reason, text, field):
    workspace = WorkspaceFactory()
    if setup == "paid":
        paid_subscription("orgix", workspace=workspace)
    elif setup == "free":
        SubscriptionFactory(workspace=workspace, plan=free_plan("orgix"))
    elif setup in ("cancelled", "expired"):
        paid_subscription("orgix", workspace=workspace, **{setup: True})
    audits = AuditRecord.objects.count()

    with pytest.raises(DomainError) as error:
        cancellation_submit(
            workspace=workspace,
            actor=workspace.owner,
            reason=reason,
            reason_text=text,
            now=MID_PERIOD,
        )

    assert error.value.field == field
    assert CancellationRequest.objects.count() == 0
    assert AuditRecord.objects.count() == audits


def test_a_scheduled_cancellation_cannot_be_requested_again():
    subscription = paid_subscription("orgix")
    request, _ = submit(subscription)
    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    with pytest.raises(DomainError) as error:
        submit(subscription)

    assert error.value.field == "subscription" and "ends on 01 April 2026" in error.value.message


def test_withdrawing_twice_is_refused_naming_the_status():
    request, _ = submit(paid_subscription("orgix"))
    cancellation_withdraw(request=request, actor=request.requested_by, now=MID_PERIOD)

    with pytest.raises(InvalidTransition) as error:
        cancellation_withdraw(request=request, actor=request.requested_by, now=MID_PERIOD)

    assert error.value.field == "status"
    assert CancellationRequest.objects.get().status == CancellationRequest.Status.WITHDRAWN


def test_assign_moves_to_review_and_is_audited():
    request, _ = submit(paid_subscription("orgix"))
    agent = make_agent()

    request = cancellation_assign(request=request, agent=agent, now=MID_PERIOD)

    assert request.status == CancellationRequest.Status.IN_REVIEW
    assert request.assigned_to == agent
    record = AuditRecord.objects.get(action="cancellation.in_review")
    assert record.before["status"] == "submitted" and record.after["assigned_to"] == agent.pk


def test_orgix_approval_waits_for_period_end_then_moves_to_a_restricted_free_plan(
    django_capture_on_commit_callbacks,
):
    subscription = paid_subscription("orgix")
    free = free_plan("orgix")
    crowd(subscription.workspace, seats=5)
    request, _ = submit(subscription)
    agent = make_agent()

    request = cancellation_approve(request=request, actor=agent, now=MID_PERIOD)
    subscription.refresh_from_db()
    assert request.status == CancellationRequest.Status.APPROVED
    assert subscription.is_live and subscription.cancel_at_period_end
    assert subscription.cancel_effective_at == subscription.current_period_end
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        completed = cancellation_apply(
            subscription=subscription, now=subscription.current_period_end
        )

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED
    assert completed.status == CancellationRequest.Status.COMPLETED
    live = Subscription.objects.get(workspace=subscription.workspace, status="active")
    assert live.plan == free
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    assert workspace.status == Workspace.Status.RESTRICTED
    # It lives on on the Free plan (orgix §3): not ended, so no deletion is scheduled.
    assert (workspace.ended_at, workspace.deletion_due_at) == (None, None)
    assert [m.subject for m in mail.outbox] == ["Your subscription has ended"]


def test_orgix_within_free_limits_stays_active():
    subscription = paid_subscription("orgix")
    free_plan("orgix")
    request, _ = submit(subscription)
    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    cancellation_apply(subscription=subscription, now=subscription.current_period_end)

    assert Workspace.objects.get(pk=subscription.workspace_id).status == Workspace.Status.ACTIVE


def test_connex_refund_is_proposed_and_the_workspace_disabled_at_once():
    subscription = refundable_connex()
    request, _ = submit(subscription)

    request = cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    refund = Refund.objects.get()
    assert (refund.amount, refund.destination) == (Decimal("100.00"), "original_payment_method")
    assert refund.status == Refund.Status.PROPOSED and refund.cancellation == request
    assert request.status == CancellationRequest.Status.COMPLETED
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    assert workspace.status == Workspace.Status.DISABLED
    # connex keeps the data 90 days after the end, unless inactivity (90 days) comes first.
    assert workspace.ended_at == MID_PERIOD
    assert workspace.deletion_due_at == min(
        MID_PERIOD + dt.timedelta(days=90), workspace.last_activity_at + dt.timedelta(days=90)
    )


def test_prorated_credit_refunds_to_credit_and_expires_the_subscription():
    subscription = paid_subscription("prorated-credit")
    request, _ = submit(subscription)

    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    refund = Refund.objects.get()
    assert refund.destination == "customer_credit" and refund.amount == request.quoted_refund
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.EXPIRED


def test_sync_with_connex_inside_notice_ends_at_the_following_renewal():
    subscription = paid_subscription("sync-with-connex")
    request, _ = submit(subscription, now=INSIDE_NOTICE)

    cancellation_approve(request=request, actor=make_agent(), now=INSIDE_NOTICE)

    subscription.refresh_from_db()
    assert request.quote["notice_applied"] and request.quote["amount_due"] == "100.00"
    assert subscription.cancel_effective_at.date().isoformat() == "2026-05-01"


def test_reject_needs_a_reason_the_customer_sees(django_capture_on_commit_callbacks):
    request, _ = submit(paid_subscription("orgix"))
    agent = make_agent()
    with pytest.raises(DomainError) as error:
        cancellation_reject(request=request, actor=agent, reason="  ", now=MID_PERIOD)
    assert error.value.field == "reason"

    with django_capture_on_commit_callbacks(execute=True):
        request = cancellation_reject(
            request=request, actor=agent, reason="Annual contract: ends in June", now=MID_PERIOD
        )

    assert request.status == CancellationRequest.Status.REJECTED
    assert request.rejection_reason == "Annual contract: ends in June"
    assert "Annual contract: ends in June" in mail.outbox[-1].body


def test_apply_without_a_free_plan_raises_and_changes_nothing():
    subscription = paid_subscription("orgix")  # orgix falls back to a Free plan: none here
    request, _ = submit(subscription)
    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)
    audits = AuditRecord.objects.count()

    with pytest.raises(DomainError) as error:
        cancellation_apply(subscription=subscription, now=subscription.current_period_end)

    assert (error.value.field, error.value.message) == (
        "plan",
        "No active Free plan exists for orgix.",
    )
    subscription.refresh_from_db()
    request.refresh_from_db()
    assert subscription.is_live and request.status == CancellationRequest.Status.APPROVED
    assert AuditRecord.objects.count() == audits


def test_apply_queues_its_completed_email_on_a_task_of_its_own(
    django_capture_on_commit_callbacks, monkeypatch
):
    subscription = paid_subscription("orgix")
    free_plan("orgix")
    request, _ = submit(subscription)
    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)
    queued = []
    monkeypatch.setattr(
        "billing.tasks.send_customer_email.delay", lambda *args: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        completed = cancellation_apply(
            subscription=subscription, now=subscription.current_period_end
        )

    assert (completed.pk, completed.status) == (request.pk, CancellationRequest.Status.COMPLETED)
    assert queued == [("cancellation_completed", request.pk, {})]


def test_apply_twice_changes_nothing_more():
    subscription = paid_subscription("orgix")
    free_plan("orgix")
    request, _ = submit(subscription)
    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)
    end = subscription.current_period_end
    cancellation_apply(subscription=subscription, now=end)
    audits = AuditRecord.objects.count()

    assert cancellation_apply(subscription=subscription, now=end) is None

    assert AuditRecord.objects.count() == audits
    assert Subscription.objects.filter(workspace=subscription.workspace).count() == 2


def test_over_free_limits_writes_are_refused_with_the_fix():
    subscription = SubscriptionFactory(plan=free_plan("orgix"))
    workspace = subscription.workspace
    crowd(workspace, seats=3)

    with pytest.raises(LimitExceeded) as error:
        workspace_ensure_allowed(workspace=workspace, action=Action.ADD_USER, now=MID_PERIOD)
    assert error.value.field == "add_user" and "allows 3 seats" in error.value.message

    workspace_ensure_allowed(workspace=workspace, action=Action.ENABLE_MODULE, now=MID_PERIOD)
    with pytest.raises(LimitExceeded) as error:
        workspace_ensure_allowed(workspace=workspace, action=Action.ADD_PAID_ADDON, now=MID_PERIOD)
    assert "upgrade to a paid plan" in error.value.message
    assert workspace_restrictions(workspace, now=MID_PERIOD) == ()


def test_a_workspace_without_a_plan_may_only_read():
    subscription = paid_subscription("connex", cancelled=True)

    with pytest.raises(LimitExceeded) as error:
        workspace_ensure_allowed(
            workspace=subscription.workspace, action=Action.UPLOAD, now=MID_PERIOD
        )

    assert error.value.field == "upload" and "only read" in error.value.message


def test_service_logs_carry_no_email_address(caplog, django_capture_on_commit_callbacks):
    subscription = paid_subscription("orgix")
    caplog.set_level(logging.INFO)

    with django_capture_on_commit_callbacks(execute=True):
        submit(subscription)

    assert caplog.records and "@" not in caplog.text


@pytest.mark.postgres("row locks (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_create_one_request():
    subscription = paid_subscription("orgix")
    start = threading.Barrier(2)
    results = []

    def worker():
        start.wait()
        try:
            results.append(submit(subscription))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(created for _, created in results) == [False, True]
    assert len({request.pk for request, _ in results}) == 1
    assert CancellationRequest.objects.count() == 1


def _blocked_on_a_lock(timeout: float = 10.0) -> bool:
    """Whether another session of this database waits on a lock (polled until `timeout`)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.postgres("row locks (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True)
def test_a_submit_that_waited_for_the_lock_returns_the_request_committed_meanwhile():
    subscription = paid_subscription("orgix")
    results = []

    def waiting():
        try:
            results.append(submit(subscription))
        finally:
            connections.close_all()

    thread = threading.Thread(target=waiting)
    with transaction.atomic():
        winner, created = submit(subscription)  # holds the workspace's lock until commit
        thread.start()
        assert _blocked_on_a_lock()
    thread.join()

    assert created and results == [(winner, False)]
    assert results[0][0].status == CancellationRequest.Status.SUBMITTED
    assert CancellationRequest.objects.count() == 1
    assert AuditRecord.objects.filter(action="cancellation.submit").count() == 1
