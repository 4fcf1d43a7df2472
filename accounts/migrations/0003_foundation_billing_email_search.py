import django.db.models.functions.text
from django.db import migrations, models

# A prefix LIKE on UPPER(name) can use a b-tree only with a pattern operator class unless
# the database collation is exactly "C". SQLite has no operator classes, hence PostgreSQL only.
NAME_PREFIX_INDEX = (
    "CREATE INDEX IF NOT EXISTS workspace_name_upper_prefix "
    "ON accounts_workspace (UPPER(name::text) text_pattern_ops)"
)


def create_name_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NAME_PREFIX_INDEX)


def drop_name_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS workspace_name_upper_prefix")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_groups"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="workspace",
            index=models.Index(
                django.db.models.functions.text.Upper("billing_email"),
                name="workspace_billing_email_upper",
            ),
        ),
        migrations.RunPython(create_name_prefix_index, drop_name_prefix_index),
    ]
