from django.contrib import admin
from django.contrib.auth.views import LoginView, PasswordResetView
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from backoffice.api import api_not_found
from billing.admin.emails import email_previews
from billing.views.throttling import throttle_anonymous_posts, throttle_password_reset
from billing.webhooks import stripe_webhook

admin.site.site_header = "Cancellations & refunds back-office"
admin.site.site_title = "Back-office"
admin.site.index_title = "Support desk"

urlpatterns = [
    path("admin/emails/", admin.site.admin_view(email_previews), name="admin-email-previews"),
    path("admin/", admin.site.urls),
    path("accounts/login/", throttle_anonymous_posts(LoginView.as_view()), name="login"),
    path(
        "accounts/password_reset/",
        throttle_password_reset(PasswordResetView.as_view()),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("billing.api.urls")),
    re_path(r"^api/", api_not_found),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("", include("billing.urls")),
    path("", include("accounts.urls")),
]
