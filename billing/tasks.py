"""Celery tasks: thin shells around services (the beat schedule is in backoffice/schedules.py)."""

from celery import shared_task
from django.utils import timezone

from billing.services.dunning import dunning_run_due
from billing.services.plan_changes import plan_changes_apply_due
from billing.services.renewals import subscriptions_renew_due


@shared_task(name="billing.renew_subscriptions")
def renew_subscriptions() -> str:
    """The same as `manage.py renew_subscriptions`, for the beat schedule."""
    return subscriptions_renew_due(now=timezone.now()).as_line()


@shared_task(name="billing.run_dunning")
def run_dunning() -> str:
    """The same as `manage.py run_dunning`, for the beat schedule."""
    return dunning_run_due(now=timezone.now()).as_line()


@shared_task(name="billing.apply_plan_changes")
def apply_plan_changes() -> str:
    """The same as `manage.py apply_plan_changes`, for the beat schedule."""
    return plan_changes_apply_due(now=timezone.now()).as_line()
