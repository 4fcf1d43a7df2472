"""Customer REST API. Each area keeps its views and serializers in its own module."""

from django.urls import path

from . import plan_changes

app_name = "api"
SUBSCRIPTION = "workspaces/<slug:slug>/subscription/"
urlpatterns: list = [
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
]
