"""`manage.py seed_demo`: demo logins, plan catalogue and demo workspaces (idempotent)."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.demo import CUSTOMER_PASSWORD, DEMO_LOGINS, seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo logins (passwords reset each run), the plan catalogue of the four "
        "policy families and N demo workspaces (slugs demo-000000...) with members, modules, "
        "files, subscriptions in every status, payments, add-ons, onboarding services, "
        "disputes and retention cases. Workspaces whose slug exists are skipped, so a second "
        "run creates nothing new. Local use only: the credentials are fixed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspaces", type=int, default=300, help="default 300")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--now", help="ISO date-time the data is built around (default: now, UTC)"
        )

    def handle(self, *args, workspaces: int, seed: int, now: str | None, **options) -> None:
        if workspaces < 0:
            raise CommandError("--workspaces: must be 0 or more", returncode=2)
        moment = timezone.now().replace(microsecond=0)
        if now:
            moment = parse_datetime(now) or _parse_date(now)
            if moment is None:
                raise CommandError(f"--now: not an ISO date or date-time: {now!r}", returncode=2)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)
        started = time.monotonic()
        summary = seed_demo(workspaces=workspaces, seed=seed, now=moment)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Demo data around {moment:%Y-%m-%d %H:%M} UTC (seed {seed}) in {elapsed:.1f}s; "
            f"{summary.skipped_workspaces} workspaces already existed."
        )
        for name, count in sorted(summary.created.items()):
            self.stdout.write(f"  created {count:>9,} {name}")
        self.stdout.write("Demo logins (local use only) at http://127.0.0.1:8000/admin/:")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.email:<20} / {login.password:<6}  {login.role}")
        self.stdout.write(
            f"  any generated customer (e.g. owner1@demo-000000.example.test) / {CUSTOMER_PASSWORD}"
        )


def _parse_date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
    except ValueError:
        return None
