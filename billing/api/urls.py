"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import cancellations

app_name = "api"
urlpatterns: list = [
    path("auth/token/", obtain_auth_token, name="token"),
    path(
        "workspaces/<slug:slug>/cancellation/quote/",
        cancellations.CancellationQuoteView.as_view(),
        name="cancellation-quote",
    ),
    path(
        "workspaces/<slug:slug>/cancellations/",
        cancellations.CancellationSubmitView.as_view(),
        name="cancellation-submit",
    ),
    path(
        "cancellations/<int:pk>/",
        cancellations.CancellationStatusView.as_view(),
        name="cancellation-status",
    ),
    path(
        "cancellations/<int:pk>/withdraw/",
        cancellations.CancellationWithdrawView.as_view(),
        name="cancellation-withdraw",
    ),
]
