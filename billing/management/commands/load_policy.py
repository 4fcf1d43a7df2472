"""`manage.py load_policy FILE`: validate a policy file and store it as a draft."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.errors import DomainError
from billing.services.policies import policy_draft_load


class Command(BaseCommand):
    help = (
        "Validate FILE (a policy file as export_policy prints it) and store it as a draft "
        "of the next version of its policy; prints the draft's SLUG@VERSION. A bad file "
        "prints one line naming the field, stores nothing and exits with status 2. "
        "Publishing stays a Billing lead's action in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the policy JSON file.")

    def handle(self, *args, file: str, **options):
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"file: cannot read {file}: {exc.strerror}", returncode=2) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"file: not valid JSON: {exc}", returncode=2) from None
        try:
            draft = policy_draft_load(data=data, actor=None, now=timezone.now())
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}", returncode=2) from None
        self.stdout.write(draft.label)
