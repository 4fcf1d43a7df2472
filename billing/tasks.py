"""Celery tasks: thin shells around services (the beat schedule is in backoffice/schedules.py)."""

from celery import shared_task
from django.utils import timezone

from billing.services.period_end import period_end_changes_apply


@shared_task(name="billing.apply_period_end_changes")
def apply_period_end_changes() -> str:
    """The same as `manage.py apply_period_end_changes`, for the beat schedule."""
    return period_end_changes_apply(now=timezone.now()).as_line()
