from django.core.management.base import BaseCommand, CommandParser

from billing.services.plan_changes import (
    addon_endings_due,
    pending_downgrades_due,
    plan_changes_apply_due,
)

from ._job_arguments import add_job_arguments, job_moment


class Command(BaseCommand):
    help = (
        "Applies every pending downgrade whose effective date is at or before --now, and "
        "re-checks the limits of live subscriptions whose add-ons ended in the last three "
        "days: a workspace over its limits is restricted with a message naming them, one "
        "back within them is restored. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args, now: str | None, dry_run: bool, batch_size: int, **options):
        moment = job_moment(now, batch_size)
        if dry_run:
            self.stdout.write(
                f"dry run: downgrades_due={pending_downgrades_due(moment).count()} "
                f"addon_endings={addon_endings_due(moment).count()} at {moment.isoformat()}"
            )
            return
        summary = plan_changes_apply_due(now=moment, batch_size=batch_size)
        self.stdout.write(f"{summary.as_line()} at {moment.isoformat()}")
