"""The arguments every lifecycle job command shares: --now, --dry-run, --batch-size."""

from datetime import UTC, datetime

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def add_job_arguments(parser: CommandParser) -> None:
    parser.add_argument("--now", help="ISO 8601 moment to replay (default: now, UTC).")
    parser.add_argument("--dry-run", action="store_true", help="Count what is due, change nothing.")
    parser.add_argument("--batch-size", type=int, default=500, help="Subscriptions per batch.")


def job_moment(now: str | None, batch_size: int) -> datetime:
    """The moment to run at; bad input is a one-line error naming the option (exit 2)."""
    if batch_size < 1:
        raise CommandError("--batch-size: must be at least 1.", returncode=2)
    if not now:
        return timezone.now()
    try:
        moment = parse_datetime(now)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--now: {now!r} is not an ISO 8601 datetime.", returncode=2)
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment
