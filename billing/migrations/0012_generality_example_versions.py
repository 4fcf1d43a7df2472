"""The example policies' later versions (issue #15: seats, the purchase-date condition,
HEY's annual months) on databases that loaded the examples before they existed.

Migration 0010 loads every version `billing.policy.examples` lists, so on a fresh database
these are already there and nothing is added; where 0010 ran earlier, the versions after
the stored ones are created here, with the same dates and marks as 0010 gives them.
"""

import datetime

from django.db import migrations


def load_later_versions(apps, schema_editor):
    from billing.policy.examples import EXAMPLE_POLICIES

    RefundPolicy = apps.get_model("billing", "RefundPolicy")
    for slug, versions in EXAMPLE_POLICIES.items():
        if not RefundPolicy.objects.filter(slug=slug, example=True).exists():
            continue
        for number, (title, rules) in enumerate(versions, start=1):
            RefundPolicy.objects.get_or_create(
                slug=slug,
                version=number,
                defaults={
                    "title": title,
                    "effective_from": datetime.date(2022, 1, number),
                    "rules": rules.to_dict(),
                    "source_text": "external.md",
                    "changelog": "Example: encoded from the paraphrase in external.md.",
                    "example": True,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_generality_plan_seat_price")]
    operations = [migrations.RunPython(load_later_versions, migrations.RunPython.noop)]
