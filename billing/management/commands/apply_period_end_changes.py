from datetime import datetime

from django.core.management.base import CommandParser

from backoffice.commands import ProjectCommand, add_job_arguments, now_or_default
from billing.services.period_end import period_end_changes_apply


class Command(ProjectCommand):
    help = (
        "Ends every live subscription whose approved cancellation takes effect at or before "
        "--now (cancel_effective_at <= now) and moves its workspace to the policy's fallback "
        "(Free plan, disabled or expired); then applies the downgrades due at the period end "
        "and re-checks limits of subscriptions whose add-ons ended (over the limits: "
        "restricted with a message naming them). Idempotent: a second run changes nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args, now: datetime | None, dry_run: bool, batch_size: int, **options):
        moment = now_or_default(now)
        summary = period_end_changes_apply(now=moment, batch_size=batch_size, dry_run=dry_run)
        prefix = "dry run: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary.as_line()} at {moment.isoformat()}")
        for pk, message in summary.failed:
            self.stderr.write(f"subscription {pk}: {message}")
