"""Dunning: failed charge → retries → suspension → expiry, recovery, agents' actions."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditRecord, Workspace
from billing.errors import DomainError, InvalidTransition
from billing.models import Payment, Subscription
from billing.policy.lifecycle import DunningStep, dunning_steps_due
from billing.policy.presets import CONNEX
from billing.services.dunning import (
    dunning_extend_grace,
    dunning_retry_now,
    subscription_charge_failed,
    subscription_reinstate,
)
from billing.services.dunning_job import dunning_run_due
from billing.services.renewals import subscriptions_renew_due
from tests.factories import UserFactory
from tests.factories.lifecycle import ScriptedGateway, family_plans, subscription_on

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FEB = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    """n days after the failed renewal of Feb 1."""
    return FEB + dt.timedelta(days=n)


def failed_renewal(policy="connex", **kwargs):
    subscription = subscription_on(family_plans(policy)["pro"], start=JAN, **kwargs)
    gateway = ScriptedGateway()
    gateway.declining = True
    subscriptions_renew_due(now=FEB, gateway=gateway)
    subscription.refresh_from_db()
    return subscription, gateway


def workspace_of(subscription):
    return Workspace.objects.get(pk=subscription.workspace_id)


@pytest.mark.parametrize(
    ("now", "status", "expected"),
    [
        (day(0), "past_due", ()),
        (day(1), "past_due", (DunningStep.RETRY,)),
        (day(14), "past_due", (DunningStep.RETRY, DunningStep.SUSPEND)),
        (day(20), "suspended", ()),
        (day(30), "suspended", (DunningStep.EXPIRE,)),
    ],
)
def test_the_dunning_steps_follow_the_policy_schedule(now, status, expected):
    steps = dunning_steps_due(
        CONNEX.dunning,
        status=status,
        grace_until=day(14),
        next_retry=day(1) if now < day(20) else None,
        now=now,
    )
    assert steps == expected


def test_a_failed_renewal_makes_the_subscription_past_due_and_restricts(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        subscription, _ = failed_renewal()

    assert subscription.status == "past_due"
    assert (subscription.past_due_since, subscription.next_retry_at, subscription.grace_until) == (
        FEB,
        day(1),
        day(14),
    )
    assert subscription.current_period_end == FEB  # not rolled until paid
    failed = Payment.objects.get()
    assert (failed.status, failed.amount, failed.failure_message) == (
        "failed",
        Decimal("100.00"),
        "Your card was declined.",
    )
    workspace = workspace_of(subscription)
    assert (workspace.status, workspace.suspension_reason) == ("restricted", "non_payment")
    assert [m.subject for m in mailoutbox] == [f"Payment failed for {workspace.name}"]


def test_the_webhook_entry_point_is_idempotent():
    subscription, _ = failed_renewal()

    again = subscription_charge_failed(
        subscription=subscription, payment_failure_message="again", now=day(2)
    )

    assert (again.past_due_since, again.dunning_attempts) == (FEB, 1)
    assert AuditRecord.objects.filter(action="subscription.past_due").count() == 1


def test_unpaid_dunning_retries_suspends_then_expires_with_an_email_each_step(
    django_capture_on_commit_callbacks, mailoutbox
):
    subscription, gateway = failed_renewal(discount_percent=Decimal("10"))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        runs = {n: dunning_run_due(now=day(n), gateway=gateway) for n in (1, 1, 3, 5, 7, 8, 14, 29)}
        subscription.refresh_from_db()
        assert (subscription.status, subscription.dunning_attempts) == ("suspended", 5)
        assert workspace_of(subscription).status == "suspended"
        expiry = dunning_run_due(now=day(30), gateway=gateway)

    assert [runs[n].retried for n in (1, 3, 5, 7, 8, 14, 29)] == [0, 1, 1, 1, 0, 0, 0]
    assert (runs[14].suspended, expiry.expired) == (1, 1)
    subscription.refresh_from_db()
    assert subscription.status == "expired" and subscription.discount_void
    assert subscription.ended_at == day(30) and subscription.next_retry_at is None
    workspace = workspace_of(subscription)
    assert workspace.status == "disabled"  # connex falls back to a disabled account
    assert not Payment.objects.filter(status="succeeded").exists()  # no charge, no refund
    assert [m.subject.split(" for ")[0].split(" is ")[0] for m in mailoutbox] == [
        "Payment retry failed",
        "Payment retry failed",
        "Payment retry failed",
        "Payment retry failed",
        workspace.name,
        f"Your {subscription.plan.name} subscription has expired",
    ]


def test_orgix_expiry_falls_back_to_the_free_plan():
    subscription, gateway = failed_renewal("orgix")

    dunning_run_due(now=day(45), gateway=gateway)

    assert workspace_of(subscription).status == "active"
    live = Subscription.objects.get(workspace=subscription.workspace_id, status="active")
    assert live.plan.is_free and workspace_of(subscription).ended_at is None


def test_a_successful_retry_recovers_rolls_the_period_and_restores_access():
    subscription, gateway = failed_renewal("orgix")
    dunning_run_due(now=day(1), gateway=gateway)
    gateway.declining = False

    summary = dunning_run_due(now=day(3), gateway=gateway)

    subscription.refresh_from_db()
    assert summary.recovered == 1
    assert subscription.status == "active" and subscription.past_due_since is None
    assert (subscription.current_period_start, subscription.current_period_end) == (
        FEB,
        dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    assert workspace_of(subscription).status == "active"
    assert [(p.status, p.amount) for p in Payment.objects.order_by("id")] == [
        ("failed", Decimal("100.00")),
        ("failed", Decimal("100.00")),
        ("succeeded", Decimal("100.00")),
    ]


def test_an_expired_subscription_cannot_be_reinstated():
    subscription, gateway = failed_renewal("prorated-credit")
    dunning_run_due(now=day(14), gateway=gateway)
    subscription.refresh_from_db()
    assert subscription.status == "expired"

    for action in (subscription_reinstate, dunning_retry_now):
        with pytest.raises(InvalidTransition) as error:
            action(subscription=subscription, actor=None, now=day(15), gateway=ScriptedGateway())
        assert "Buy a new subscription" in error.value.message


def test_an_agent_retries_now_and_it_is_audited():
    subscription, _ = failed_renewal()
    agent = UserFactory(is_staff=True)

    assert dunning_retry_now(
        subscription=subscription, actor=agent, now=day(2), gateway=ScriptedGateway()
    )

    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert AuditRecord.objects.filter(action="subscription.retry_now", actor=agent).exists()


def test_a_retry_now_is_the_jobs_retry_with_the_agent_and_an_email_task_of_its_own(
    django_capture_on_commit_callbacks, monkeypatch
):
    subscription, _ = failed_renewal()
    agent = UserFactory(is_staff=True)
    queued = []
    monkeypatch.setattr(
        "billing.tasks.send_customer_email.delay", lambda *args: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        recovered = dunning_retry_now(
            subscription=subscription, actor=agent, now=day(2), gateway=ScriptedGateway()
        )

    assert recovered
    subscription.refresh_from_db()
    assert (subscription.past_due_since, subscription.dunning_attempts) == (None, 0)
    assert workspace_of(subscription).status == "active"
    for action in ("subscription.recovered", "workspace.status"):
        assert AuditRecord.objects.filter(action=action, created_at=day(2)).get().actor == agent
    assert [(kind, pk) for kind, pk, _payload in queued] == [("dunning_recovered", subscription.pk)]


def test_a_declined_retry_now_schedules_the_next_retry():
    subscription, gateway = failed_renewal()

    assert not dunning_retry_now(subscription=subscription, actor=None, now=day(2), gateway=gateway)

    subscription.refresh_from_db()
    assert (subscription.status, subscription.dunning_attempts) == ("past_due", 2)
    assert subscription.next_retry_at == day(3)
    assert AuditRecord.objects.filter(action="subscription.retry_failed").count() == 1


def test_an_agent_extends_the_grace_period_of_a_suspended_subscription():
    subscription, gateway = failed_renewal()
    dunning_run_due(now=day(14), gateway=gateway)
    agent = UserFactory(is_staff=True)

    extended = dunning_extend_grace(
        subscription=subscription, days=7, actor=agent, now=day(15), reason="Customer called"
    )

    assert (extended.status, extended.grace_until) == ("past_due", day(21))
    assert workspace_of(subscription).status == "restricted"
    record = AuditRecord.objects.get(action="subscription.extend_grace")
    assert (record.actor, record.note) == (agent, "Customer called")
    assert dunning_run_due(now=day(30), gateway=gateway).expired == 0  # expiry moved too
    assert dunning_run_due(now=day(37), gateway=gateway).expired == 1


@pytest.mark.parametrize(("days", "reason", "field"), [(0, "x", "days"), (5, " ", "reason")])
def test_extending_grace_needs_days_and_a_reason(days, reason, field):
    subscription, _ = failed_renewal()

    with pytest.raises(DomainError) as error:
        dunning_extend_grace(
            subscription=subscription, days=days, actor=None, now=day(2), reason=reason
        )

    assert error.value.field == field
