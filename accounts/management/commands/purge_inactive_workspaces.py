"""Thin shell around accounts.services.purge (the same service the daily Celery task runs)."""

from datetime import datetime

from django.conf import settings

from accounts.services.purge import BatchResult, purge_plan, purge_run
from accounts.services.purge_selection import blocked_counts, due_for_deletion
from backoffice.commands import ProjectCommand, add_job_arguments, bounded_int, now_or_default

MAX_LIMIT = 10_000_000


class Command(ProjectCommand):
    help = (
        "Refreshes every workspace's deletion date from its policy, emails the owner of each "
        "workspace due within PURGE_WARNING_DAYS (once), then erases the personal data of "
        "workspaces that are due and were warned at least PURGE_WARNING_DAYS ago, leaving an "
        "anonymised shell for the financial records and a tombstone. Skips workspaces on "
        "legal hold, with an open dispute, a live paid subscription or an unresolved refund."
    )

    def add_arguments(self, parser):
        add_job_arguments(parser, batch_default=settings.PURGE_BATCH_SIZE)
        parser.add_argument(
            "--limit",
            type=bounded_int(1, MAX_LIMIT),
            default=None,
            help="At most this many warnings and deletions.",
        )

    def handle(self, *args, dry_run, batch_size, limit, now, **options):
        moment = now_or_default(now)
        if dry_run:
            self._dry_run(moment, batch_size, limit)
            return
        progress = _Progress(self.stdout, total=self._total(moment, limit))
        summary = purge_run(now=moment, batch_size=batch_size, limit=limit, on_batch=progress)
        progress.finish()
        self.stdout.write(
            f"Purge as of {moment:%Y-%m-%d %H:%M} UTC: {summary.deleted} deleted, "
            f"{summary.warned} warned, {summary.rescheduled} rescheduled, "
            f"{summary.skipped} skipped (taken by another run or no longer due), "
            f"{summary.recomputed} deletion dates refreshed."
        )
        self._blocked(summary.blocked)

    def _total(self, moment: datetime, limit: int | None) -> int | None:
        if not self.stdout.isatty():
            return None
        total = due_for_deletion(now=moment).count()
        return min(total, limit) if limit else total

    def _dry_run(self, moment: datetime, batch_size: int, limit: int | None) -> None:
        counts = {"warn": 0, "delete": 0, "reschedule": 0}
        for item in purge_plan(now=moment, batch_size=batch_size, limit=limit):
            counts[item.action] += 1
            due = f"{item.due_at:%Y-%m-%d}" if item.due_at else "never"
            self.stdout.write(
                f"{item.action:<10} #{item.workspace_id} {item.slug}: due {due} "
                f"({item.reason}, {item.policy})"
            )
        self.stdout.write(
            f"Dry run as of {moment:%Y-%m-%d %H:%M} UTC: would delete {counts['delete']}, "
            f"warn {counts['warn']}, reschedule {counts['reschedule']}. Nothing was changed."
        )
        self._blocked(blocked_counts(now=moment))

    def _blocked(self, blocked: dict[str, int]) -> None:
        held = ", ".join(f"{n} by {name}" for name, n in blocked.items() if n)
        if held:
            self.stdout.write(f"Due but never deleted: {held}.")


class _Progress:
    """A one-line progress bar, drawn only when stdout is a terminal."""

    WIDTH = 30

    def __init__(self, out, *, total: int | None):
        self.out, self.total, self.done = out, total, 0

    def __call__(self, result: BatchResult) -> None:
        if not self.total:
            return
        self.done += len(result.deleted) + result.rescheduled + result.skipped
        filled = min(self.WIDTH, self.WIDTH * self.done // self.total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.out.write(f"\r[{bar}] {self.done}/{self.total}", ending="")
        self.out.flush()

    def finish(self) -> None:
        if self.total:
            self.out.write("")
