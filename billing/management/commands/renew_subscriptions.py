from datetime import datetime

from django.core.management.base import CommandParser

from backoffice.commands import ProjectCommand, add_job_arguments, now_or_default
from billing.services.renewals import renewals_due, subscriptions_renew_due


class Command(ProjectCommand):
    help = (
        "Renews every active or trialing paid subscription whose period (or trial) ended at "
        "or before --now and that is not being cancelled: spends customer credit first, "
        "charges the rest through the gateway, rolls the period (pending downgrade applied, "
        "order packs reset per policy). A declined charge starts dunning. Idempotent: a "
        "second run the same day charges nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args, now: datetime | None, dry_run: bool, batch_size: int, **options):
        moment = now_or_default(now)
        if dry_run:
            self.stdout.write(
                f"dry run: due={renewals_due(moment).count()} at {moment.isoformat()}"
            )
            return
        summary = subscriptions_renew_due(now=moment, batch_size=batch_size)
        self.stdout.write(f"{summary.as_line()} at {moment.isoformat()}")
