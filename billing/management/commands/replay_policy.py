"""`manage.py replay_policy SLUG@VERSION --since 2026-01-01`: replay past cases."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from billing.errors import DomainError
from billing.policy.replay import summary_lines
from billing.services.replays import policy_replay

from ._policy_ref import policy_from_ref


class Command(BaseCommand):
    help = (
        "Replay every cancellation request, refund and plan change since --since (until "
        "--until, default now) of subscriptions under SLUG's policy, under SLUG@VERSION and "
        "under the version in force, and print the summary: cases replayed, totals in force, "
        "totals under the given version, difference. Changes nothing; exits 0 (CI of policy "
        "files reads the summary)."
    )

    def add_arguments(self, parser):
        parser.add_argument("policy", help="SLUG@VERSION to replay, draft or published.")
        parser.add_argument("--since", required=True, help="First day, YYYY-MM-DD (UTC).")
        parser.add_argument("--until", help="Day after the last one, YYYY-MM-DD (default: now).")

    def handle(self, *args, policy: str, since: str, until: str | None, **options):
        candidate = policy_from_ref(policy)
        start = _day(since, "--since")
        end = _day(until, "--until") if until else timezone.now()
        if end <= start:
            raise CommandError("--until: must be after --since", returncode=2)
        try:
            summary = policy_replay(candidate=candidate, since=start, until=end)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}", returncode=2) from None
        self.stdout.write("\n".join(summary_lines(summary)))


def _day(text: str, option: str) -> datetime:
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD)", returncode=2)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
