from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts & workspaces"

    def ready(self) -> None:
        import backoffice.checks  # noqa: F401  (registers the deploy checks)
