"""Customer-facing pages (server-rendered, no JavaScript needed)."""

from django.urls import path

from billing.views.cancellations import (
    cancellation_page,
    cancellation_status,
    cancellation_withdraw_view,
)
from billing.views.home import home
from billing.views.offers import offer_accept_view
from billing.views.pauses import pause_resume_view
from billing.views.reviews import review_confirm_page, review_request_page, workspace_credit_page

app_name = "billing"
urlpatterns: list = [
    path("", home, name="home"),
    path("workspaces/<slug:slug>/cancel/", cancellation_page, name="cancellation"),
    path("workspaces/<slug:slug>/cancellation/", cancellation_status, name="cancellation-status"),
    path(
        "workspaces/<slug:slug>/cancellation/<int:pk>/withdraw/",
        cancellation_withdraw_view,
        name="cancellation-withdraw",
    ),
    path(
        "workspaces/<slug:slug>/cancel/offers/<int:offer_id>/accept/",
        offer_accept_view,
        name="offer-accept",
    ),
    path("workspaces/<slug:slug>/pause/resume/", pause_resume_view, name="pause-resume"),
    path("billing/review/", review_request_page, name="review"),
    path("billing/review/confirm/<str:token>/", review_confirm_page, name="review-confirm"),
    path("workspaces/<slug:slug>/credit/", workspace_credit_page, name="workspace-credit"),
]
