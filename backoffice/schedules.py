"""The periodic jobs, stored in django-celery-beat's tables so agents see them in the admin.

`sync_schedules()` runs after `migrate` (see billing/apps.py): it creates missing entries
and updates the crontab of existing ones; an agent may still disable one in the admin.
Each entry: the task's registered name and a crontab (minute, hour) in UTC.
"""

SCHEDULES: list[dict] = [
    {
        "name": "Apply period-end changes (cancellations, downgrades)",
        "task": "billing.apply_period_end_changes",
        "minute": "5",
        "hour": "*",
        "description": "Ends subscriptions whose cancellation takes effect now, then applies "
        "due downgrades and add-on endings; idempotent.",
    },
    {
        "name": "Renew subscriptions",
        "task": "billing.renew_subscriptions",
        "minute": "20",
        "hour": "*",
        "description": "Charges the next period of subscriptions whose period or trial ended "
        "(credit first); idempotent per subscription and period.",
    },
    {
        "name": "Run dunning",
        "task": "billing.run_dunning",
        "minute": "30",
        "hour": "6",
        "description": "Retries unpaid charges on the policy schedule, suspends after the grace "
        "period, expires at the end; idempotent per day.",
    },
    {
        "name": "Purge inactive workspaces",
        "task": "accounts.tasks.purge_inactive_workspaces_daily",
        "minute": "30",
        "hour": "3",
        "description": "Recomputes retention dates, warns owners before deletion, erases the "
        "workspaces whose deletion is due (fanned out in batches); idempotent.",
    },
    {
        "name": "Queue tasks the broker refused",
        "task": "accounts.requeue_unqueued_tasks",
        "minute": "*/5",
        "hour": "*",
        "description": "Hands to the broker the e-mails, refund executions and replays it could "
        "not take when their change committed (kept as unqueued tasks).",
    },
]


def sync_schedules(**kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for entry in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=entry["minute"],
            hour=entry["hour"],
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=entry["name"],
            defaults={
                "task": entry["task"],
                "crontab": crontab,
                "description": entry["description"],
            },
        )
