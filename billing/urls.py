"""Customer-facing pages (server-rendered, no JavaScript needed)."""

from django.urls import path

from billing.views.reviews import review_request_page, workspace_credit_page

app_name = "billing"
urlpatterns: list = [
    path("billing/review/", review_request_page, name="review"),
    path("workspaces/<slug:slug>/credit/", workspace_credit_page, name="workspace-credit"),
]
