from django.db import migrations

# A GIN index takes new entries into a pending list (`fastupdate`), merged into the index
# once it passes `gin_pending_list_limit` (4 MB by default) or when vacuumed; every search
# reads the whole pending list. A workspace row is written again on each activity stamp
# (its due date is indexed, so the update is not HOT), so the name's trigram index kept up
# to 4 MB pending: at 1 M workspaces a word search read 408 pending pages for 1 index
# page, 7 ms of the 8 the search took. 64 kB (the smallest limit) bounds that read to 8
# pages; an insert merges the list when it passes the limit, a few hundred entries at a
# time.
NAME_TRIGRAM = "workspace_name_trigram"


def bound(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER INDEX {NAME_TRIGRAM} SET (gin_pending_list_limit = 64)")
    schema_editor.execute(f"SELECT gin_clean_pending_list('{NAME_TRIGRAM}'::regclass)")


def unbound(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER INDEX {NAME_TRIGRAM} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_workspace_expression_statistics"),
    ]

    operations = [migrations.RunPython(bound, unbound, elidable=False)]
