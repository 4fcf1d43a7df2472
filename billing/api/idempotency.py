"""`Idempotency-Key` for POSTs that create requests or move money.

The same key and body replays the first response; the same key with another body is a
422; a duplicate that arrives while the first is still running is a 409. Keys are scoped
to the user, the method and the path. A request that fails with an exception releases its
key, so the client may retry it.
"""

import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _error(code: int, message: str) -> Response:
    return Response({"detail": message, "errors": {HEADER: [message]}}, status=code)


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def idempotent(method: Callable) -> Callable:
    """Decorate an APIView's `post` method."""

    @wraps(method)
    def wrapper(view, request: Request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return _error(status.HTTP_400_BAD_REQUEST, f"{HEADER} must be 1 to 255 characters.")
        scope = f"{request.method} {request.path}"
        digest = _request_hash(request)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user, key=key, scope=scope, request_hash=digest
                )
        except IntegrityError:
            record = IdempotencyKey.objects.get(user=request.user, key=key, scope=scope)
            if record.request_hash != digest:
                return _error(
                    status.HTTP_422_UNPROCESSABLE_ENTITY,
                    f"This {HEADER} was already used with a different request body.",
                )
            if record.response_status is None:
                return _error(
                    status.HTTP_409_CONFLICT,
                    f"A request with this {HEADER} is still being processed.",
                )
            response = Response(record.response_body, status=record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = method(view, request, *args, **kwargs)
        except Exception:
            record.delete()
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper
