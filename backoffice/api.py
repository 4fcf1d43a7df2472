"""API error shape: `{"errors": {"<field>": ["message", ...]}, "detail": "..."}`.

Domain errors become 400s naming their field; nothing reaches the client as a traceback.
"""

from django.http import HttpRequest, JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from billing.errors import DomainError, InvalidTransition, PermissionDenied


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = (
            status.HTTP_403_FORBIDDEN
            if isinstance(exc, PermissionDenied)
            else status.HTTP_400_BAD_REQUEST
        )
        if isinstance(exc, InvalidTransition):
            code = status.HTTP_400_BAD_REQUEST
        return Response({"detail": exc.message, "errors": {exc.field: [exc.message]}}, status=code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"detail": data["detail"], "errors": {}}
    elif isinstance(data, dict):
        response.data = {"detail": "Invalid input.", "errors": data}
    elif isinstance(data, list):
        response.data = {"detail": "Invalid input.", "errors": {"non_field_errors": data}}
    return response


def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that names no endpoint: the API's JSON error, not a page."""
    return JsonResponse(
        {"detail": "No such API endpoint.", "errors": {}}, status=status.HTTP_404_NOT_FOUND
    )
