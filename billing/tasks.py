"""Celery tasks: thin shells around services (the beat schedule is in backoffice/schedules.py)."""

from celery import shared_task
from django.utils import timezone

from billing.services.dunning import dunning_run_due
from billing.services.period_end import period_end_changes_apply
from billing.services.refunds import RefundRetryable, refund_execute
from billing.services.renewals import subscriptions_renew_due
from billing.services.replays import policy_replay_run


@shared_task(name="billing.renew_subscriptions")
def renew_subscriptions() -> str:
    """The same as `manage.py renew_subscriptions`, for the beat schedule."""
    return subscriptions_renew_due(now=timezone.now()).as_line()


@shared_task(name="billing.run_dunning")
def run_dunning() -> str:
    """The same as `manage.py run_dunning`, for the beat schedule."""
    return dunning_run_due(now=timezone.now()).as_line()


@shared_task(name="billing.apply_period_end_changes")
def apply_period_end_changes() -> str:
    """The same as `manage.py apply_period_end_changes`, for the beat schedule."""
    return period_end_changes_apply(now=timezone.now()).as_line()


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


@shared_task(name="billing.replay_policy")
def replay_policy(replay_id: int) -> str:
    """Replay a policy version on past cases (the admin's "Replay" page queues it)."""
    return policy_replay_run(replay_id=replay_id, now=timezone.now()).status
