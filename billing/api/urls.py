"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken

from . import cancellations, plan_changes, refunds, retention_offers, workspace_content
from .credit import WorkspaceCreditView
from .reviews import ReviewRequestDetailView, ReviewRequestListCreateView
from .throttles import AnonymousRateThrottle

app_name = "api"
SUBSCRIPTION = "workspaces/<slug:slug>/subscription/"
WORKSPACE = "workspaces/<slug:slug>/"
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
        "workspaces/<slug:slug>/cancellation/offers/",
        retention_offers.RetentionOffersView.as_view(),
        name="cancellation-offers",
    ),
    path(
        "workspaces/<slug:slug>/cancellation/offers/<int:offer_id>/accept/",
        retention_offers.RetentionOfferAcceptView.as_view(),
        name="cancellation-offer-accept",
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
    path("reviews/", ReviewRequestListCreateView.as_view(), name="review-list"),
    path("reviews/<int:pk>/", ReviewRequestDetailView.as_view(), name="review-detail"),
    path("workspaces/<slug:slug>/credit/", WorkspaceCreditView.as_view(), name="workspace-credit"),
    path("refunds/", refunds.RefundProposeView.as_view(), name="refund-propose"),
    path("refunds/<int:pk>/", refunds.RefundDetailView.as_view(), name="refund-detail"),
    path("refunds/<int:pk>/approve/", refunds.RefundApproveView.as_view(), name="refund-approve"),
    path("refunds/<int:pk>/reject/", refunds.RefundRejectView.as_view(), name="refund-reject"),
    path("refunds/<int:pk>/retry/", refunds.RefundRetryView.as_view(), name="refund-retry"),
    path(
        f"{SUBSCRIPTION}plan-change/preview/",
        plan_changes.PlanChangePreviewView.as_view(),
        name="plan-change-preview",
    ),
    path(f"{SUBSCRIPTION}upgrade/", plan_changes.UpgradeView.as_view(), name="upgrade"),
    path(f"{SUBSCRIPTION}downgrade/", plan_changes.DowngradeView.as_view(), name="downgrade"),
    path(
        f"{SUBSCRIPTION}addons/preview/",
        plan_changes.AddOnPreviewView.as_view(),
        name="addon-preview",
    ),
    path(f"{SUBSCRIPTION}addons/", plan_changes.AddOnAddView.as_view(), name="addon-add"),
    path(
        f"{SUBSCRIPTION}addons/<int:pk>/remove/",
        plan_changes.AddOnRemoveView.as_view(),
        name="addon-remove",
    ),
    path(
        f"{SUBSCRIPTION}order-packs/",
        plan_changes.OrderPackBuyView.as_view(),
        name="order-pack-buy",
    ),
    path(
        f"{WORKSPACE}members/",
        workspace_content.MemberListAddView.as_view(),
        name="workspace-members",
    ),
    path(
        f"{WORKSPACE}members/<int:pk>/",
        workspace_content.MemberRemoveView.as_view(),
        name="workspace-member",
    ),
    path(
        f"{WORKSPACE}files/", workspace_content.FileListRecordView.as_view(), name="workspace-files"
    ),
    path(
        f"{WORKSPACE}files/<int:pk>/",
        workspace_content.FileDeleteView.as_view(),
        name="workspace-file",
    ),
    path(
        f"{WORKSPACE}modules/",
        workspace_content.ModuleListEnableView.as_view(),
        name="workspace-modules",
    ),
    path(
        f"{WORKSPACE}modules/<slug:code>/",
        workspace_content.ModuleDisableView.as_view(),
        name="workspace-module",
    ),
]
