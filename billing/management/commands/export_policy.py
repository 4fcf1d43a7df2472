"""`manage.py export_policy SLUG@VERSION`: print a policy version as a JSON file."""

import json

from django.core.management.base import BaseCommand

from billing.services.policies import policy_export

from ._policy_ref import policy_from_ref


class Command(BaseCommand):
    help = (
        "Print policy version SLUG@VERSION (draft or published) as JSON: slug, title, "
        "effective_from, changelog and rules, the file `load_policy` reads. Changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("policy", help="SLUG@VERSION, e.g. connex@1")

    def handle(self, *args, policy: str, **options):
        data = policy_export(policy_from_ref(policy))
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
