"""The lifecycle jobs' shells: commands, Celery tasks and beat schedules."""

import datetime as dt
from io import StringIO
from smtplib import SMTPException

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from billing import tasks
from billing.models import Payment
from billing.services.plan_changes import subscription_downgrade
from tests.factories.lifecycle import family_plans, subscription_on

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_renew_command_dry_run_counts_and_changes_nothing_then_renews_once():
    subscription_on(family_plans("orgix")["pro"], start=JAN)

    dry = run("renew_subscriptions", "--now", "2025-02-01T00:00:00Z", "--dry-run")
    assert dry.startswith("dry run: due=1") and not Payment.objects.exists()
    first = run("renew_subscriptions", "--now", "2025-02-01T00:00:00Z", "--batch-size", "10")
    second = run("renew_subscriptions", "--now", "2025-02-01T00:00:00Z")

    assert first.startswith("renewed=1 ") and second.startswith("renewed=0 ")
    assert Payment.objects.count() == 1


def test_dunning_and_plan_change_commands_print_a_summary():
    assert run("run_dunning", "--now", "2025-02-01", "--dry-run").startswith("dry run: due=0")
    assert run("run_dunning", "--now", "2025-02-01").startswith("examined=0 ")
    assert "downgrades_applied=0 " in run("apply_period_end_changes", "--now", "2025-02-01")
    assert "downgrades due: 0" in run(
        "apply_period_end_changes", "--now", "2025-02-01", "--dry-run"
    )


@pytest.mark.parametrize(
    ("args", "field"), [(["--now", "tomorrow"], "--now"), (["--batch-size", "0"], "--batch-size")]
)
def test_bad_job_arguments_name_the_option_and_exit_2(args, field):
    with pytest.raises(CommandError) as error:
        call_command("renew_subscriptions", *args)

    assert str(error.value).startswith(field) and error.value.returncode == 2


def test_tasks_call_the_same_services():
    assert tasks.renew_subscriptions.delay().get() == "renewal batches queued=0"
    assert tasks.run_dunning.delay().get() == "dunning batches queued=0"
    assert tasks.apply_period_end_changes.delay().get() == (
        "period-end batches queued: end=0 downgrade=0 addon_limits=0"
    )


def test_the_jobs_are_in_the_beat_schedule():
    names = set(PeriodicTask.objects.values_list("task", flat=True))

    assert {
        "billing.renew_subscriptions",
        "billing.run_dunning",
        "billing.apply_period_end_changes",
    } <= names


def test_the_period_end_job_applies_a_due_downgrade_once():
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=JAN)
    subscription_downgrade(
        subscription=subscription, plan=plans["basic"], actor=None, now=JAN + dt.timedelta(days=5)
    )

    first = run("apply_period_end_changes", "--now", "2025-02-01T00:00:00Z")
    second = run("apply_period_end_changes", "--now", "2025-02-01T00:00:00Z")

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan) == (plans["basic"], None)
    assert "downgrades_applied=1 " in first and "downgrades_applied=0 " in second


def test_the_renewal_task_fans_the_due_subscriptions_out_in_batches(monkeypatch):
    monkeypatch.setattr(tasks, "JOB_BATCH_SIZE", 2)
    subscriptions = [subscription_on(family_plans("orgix")["pro"], start=JAN) for _ in range(3)]

    with time_machine.travel(dt.datetime(2025, 2, 1, 1, tzinfo=dt.UTC), tick=False):
        queued = tasks.renew_subscriptions.delay().get()

    assert queued == "renewal batches queued=2"
    assert Payment.objects.filter(subscription__in=subscriptions).count() == 3


def test_the_emails_of_a_batch_are_sent_in_turn_and_a_refused_one_retried_alone(monkeypatch):
    sent, retried = [], []

    def email_send(*, kind, object_id, extra):
        if object_id == 2:
            raise SMTPException("421 try again later")
        sent.append((kind, object_id))
        return True

    monkeypatch.setattr(tasks, "email_send", email_send)
    monkeypatch.setattr(tasks.send_customer_email, "delay", lambda *args: retried.append(args))

    result = tasks.send_customer_emails.delay(
        [["dunning_suspended", 1, {}], ["dunning_suspended", 2, {}], ["dunning_expired", 3, {}]]
    ).get()

    assert result == "sent=2 of 3"
    assert sent == [("dunning_suspended", 1), ("dunning_expired", 3)]
    assert retried == [("dunning_suspended", 2, {})]


def test_a_batch_redelivered_after_its_worker_died_sends_only_what_was_left(monkeypatch):
    sent, died = [], []

    class WorkerDied(BaseException):
        """Like the SIGKILL of a worker: nothing in the task catches it."""

    def dies_at_the_third(*, kind, object_id, extra):
        if object_id == 3 and not died:
            died.append(object_id)
            raise WorkerDied
        sent.append(object_id)
        return True

    monkeypatch.setattr(tasks, "email_send", dies_at_the_third)
    emails = [["dunning_suspended", n, {}] for n in (1, 2, 3, 4)]
    with pytest.raises(WorkerDied):
        tasks.send_customer_emails.apply(args=[emails], task_id="batch-1", throw=True)

    result = tasks.send_customer_emails.apply(args=[emails], task_id="batch-1").get()
    again = tasks.send_customer_emails.apply(args=[emails], task_id="batch-2").get()

    assert sent == [1, 2, 3, 4, 1, 2, 3, 4]  # batch-1 twice, then batch-2 whole
    assert (result, again) == ("sent=2 of 4 (2 already sent)", "sent=4 of 4")
