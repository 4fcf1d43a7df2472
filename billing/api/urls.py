"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken

from . import cancellations
from .throttles import AnonymousRateThrottle

app_name = "api"
urlpatterns: list = [
    path(
        "auth/token/",
        ObtainAuthToken.as_view(throttle_classes=[AnonymousRateThrottle]),
        name="token",
    ),
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
