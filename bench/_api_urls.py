"""The project's URLs plus the API benchmark's yardsticks.

- `bench/bare/<pk>/`: a bare Django view doing one indexed read (a workspace by primary
  key), the goal's yardstick;
- `bench/floor/<pk>/`: the same read behind the customer API's framework (DRF, token or
  session authentication, the customer budget throttle, JSON rendering): what any API
  endpoint pays before it does its own work.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Workspace
from backoffice.urls import urlpatterns as project_urlpatterns
from billing.api.cancellations import CustomerAPIView


def bare(request: HttpRequest, pk: int) -> JsonResponse:
    slug = Workspace.objects.filter(pk=pk).values_list("slug", flat=True).first()
    return JsonResponse({"slug": slug})


class Floor(CustomerAPIView):
    def get(self, request: Request, pk: int) -> Response:
        slug = Workspace.objects.filter(pk=pk).values_list("slug", flat=True).first()
        return Response({"slug": slug})


urlpatterns = [
    path("bench/bare/<int:pk>/", bare),
    path("bench/floor/<int:pk>/", Floor.as_view()),
    *project_urlpatterns,
]
