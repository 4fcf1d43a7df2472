"""`manage.py replay_policy SLUG@VERSION --since 2026-01-01`: replay past cases."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from backoffice.commands import ProjectCommand, moment
from billing.errors import DomainError
from billing.policy.replay import summary_lines
from billing.services.replays import policy_replay

from ._policy_ref import policy_from_ref


class Command(ProjectCommand):
    help = (
        "Replay every cancellation request, refund and plan change since --since (until "
        "--until, default now) of subscriptions under SLUG's policy, under SLUG@VERSION and "
        "under the version in force, and print the summary: cases replayed, totals in force, "
        "totals under the given version, difference. Changes nothing; exits 0 (CI of policy "
        "files reads the summary)."
    )

    def add_arguments(self, parser):
        parser.add_argument("policy", help="SLUG@VERSION to replay, draft or published.")
        parser.add_argument(
            "--since", type=moment, required=True, help="First day, YYYY-MM-DD (UTC)."
        )
        parser.add_argument(
            "--until", type=moment, help="Day after the last one, YYYY-MM-DD (default: now)."
        )

    def handle(self, *args, policy: str, since: datetime, until: datetime | None, **options):
        start, end = since, until or timezone.now()
        candidate = policy_from_ref(policy)
        if end <= start:
            raise CommandError("--until: must be after --since", returncode=2)
        try:
            summary = policy_replay(candidate=candidate, since=start, until=end)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}", returncode=2) from None
        self.stdout.write("\n".join(summary_lines(summary)))
