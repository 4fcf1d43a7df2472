from datetime import datetime

from django.core.management.base import CommandParser

from backoffice.commands import ProjectCommand, add_job_arguments, now_or_default
from billing.services.dunning_job import dunning_due_queryset, dunning_run_due


class Command(ProjectCommand):
    help = (
        "For every past-due or suspended subscription: retries the unpaid charge when its "
        "retry is due (policy schedule, counted from the first failure), suspends it once "
        "the grace period is over, expires it at the end of dunning (no refund, discount "
        "void). Owners are e-mailed at each step. Idempotent: a second run the same day "
        "does nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args, now: datetime | None, dry_run: bool, batch_size: int, **options):
        moment = now_or_default(now)
        if dry_run:
            due = dunning_due_queryset(moment).count()
            self.stdout.write(f"dry run: due={due} at {moment.isoformat()}")
            return
        summary = dunning_run_due(now=moment, batch_size=batch_size)
        self.stdout.write(f"{summary.as_line()} at {moment.isoformat()}")
