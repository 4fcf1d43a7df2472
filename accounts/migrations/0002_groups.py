"""The two staff groups and their permissions.

Support agent: views everything, processes cancellation forms and review requests,
proposes refunds, places legal holds. Billing lead: all of that, and approves refunds
(including large and goodwill ones).
"""

from django.db import migrations

VIEW_APPS = ("accounts", "billing", "django_celery_beat")
AGENT_CODENAMES = {
    "process_cancellation",
    "change_cancellationrequest",
    "change_refundreviewrequest",
    "propose_refund",
    "approve_refund",
    "change_workspace",
    "add_dispute",
    "change_dispute",
    "change_subscription",
}
LEAD_CODENAMES = AGENT_CODENAMES | {"approve_large_refund", "change_refund"}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(
        content_type__app_label__in=VIEW_APPS, codename__startswith="view_"
    )
    for name, codenames in (("Support agent", AGENT_CODENAMES), ("Billing lead", LEAD_CODENAMES)):
        group, _ = Group.objects.get_or_create(name=name)
        extra = Permission.objects.filter(
            content_type__app_label__in=VIEW_APPS, codename__in=codenames
        )
        group.permissions.set(list(view) + list(extra))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("billing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
