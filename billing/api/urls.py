"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path

from billing.api import refunds
from billing.api.credit import WorkspaceCreditView
from billing.api.reviews import ReviewRequestDetailView, ReviewRequestListCreateView

app_name = "api"
urlpatterns: list = [
    path("reviews/", ReviewRequestListCreateView.as_view(), name="review-list"),
    path("reviews/<int:pk>/", ReviewRequestDetailView.as_view(), name="review-detail"),
    path("workspaces/<slug:slug>/credit/", WorkspaceCreditView.as_view(), name="workspace-credit"),
    path("refunds/", refunds.RefundProposeView.as_view(), name="refund-propose"),
    path("refunds/<int:pk>/", refunds.RefundDetailView.as_view(), name="refund-detail"),
    path("refunds/<int:pk>/approve/", refunds.RefundApproveView.as_view(), name="refund-approve"),
    path("refunds/<int:pk>/reject/", refunds.RefundRejectView.as_view(), name="refund-reject"),
    path("refunds/<int:pk>/retry/", refunds.RefundRetryView.as_view(), name="refund-retry"),
]
