"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path

from billing.api.credit import WorkspaceCreditView
from billing.api.reviews import ReviewRequestDetailView, ReviewRequestListCreateView

app_name = "api"
urlpatterns: list = [
    path("reviews/", ReviewRequestListCreateView.as_view(), name="review-list"),
    path("reviews/<int:pk>/", ReviewRequestDetailView.as_view(), name="review-detail"),
    path("workspaces/<slug:slug>/credit/", WorkspaceCreditView.as_view(), name="workspace-credit"),
]
