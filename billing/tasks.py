"""Celery tasks: thin shells around services (the beat schedule is in backoffice/schedules.py).

The renewal, period-end and dunning jobs fan out: the scheduled task reads the due ids in
keyset pages and queues one batch task per page, so several workers share a large run.
Batches claim their rows with SKIP LOCKED and re-check the due condition on the locked
rows, so a redelivered or overlapping batch does nothing more.
"""

from datetime import datetime
from smtplib import SMTPException

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from billing.emails import email_send
from billing.services.cancellation_endings import subscriptions_end_batch
from billing.services.dunning_job import dunning_batches, dunning_run_batch
from billing.services.period_end import period_end_batches
from billing.services.period_end_plans import addon_endings_check_batch, downgrades_apply_batch
from billing.services.refunds import RefundRetryable, refund_execute
from billing.services.renewals import renewal_batches, subscriptions_renew_batch
from billing.services.replays import policy_replay_run

JOB_BATCH_SIZE = 500


@shared_task(name="billing.renew_subscriptions")
def renew_subscriptions() -> str:
    """What `manage.py renew_subscriptions` does, fanned out as batch tasks."""
    now = timezone.now()
    queued = 0
    for ids in renewal_batches(now=now, batch_size=JOB_BATCH_SIZE):
        renew_subscriptions_batch.delay(ids, now.isoformat())
        queued += 1
    return f"renewal batches queued={queued}"


@shared_task(name="billing.renew_subscriptions_batch", acks_late=True)
def renew_subscriptions_batch(subscription_ids: list[int], now: str) -> str:
    return subscriptions_renew_batch(
        subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    ).as_line()


@shared_task(name="billing.run_dunning")
def run_dunning() -> str:
    """What `manage.py run_dunning` does, fanned out as batch tasks."""
    now = timezone.now()
    queued = 0
    for ids in dunning_batches(now=now, batch_size=JOB_BATCH_SIZE):
        run_dunning_batch.delay(ids, now.isoformat())
        queued += 1
    return f"dunning batches queued={queued}"


@shared_task(name="billing.run_dunning_batch", acks_late=True)
def run_dunning_batch(subscription_ids: list[int], now: str) -> str:
    return dunning_run_batch(
        subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    ).as_line()


@shared_task(name="billing.apply_period_end_changes")
def apply_period_end_changes() -> str:
    """What `manage.py apply_period_end_changes` does, fanned out as batch tasks (in any
    order: a subscription ending now is never downgraded)."""
    now = timezone.now()
    queued = dict.fromkeys(PERIOD_END_BATCH_TASKS, 0)
    for kind, ids in period_end_batches(now=now, batch_size=JOB_BATCH_SIZE):
        PERIOD_END_BATCH_TASKS[kind].delay(ids, now.isoformat())
        queued[kind] += 1
    return "period-end batches queued: " + " ".join(f"{k}={n}" for k, n in queued.items())


@shared_task(name="billing.end_subscriptions_batch", acks_late=True)
def end_subscriptions_batch(subscription_ids: list[int], now: str) -> str:
    summary = subscriptions_end_batch(
        subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    )
    return f"ended={summary.applied} skipped={summary.skipped} failed={len(summary.failed)}"


@shared_task(name="billing.apply_downgrades_batch", acks_late=True)
def apply_downgrades_batch(subscription_ids: list[int], now: str) -> str:
    return downgrades_apply_batch(
        subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    ).as_line()


@shared_task(name="billing.check_addon_limits_batch", acks_late=True)
def check_addon_limits_batch(subscription_ids: list[int], now: str) -> str:
    return addon_endings_check_batch(
        subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    ).as_line()


PERIOD_END_BATCH_TASKS = {
    "end": end_subscriptions_batch,
    "downgrade": apply_downgrades_batch,
    "addon_limits": check_addon_limits_batch,
}


@shared_task(
    name="billing.execute_refund",
    bind=True,
    autoretry_for=(RefundRetryable,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def execute_refund(self, refund_id: int) -> str:
    """Execute an approved refund; retryable gateway errors retry with exponential backoff,
    the last attempt marks the refund failed with the provider's message."""
    refund = refund_execute(
        refund_id=refund_id,
        now=timezone.now(),
        final_attempt=self.request.retries >= self.max_retries,
    )
    return refund.status


@shared_task(
    name="billing.send_customer_email",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
)
def send_customer_email(kind: str, object_id: int, extra: dict | None = None) -> str:
    """Render `emails/<kind>.txt` for the record and send it (`billing.emails`); mail
    server hiccups retry with backoff."""
    sent = email_send(kind=kind, object_id=object_id, extra=extra)
    return f"{kind} #{object_id}: {'sent' if sent else 'record gone'}"


# Longer than a broker's redelivery of an unacknowledged task (Redis' visibility timeout: 1 h).
EMAIL_MARK_SECONDS = 2 * 24 * 3600


@shared_task(name="billing.send_customer_emails", acks_late=True, bind=True)
def send_customer_emails(self, emails: list[list]) -> str:
    """The e-mails of one batch of a job (`billing.services.job_emails`), sent in turn; one
    the mail server refuses is handed to `send_customer_email`, which retries it alone.

    The task is acknowledged late, so a worker that dies mid-batch has it delivered again:
    each e-mail handled is marked in the cache under the task's id, and the redelivery
    skips those, instead of sending the whole batch a second time."""
    marks = [f"customer-emails:{self.request.id}:{i}" for i in range(len(emails))]
    done = cache.get_many(marks)
    sent = 0
    for mark, (kind, object_id, extra) in zip(marks, emails, strict=True):
        if mark in done:
            continue
        try:
            sent += email_send(kind=kind, object_id=object_id, extra=extra)
        except (SMTPException, OSError):
            send_customer_email.delay(kind, object_id, extra)
        cache.set(mark, 1, timeout=EMAIL_MARK_SECONDS)
    return f"sent={sent} of {len(emails)}" + (f" ({len(done)} already sent)" if done else "")


@shared_task(name="billing.replay_policy")
def replay_policy(replay_id: int) -> str:
    """Replay a policy version on past cases (the admin's "Replay" page queues it)."""
    return policy_replay_run(replay_id=replay_id, now=timezone.now()).status
