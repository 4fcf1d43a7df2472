from datetime import UTC

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.services.period_end import period_end_changes_apply


class Command(BaseCommand):
    help = (
        "Ends every live subscription whose approved cancellation takes effect at or before "
        "--now (cancel_effective_at <= now) and moves its workspace to the policy's fallback "
        "(Free plan, disabled or expired). Idempotent: a second run changes nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="ISO 8601 moment to replay (default: now, UTC).")
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, now: str | None, dry_run: bool, batch_size: int, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now: {now!r} is not an ISO 8601 datetime.", returncode=2)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        if batch_size < 1:
            raise CommandError("--batch-size: must be at least 1.", returncode=2)
        summary = period_end_changes_apply(now=moment, batch_size=batch_size, dry_run=dry_run)
        prefix = "dry run: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary.as_line()} at {moment.isoformat()}")
        for pk, message in summary.failed:
            self.stderr.write(f"subscription {pk}: {message}")
