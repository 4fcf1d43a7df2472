"""The admin site whose index is the agents' dashboard (`billing.dashboard`)."""

from django.contrib import admin
from django.utils import timezone


class BackofficeAdminSite(admin.AdminSite):
    site_header = "Cancellations & refunds back-office"
    site_title = "Back-office"
    index_title = "Support desk"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        from billing.dashboard import dashboard

        context = {**dashboard(request.user, now=timezone.now()), **(extra_context or {})}
        return super().index(request, context)
