"""Customer pages of the accounts app."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("workspaces/<slug:slug>/export/", views.workspace_export, name="workspace-export"),
]
