"""The project's URLs plus the API benchmark's yardstick: a bare view, one indexed read."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from accounts.models import Workspace
from backoffice.urls import urlpatterns as project_urlpatterns


def bare(request: HttpRequest, pk: int) -> JsonResponse:
    slug = Workspace.objects.filter(pk=pk).values_list("slug", flat=True).first()
    return JsonResponse({"slug": slug})


urlpatterns = [path("bench/bare/<int:pk>/", bare), *project_urlpatterns]
