"""What every management command of the project shares: its parser and its arguments.

A bad argument is one line naming the option, and exit status 2, whether it fails while
parsing (`--now 2026-13-45`, `--batch-size abc`, an unknown option) or later in `handle`
(a `CommandError` with `returncode=2`): no usage dump, no traceback. Values are checked
at parse time against the bounds of `backoffice.bounds`, so no command passes a year 9999
or a 20-digit batch size on to the database.
"""

import argparse
import datetime as dt
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backoffice.bounds import date_out_of_range

MAX_BATCH_SIZE = 10_000


class OneLineErrorParser(CommandParser):
    def error(self, message: str):
        message = message.removeprefix("argument ")
        if self.called_from_command_line:
            # `run_from_argv` parses outside its `CommandError` handler: print it here.
            self.exit(2, f"CommandError: {message}\n")
        raise CommandError(message, returncode=2)


class ProjectCommand(BaseCommand):
    """Base of every command here: parse errors become a one-line `CommandError` (which
    `run_from_argv` prints as `CommandError: <option>: <why>` and exits with 2)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds the parser itself; swapping its class keeps all it configured.
        parser.__class__ = OneLineErrorParser
        return parser


def moment(text: str) -> dt.datetime:
    """An ISO 8601 date-time (UTC if it names no offset) or date (midnight UTC)."""
    try:
        parsed = parse_datetime(text)
    except ValueError as error:  # a valid shape with an impossible value: month 13, +25:00
        why = "its UTC offset is beyond ±24:00" if "offset" in str(error) else str(error)
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date-time: {why}") from None
    if parsed is None:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an ISO 8601 date-time (e.g. 2026-05-01T03:30:00Z)"
            ) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        parsed = parsed.astimezone(dt.UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} {date_out_of_range(dt.date.max)}") from None
    if problem := date_out_of_range(parsed):
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return parsed


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high` (digits only: no 1e9, no 20-digit values)."""

    def parse(text: str) -> int:
        digits = text.strip().removeprefix("-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, not {value:,}")
        return value

    return parse


def add_now_argument(parser: CommandParser, help: str = "") -> None:
    parser.add_argument(
        "--now",
        type=moment,
        help=help or "ISO 8601 moment to replay (UTC if naive; default: now).",
    )


def add_job_arguments(parser: CommandParser, *, batch_default: int = 500) -> None:
    """--now, --dry-run and --batch-size, as every scheduled job takes them."""
    add_now_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="Count what is due, change nothing.")
    parser.add_argument(
        "--batch-size",
        type=bounded_int(1, MAX_BATCH_SIZE),
        default=batch_default,
        help=f"Rows per batch (1 to {MAX_BATCH_SIZE:,}; default {batch_default}).",
    )


def now_or_default(value: dt.datetime | None) -> dt.datetime:
    return value if value is not None else timezone.now()
