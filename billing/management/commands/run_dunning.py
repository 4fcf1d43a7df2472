from django.core.management.base import BaseCommand, CommandParser

from billing.services.dunning import dunning_due_queryset, dunning_run_due

from ._job_arguments import add_job_arguments, job_moment


class Command(BaseCommand):
    help = (
        "For every past-due or suspended subscription: retries the unpaid charge when its "
        "retry is due (policy schedule, counted from the first failure), suspends it once "
        "the grace period is over, expires it at the end of dunning (no refund, discount "
        "void). Owners are e-mailed at each step. Idempotent: a second run the same day "
        "does nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args, now: str | None, dry_run: bool, batch_size: int, **options):
        moment = job_moment(now, batch_size)
        if dry_run:
            due = dunning_due_queryset(moment).count()
            self.stdout.write(f"dry run: due={due} at {moment.isoformat()}")
            return
        summary = dunning_run_due(now=moment, batch_size=batch_size)
        self.stdout.write(f"{summary.as_line()} at {moment.isoformat()}")
