"""`manage.py seed_demo`: demo logins, plan catalogue and demo workspaces (idempotent)."""

import datetime as dt
import time

from django.core.management.base import CommandParser
from django.utils import timezone

from accounts.demo import CUSTOMER_PASSWORD, DEMO_LOGINS, seed_demo
from backoffice.commands import ProjectCommand, add_now_argument, bounded_int

# A million workspaces is the scale the admin is built for; beyond it a run would take
# hours and the disk, so it is refused rather than started.
MAX_WORKSPACES = 1_000_000


class Command(ProjectCommand):
    help = (
        "Create the demo logins (passwords reset each run), the plan catalogue of the four "
        "policy families and N demo workspaces (slugs demo-000000...) with members, modules, "
        "files, subscriptions in every status, payments, add-ons, onboarding services, "
        "disputes and retention cases. Workspaces whose slug exists are skipped, so a second "
        "run creates nothing new. Local use only: the credentials are fixed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workspaces",
            type=bounded_int(0, MAX_WORKSPACES),
            default=300,
            help=f"0 to {MAX_WORKSPACES:,} (default 300)",
        )
        parser.add_argument(
            "--seed",
            type=bounded_int(0, 2**32 - 1),
            default=2026,
            help="random seed (default 2026)",
        )
        add_now_argument(
            parser, help="ISO date or date-time the data is built around (default: now, UTC)"
        )

    def handle(self, *args, workspaces: int, seed: int, now: dt.datetime | None, **options) -> None:
        moment = now or timezone.now().replace(microsecond=0)
        started = time.monotonic()
        summary = seed_demo(workspaces=workspaces, seed=seed, now=moment)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Demo data around {moment:%Y-%m-%d %H:%M} UTC (seed {seed}) in {elapsed:.1f}s; "
            f"{summary.skipped_workspaces} workspaces already existed."
        )
        for name, count in sorted(summary.created.items()):
            self.stdout.write(f"  created {count:>9,} {name}")
        self.stdout.write("Demo logins (local use only):")
        self.stdout.write("  Staff sign in at http://127.0.0.1:8000/admin/")
        for login in (login for login in DEMO_LOGINS if login.is_staff):
            self.stdout.write(f"    {login.email:<20} / {login.password:<6}  {login.role}")
        self.stdout.write("  Customers sign in at http://127.0.0.1:8000/ (the portal and /api/)")
        for login in (login for login in DEMO_LOGINS if not login.is_staff):
            self.stdout.write(f"    {login.email:<20} / {login.password:<6}  {login.role}")
        self.stdout.write(
            "    owner@showcase-*.example.test and any generated customer "
            f"(e.g. owner1@demo-000000.example.test) / {CUSTOMER_PASSWORD}"
        )
