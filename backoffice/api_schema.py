"""drf-spectacular post-processing: the answers every API operation may give.

Views document their success and the refusals specific to them; the rest is the same
everywhere and written here once, in the API's error shape (`Error`: `detail` and
`errors`): 400 invalid input, 401 no credentials, 403 not allowed, 404 no such object,
429 over the rate limit (with `Retry-After`); POSTs also 409 (the same `Idempotency-Key`
is still being processed) and 422 (the key was used with another body). `Idempotency-Key`
is documented with the limits the server enforces.
"""

from typing import Any

from billing.api.idempotency import HEADER, MAX_KEY_LENGTH

ERROR_RESPONSES = {
    "400": "Invalid input: `errors` names each field.",
    "401": "No or invalid credentials.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object (or not yours to see).",
    "429": "Over the rate limit: retry after `Retry-After` seconds.",
}
POST_ERROR_RESPONSES = {
    "409": f"A request with this {HEADER} is still being processed.",
    "422": f"This {HEADER} was already used with a different request body.",
}
IDEMPOTENCY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_KEY_LENGTH,
    "pattern": r"\S",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "errors"],
}


def document_common_answers(result: dict[str, Any], generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("Error", ERROR_SCHEMA)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            answers = dict(ERROR_RESPONSES)
            if method == "post":
                answers |= POST_ERROR_RESPONSES
                if path != "/api/auth/token/":
                    _document_idempotency_key(operation)
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(code, {"description": description, "content": error})
    return result


def _document_idempotency_key(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "header" and parameter.get("name") == HEADER:
            parameter["schema"] = IDEMPOTENCY_SCHEMA
            return
    parameters.append(
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": IDEMPOTENCY_SCHEMA,
            "description": "Replays the first response for the same key and body.",
        }
    )
