"""OpenAPI for htma's ``Idempotency-Key`` (spaps-jobs' ``IdempotencyMiddleware``, see
:mod:`htma.layers`): the optional header on every operation whose method the middleware
covers, the problem answers it gives there, and the headers of its answers.

The middleware runs in front of every route, so the routes cannot declare this
themselves; :func:`document_idempotency` completes the document after
``spaps_ops.document_problems`` has, merging into the entries a route already has (a
route's own 409, the stack's 400 and 422) rather than replacing them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from spaps_jobs import (
    IdempotencyBodyTooLargeError,
    IdempotencyKeyInUseError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMismatchError,
)
from spaps_ops import merge_problem_entry, openapi_problem, share_problem_schemas

from htma.layers import IDEMPOTENCY_HEADER, IDEMPOTENT_METHODS, MAX_IDEMPOTENCY_KEY

PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the first answer (a 5xx included) is stored for 24 hours per "
        "key and caller, and a request repeating the key gets it again, with "
        "`Idempotent-Replayed: true`, instead of running twice. Answers meaning the request "
        "did not start (400, 401, 403, 422, 429) are not stored, so the corrected request "
        "may reuse the key."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
    "example": "3f1c1a52-8d0e-4f55-9a8f-2b1d3c4e5f60",
}
#: status -> (what it means here, the error answered)
ANSWERS: dict[str, tuple[str, type[Exception]]] = {
    "400": ("An empty or too long Idempotency-Key", IdempotencyKeyInvalidError),
    "409": (
        "A request with this Idempotency-Key is still running (retry after `Retry-After` seconds)",
        IdempotencyKeyInUseError,
    ),
    "413": ("A keyed request's body is too large to fingerprint", IdempotencyBodyTooLargeError),
    "422": ("The Idempotency-Key was first used with another request", IdempotencyKeyMismatchError),
}
ANSWER_HEADERS: dict[str, Any] = {
    "Idempotency-Expires": {
        "description": "When a keyed request: until when its answer is replayed (HTTP date).",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer is the stored answer of an earlier request.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _document(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(dict(PARAMETER))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {}).update(ANSWER_HEADERS)
    for status, (description, error) in ANSWERS.items():
        merge_problem_entry(responses, status, openapi_problem(description, error))


def document_idempotency(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare ``Idempotency-Key`` on the operations
    :data:`htma.layers.IDEMPOTENT_METHODS` covers. Call it after ``document_problems``."""
    build = app.openapi
    methods = {method.lower() for method in IDEMPOTENT_METHODS}

    done: list[dict[str, Any]] = []  # the document completed last (FastAPI caches it)

    def openapi() -> dict[str, Any]:
        spec = build()
        if done and done[0] is spec:
            return spec
        for operations in spec.get("paths", {}).values():
            for method, operation in operations.items():
                if method in methods:
                    _document(operation)
        share_problem_schemas(spec)  # the entries added here refer to `Problem` too
        done[:] = [spec]
        return spec

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's documented way to extend it
