"""The seven external policies (shared/policies/external.md) as example versions."""

import datetime

from django.db import migrations


def load_examples(apps, schema_editor):
    from billing.policy.examples import EXAMPLE_POLICIES

    RefundPolicy = apps.get_model("billing", "RefundPolicy")
    for slug, versions in EXAMPLE_POLICIES.items():
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


def unload_examples(apps, schema_editor):
    apps.get_model("billing", "RefundPolicy").objects.filter(example=True).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_generality_policy_attributes")]
    operations = [migrations.RunPython(load_examples, unload_examples)]
