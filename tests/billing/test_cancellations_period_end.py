"""The period-end job: command, Celery task and schedule share `period_end_changes_apply`."""

import logging
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice.logging import RedactPersonalData, redact
from backoffice.schedules import SCHEDULES
from billing.models import CancellationRequest, Subscription
from billing.services.cancellations import cancellation_approve, cancellation_submit
from billing.tasks import apply_period_end_changes
from tests.factories.cancellations import (
    INSIDE_NOTICE,
    MID_PERIOD,
    free_plan,
    make_agent,
    paid_subscription,
)

pytestmark = pytest.mark.django_db


def approved(slug: str, *, now=MID_PERIOD) -> Subscription:
    subscription = paid_subscription(slug)
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="not_using",
        reason_text="",
        now=now,
    )
    cancellation_approve(request=request, actor=make_agent(f"agent-{slug}@x.example"), now=now)
    return subscription


def run(*args: str) -> str:
    out = StringIO()
    call_command("apply_period_end_changes", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_job_ends_due_cancellations_once_and_leaves_later_ones():
    free_plan("orgix")
    due = approved("orgix")
    later = approved("sync-with-connex", now=INSIDE_NOTICE)  # ends 2026-05-01

    first = run("--now", "2026-04-01T00:00:00+00:00", "--batch-size", "1")
    second = run("--now", "2026-04-01T00:00:00+00:00")

    assert "cancellations due: 1, applied: 1, failed: 0" in first
    assert "cancellations due: 0, applied: 0" in second
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Subscription.Status.CANCELLED
    assert later.is_live
    assert CancellationRequest.objects.filter(status="completed").count() == 1


def test_dry_run_counts_and_changes_nothing():
    free_plan("orgix")
    subscription = approved("orgix")

    output = run("--now", "2026-04-02T00:00:00Z", "--dry-run")

    assert output.startswith("dry run: cancellations due: 1, applied: 0")
    subscription.refresh_from_db()
    assert subscription.is_live


def test_a_bad_now_names_the_option_and_exits_2():
    with pytest.raises(CommandError) as error:
        run("--now", "next tuesday")

    assert error.value.returncode == 2 and "--now" in str(error.value)


def test_the_celery_task_fans_the_due_cancellations_out_as_batch_tasks():
    free_plan("orgix")
    subscription = approved("orgix")

    with time_machine.travel("2026-04-01T00:00:01Z", tick=False):
        summary = apply_period_end_changes.delay().get()

    assert summary == "period-end batches queued: end=1 downgrade=0 addon_limits=0"
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED


def test_the_job_is_scheduled():
    tasks = {entry["task"] for entry in SCHEDULES}

    assert "billing.apply_period_end_changes" in tasks


def test_log_lines_lose_emails_cards_and_tokens():
    record = logging.LogRecord(
        "billing",
        logging.INFO,
        __file__,
        1,
        "user %s paid with 4242 4242 4242 4242 token=abc123def456 key sk_live_abcdef123456",
        ("ann@example.com",),
        None,
    )

    RedactPersonalData().filter(record)

    message = record.getMessage()
    assert "ann@example.com" not in message and "[email]" in message
    assert "4242" not in message and "abc123def456" not in message and "sk_live" not in message
    assert "9944b09199c6" not in redact("Authorization: Token 9944b09199c6")
