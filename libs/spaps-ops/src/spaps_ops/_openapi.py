"""OpenAPI that tells the truth about errors: the problem+json answers the stack gives.

FastAPI documents a 422 with its own ``application/json`` body and knows nothing of the
errors middlewares and dependencies answer; spaps-ops answers every error as RFC 9457
problem+json. :func:`document_problems` completes an app's schema accordingly, and
:func:`openapi_problem` is the response entry routes use for their own errors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from fastapi import FastAPI

from ._problem import PROBLEM_CONTENT_TYPE

#: The RFC 9457 problem document spaps-ops renders for every error.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:spaps:problem:ops.not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": ["string", "null"]},
        "instance": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}

#: A 422 problem: request validation adds one entry per invalid field.
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def openapi_problem(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem+json error, for a route's ``responses``.

    Args:
        description: what the error means on this route.

    .. versionadded:: 0.1.0
    """
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}},
    }


def _complete(operation: dict[str, Any], *, path: str, secured: Mapping[int, str]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault("400", openapi_problem("Malformed request body"))
    for status, description in secured.items():
        responses.setdefault(str(status), openapi_problem(description))
    if "{" in path or (secured and "requestBody" in operation):
        responses.setdefault("404", openapi_problem("No such resource (in the path or the body)"))
    if "422" in responses or "requestBody" in operation or operation.get("parameters"):
        # FastAPI documents its own 422 body; spaps-ops answers problem+json instead.
        responses["422"] = {
            "description": "Validation failed",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": VALIDATION_PROBLEM_SCHEMA}},
        }


def document_problems(
    app: FastAPI, *, public: Collection[str] = (), secured: Mapping[int, str] | None = None
) -> None:
    """Make ``app.openapi()`` declare the problem+json answers every route can give.

    Routes document their own errors; this adds what the stack answers on any route:
    400 for a body that is not JSON, 422 as problem+json (not FastAPI's default
    ``application/json``), 404 for paths with parameters or secured bodies that name
    other resources, and ``secured`` (e.g. 401, 403, 429) on every path not in ``public``.
    Call it after every route is included.

    Args:
        app: the application.
        public: paths reachable without credentials (they get no ``secured`` entries).
        secured: status -> description added to every other path's operations.

    .. versionadded:: 0.1.0
    """
    build = app.openapi
    secured = dict(secured or {})

    def openapi() -> dict[str, Any]:
        spec = build()  # cached by FastAPI; completing it again changes nothing
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                _complete(operation, path=path, secured={} if path in public else secured)
        return spec

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's documented way to extend it
