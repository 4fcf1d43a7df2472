from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from backoffice.schedules import sync_schedules

        post_migrate.connect(sync_schedules, sender=self, dispatch_uid="billing-sync-schedules")
