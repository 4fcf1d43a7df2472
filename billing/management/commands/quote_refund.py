"""`manage.py quote_refund SCENARIO.json [--text]`: quote a cancellation (or, with
`change_to` and `change_at`, a plan change) scenario.

Prints the quote as JSON (amounts as strings) or, with `--text`, as a readable table. A bad
scenario prints one line naming the field and exits with status 2.
"""

import json
from pathlib import Path

from django.core.management.base import CommandError

from backoffice.commands import ProjectCommand
from billing.errors import DomainError
from billing.policy.render import scenario_text
from billing.policy.scenarios import ScenarioError, parse_scenario, quote_scenario
from billing.selectors import policy_by_ref, policy_rules


class Command(ProjectCommand):
    help = (
        "Quote what cancelling the subscription described in SCENARIO.json would refund, "
        "under the policy it names (slug or slug@version). Reads the policy from the "
        "database; changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("scenario", help="Path to a scenario JSON file (see docs/policy.md).")
        parser.add_argument("--text", action="store_true", help="Print a readable table.")

    def handle(self, *args, scenario: str, text: bool, **options):
        try:
            data = json.loads(Path(scenario).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(
                f"scenario: cannot read {scenario}: {exc.strerror}", returncode=2
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"scenario: not valid JSON: {exc}", returncode=2) from None
        try:
            parsed = parse_scenario(data)
        except ScenarioError as exc:
            raise CommandError(f"{exc.field}: {exc.message}", returncode=2) from None
        policy = policy_by_ref(parsed.policy_slug, parsed.policy_version)
        if policy is None:
            raise CommandError(f"policy: unknown policy {data['policy']!r}", returncode=2)
        try:
            rules = policy_rules(policy)
        except (ValueError, TypeError, KeyError) as exc:
            raise CommandError(
                f"policy: {policy.label} has invalid rules: {exc}", returncode=2
            ) from None
        try:
            quote = quote_scenario(rules, policy.label, parsed)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}", returncode=2) from None
        if text:
            self.stdout.write(scenario_text(quote))
        else:
            self.stdout.write(json.dumps(quote.to_dict(), indent=2, ensure_ascii=False))
