"""Publish the readings fixed by issue #11 as the next version of each preset policy.

A database migrated before has version 1 stored with the earlier readings; a version in
use is never edited (orgix §19), so where the latest stored version of a preset differs
from `billing.policy.presets`, this adds version N+1 with the preset's rules. Stored rules
in the earlier format (bare amounts, `counted_from: purchase`) load unchanged through
`PolicyRules.from_dict`. A fresh database already has the current presets as version 1
(migration 0002), so nothing is added there.
"""

import datetime

from django.db import migrations

EFFECTIVE_FROM = datetime.date(2026, 12, 1)
CHANGELOG = (
    "Readings fixed (issue #11): refund windows inclusive, counted in calendar days in the "
    "policy's time zone; sync's window runs from the first paid signup; an unpaid current "
    "period is still due; sync's $399 fee is not deducted again where charged separately; "
    "fixed amounts carry their currency (USD); connex access lasts to the end of the day "
    "the period ends on."
)


def publish_fixed_readings(apps, schema_editor):
    from billing.policy.presets import PRESETS
    from billing.policy.rules import PolicyRules

    RefundPolicy = apps.get_model("billing", "RefundPolicy")
    for slug, rules in PRESETS.items():
        latest = RefundPolicy.objects.filter(slug=slug).order_by("-version").first()
        if latest is None:
            continue
        wanted = rules.to_dict()
        if PolicyRules.from_dict(latest.rules).to_dict() == wanted:
            continue
        RefundPolicy.objects.create(
            slug=slug,
            version=latest.version + 1,
            title=latest.title,
            effective_from=max(latest.effective_from, EFFECTIVE_FROM),
            rules=wanted,
            source_text=latest.source_text,
            changelog=CHANGELOG,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_policy_presets")]
    operations = [migrations.RunPython(publish_fixed_readings, migrations.RunPython.noop)]
