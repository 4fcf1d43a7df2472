"""Celery beat schedule, as data: each entry is wired to a django-celery-beat
PeriodicTask (crontab in UTC). Helpers append their entries; the integrator wires them."""

BEAT_SCHEDULE: list[dict] = [
    {
        "name": "Purge inactive workspaces (daily)",
        "task": "accounts.tasks.purge_inactive_workspaces_daily",
        "crontab": {"minute": "30", "hour": "3"},
    },
]
