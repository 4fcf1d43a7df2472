"""The scheduled jobs as agents read them: the schedule in words ("daily at 03:30 UTC")
and when each last ran, on django-celery-beat's own admin (same actions and form)."""

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from backoffice.display import local_datetime

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def crontab_in_words(crontab: CrontabSchedule) -> str:
    """The common shapes in words; anything else as its cron expression."""
    minute, hour = _number(crontab.minute), _number(crontab.hour)
    zone = str(crontab.timezone)
    every_day = (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
    weekday = _number(crontab.day_of_week)
    if minute is not None and crontab.hour == "*" and every_day and crontab.day_of_week == "*":
        return f"hourly at :{minute:02d}"
    if minute is not None and hour is not None and every_day:
        at = f"{hour:02d}:{minute:02d} {zone}"
        if crontab.day_of_week == "*":
            return f"daily at {at}"
        if weekday is not None and weekday < 7:
            return f"every {DAY_NAMES[weekday]} at {at}"
    expression = " ".join(
        [
            crontab.minute,
            crontab.hour,
            crontab.day_of_month,
            crontab.month_of_year,
            crontab.day_of_week,
        ]
    )
    return f"cron “{expression}” ({zone})"


def schedule_in_words(task: PeriodicTask) -> str:
    if task.crontab_id:
        return crontab_in_words(task.crontab)
    if task.interval_id:
        interval = task.interval
        unit = interval.period.rstrip("s") if interval.every == 1 else interval.period
        return f"every {interval.every} {unit}" if interval.every != 1 else f"every {unit}"
    if task.clocked_id:
        return f"once, at {local_datetime(task.clocked.clocked_time)}"
    if task.solar_id:
        return f"at {task.solar.get_event_display().lower()}"
    return "no schedule"


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    list_display = ["name", "schedule", "last_run", "total_run_count", "enabled"]
    list_select_related = ["crontab", "interval", "clocked", "solar"]
    date_hierarchy = None
    list_filter = ["enabled", "one_off"]

    @admin.display(description="schedule")
    def schedule(self, obj: PeriodicTask) -> str:
        return schedule_in_words(obj)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, obj: PeriodicTask) -> str:
        return local_datetime(obj.last_run_at, empty="never yet")
