"""OpenAPI completion: the problem+json answers the stack gives on every route."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from fastapi import FastAPI

#: The RFC 9457 problem document spaps-ops renders for every error.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:spaps:problem:ingredient.not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": ["string", "null"]},
        "instance": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem+json error."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
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


def _complete(operation: dict[str, Any], *, path: str, secured: Mapping[int, str]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault("400", problem("Malformed request body"))
    for status, description in secured.items():
        responses.setdefault(str(status), problem(description))
    if "{" in path or (secured and "requestBody" in operation):
        responses.setdefault("404", problem("No such resource (in the path or the body)"))
    if "422" in responses or "requestBody" in operation or operation.get("parameters"):
        # FastAPI documents its own 422 body; spaps-ops answers problem+json instead.
        responses["422"] = {
            "description": "Validation failed",
            "content": {"application/problem+json": {"schema": VALIDATION_PROBLEM_SCHEMA}},
        }


def document_errors(app: FastAPI, *, public: Collection[str], secured: Mapping[int, str]) -> None:
    """Make ``app.openapi()`` declare the problem+json answers every route can give.

    Routes document their own errors; this adds what the stack answers on any route:
    400 for a body that is not JSON, 422 as problem+json (not FastAPI's default
    ``application/json``), 404 for paths with parameters or secured bodies that name
    other resources, and ``secured`` (e.g. 401, 403) on every path not in ``public``.

    Args:
        app: the application, with all its routes included.
        public: paths reachable without credentials.
        secured: status -> description added to every other path's operations.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()  # cached by FastAPI; completing it again changes nothing
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                _complete(operation, path=path, secured={} if path in public else secured)
        return spec

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's documented way to extend it
