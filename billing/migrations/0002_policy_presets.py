"""Version 1 of the four preset policies (shared/policies/*.txt)."""

import datetime

from django.db import migrations

SOURCES = {
    "connex": ("Connex cancellation & refund policy", "connex.txt"),
    "sync-with-connex": ("Sync with Connex cancellation & refund policy", "sync-with-connex.txt"),
    "orgix": ("Orgix Refund & Cancellation Policy (27 April 2026)", "orgix.txt"),
    "prorated-credit": ("Cancel any time, prorated customer credit", "prorated-credit.txt"),
}


def load_presets(apps, schema_editor):
    from billing.policy.presets import PRESETS

    RefundPolicy = apps.get_model("billing", "RefundPolicy")
    for slug, rules in PRESETS.items():
        title, source = SOURCES[slug]
        RefundPolicy.objects.get_or_create(
            slug=slug,
            version=1,
            defaults={
                "title": title,
                "effective_from": datetime.date(2022, 1, 1),
                "rules": rules.to_dict(),
                "source_text": source,
                "changelog": "Initial version, encoded from the policy text.",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load_presets, migrations.RunPython.noop)]
