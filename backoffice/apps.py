from django.contrib.admin.apps import AdminConfig


class BackofficeAdminConfig(AdminConfig):
    """Django's admin, with the dashboard as its index page."""

    default_site = "backoffice.admin_site.BackofficeAdminSite"
