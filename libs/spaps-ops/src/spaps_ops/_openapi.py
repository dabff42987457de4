"""OpenAPI that tells the truth about errors: the problem+json answers the stack gives.

FastAPI documents a 422 with its own ``application/json`` body and knows nothing of the
errors middlewares and dependencies answer; spaps-ops answers every error as RFC 9457
problem+json. :func:`document_problems` completes an app's schema accordingly (and, when
asked, its security requirements, descriptions and examples: see ``_openapi_complete``),
and :func:`openapi_problem` is the response entry routes use for their own errors.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from ._errors import OpsNotConfiguredError
from ._openapi_complete import Completion, share_problem_schemas
from ._problem import PROBLEM_CONTENT_TYPE
from ._problem_docs import (
    PROBLEM_SCHEMA,
    VALIDATION_PROBLEM_SCHEMA,
    ErrorLike,
    as_error_code,
    problem_entry,
    problem_responses,
)
from ._registry import OPS_ERROR_CODES, ErrorCode, ErrorRegistry
from ._state import get_ops

__all__ = [
    "PROBLEM_SCHEMA",
    "VALIDATION_PROBLEM_SCHEMA",
    "document_problems",
    "merge_problem_entry",
    "openapi_problem",
    "share_problem_schemas",
]

#: What ``secured`` maps a status to: a description (examples: every registered code of the
#: status) or a whole response entry, e.g. ``openapi_problem(description, *errors)``.
SecuredEntry = str | Mapping[str, Any]

_VALIDATION = next(code for code in OPS_ERROR_CODES if code.code == "ops.validation_failed")
#: What the stack answers for a body it cannot read (FastAPI's 400); a route that answers
#: other 400s declares its own entry.
_BAD_REQUEST = next(code for code in OPS_ERROR_CODES if code.code == "ops.bad_request")


def operation_id(route: APIRoute) -> str:
    """The ``operationId`` of a route: its name (the endpoint function's, unless ``name=``).

    Stable across path changes, unlike FastAPI's default (name + path + method);
    :func:`spaps_ops.create_app` uses it as ``generate_unique_id_function``.

    .. versionadded:: 0.4.0
    """
    return route.name


def openapi_problem(description: str, *errors: ErrorLike) -> dict[str, Any]:
    """An OpenAPI response entry for a problem+json error, for a route's ``responses``.

    Args:
        description: what the error means on this route.
        errors: the errors answered with this status (their bodies become the examples;
            see :func:`spaps_ops.problem_responses` to group several statuses).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.4.0 ``errors`` give the entry its examples.
    """
    return problem_entry(description, errors)


def merge_problem_entry(responses: dict[str, Any], status: str, entry: Mapping[str, Any]) -> None:
    """Add a problem entry to an operation's ``responses``, merging with one already there.

    For answers a layer in front of the routes gives (a middleware's 409, the secured
    401), which the route's own entry of the same status must not hide: the merged entry
    reads "route's description; or layer's description" and carries both's examples.

    Args:
        responses: an operation's ``responses`` in an OpenAPI document (edited in place).
        status: the status code, as the document keys it (``"409"``).
        entry: a response entry, e.g. :func:`openapi_problem`'s (copied, not kept).

    .. versionadded:: 0.8.0
    """
    added = copy.deepcopy(dict(entry))
    present = responses.get(status)
    if present is None:
        responses[status] = added
        return
    text = str(added["description"])
    present["description"] = f"{present['description']}; or {text[:1].lower()}{text[1:]}"
    for media_type, media_added in added.get("content", {}).items():
        media = present.setdefault("content", {}).setdefault(media_type, {})
        if "example" in media:  # one example beside named ones is not allowed: name it
            media["examples"] = {"example": {"value": media.pop("example")}}
        if "schema" in media_added:
            media.setdefault("schema", media_added["schema"])
        media.setdefault("examples", {}).update(media_added.get("examples", {}))


def _complete(
    operation: dict[str, Any],
    *,
    path: str,
    secured: Mapping[int, SecuredEntry],
    named: Collection[ErrorCode] | None,
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault("400", openapi_problem("Malformed request body", _BAD_REQUEST))
    for status, entry in secured.items():
        if isinstance(entry, str):
            responses.setdefault(str(status), openapi_problem(entry))
        else:  # the route's own entry of the status keeps its examples and gains these
            merge_problem_entry(responses, str(status), entry)
    if named is None:
        if "{" in path or (secured and "requestBody" in operation):
            responses.setdefault(
                "404", openapi_problem("No such resource (in the path or the body)")
            )
    else:  # the service names what the operation answers: its 404s among them, if any
        for answered, own in problem_responses(*named).items():
            merge_problem_entry(responses, str(answered), own)
    if "422" in responses or "requestBody" in operation or operation.get("parameters"):
        # FastAPI documents its own 422 body; spaps-ops answers problem+json instead. A
        # route's own 422 entry keeps its description and examples, next to the schema's.
        declared = responses.get("422", {})
        media = declared.get("content", {}).get(PROBLEM_CONTENT_TYPE)
        entry = problem_entry("Validation failed", [_VALIDATION], VALIDATION_PROBLEM_SCHEMA)
        if media is not None:
            entry["description"] = declared.get("description", entry["description"])
            examples = entry["content"][PROBLEM_CONTENT_TYPE]["examples"]
            examples.update(media.get("examples", {}))
        responses["422"] = entry


def document_problems(
    app: FastAPI,
    *,
    public: Collection[str] = (),
    secured: Mapping[int, SecuredEntry] | None = None,
    security_schemes: Mapping[str, Mapping[str, Any]] | None = None,
    security: Sequence[Mapping[str, Sequence[str]]] = (),
    operation_security: Mapping[str, Sequence[Mapping[str, Sequence[str]]]] | None = None,
    descriptions: Mapping[str, str] | None = None,
    examples: Mapping[str, Any] | None = None,
    operation_errors: Mapping[str, Collection[ErrorLike]] | None = None,
) -> None:
    """Make ``app.openapi()`` declare the problem+json answers every route can give.

    Routes document their own errors; this adds what the stack answers on any route:
    400 for a body that is not JSON, 422 as problem+json (not FastAPI's default
    ``application/json``), 404 for paths with parameters or secured bodies that name
    other resources, and ``secured`` (e.g. 401, 403, 429) on every path not in ``public``.
    The 400 entry names ``ops.bad_request`` only (what the stack answers for a body it
    cannot read). On an operation not listed in ``operation_errors``, a problem entry
    without examples gets one per registered code of its status (the app's error
    registry, see ``create_app(error_codes=...)``). Call it after every route is included.

    Args:
        app: the application (built by :func:`spaps_ops.create_app`).
        public: paths reachable without credentials (they get no ``secured`` entries
            and, when ``security`` is given, an explicit ``security: []``).
        secured: status -> what every other path's operations answer with it: a
            description (added where the route has no entry of the status), or a
            response entry such as ``openapi_problem(description, *errors)``, whose
            examples are exactly the errors the stack answers there, merged into the
            route's own entry of the status (see :func:`merge_problem_entry`).
        security_schemes: ``components.securitySchemes`` (e.g. a bearer JWT scheme).
        security: the requirement of every non-public operation (alternatives).
        operation_security: operationId -> its own requirement, overriding ``security``.
        descriptions: operationId -> description, for routes whose endpoint has no
            docstring (those included from libraries).
        examples: example values, by component schema name or by operationId (the
            operation's success body), for schemas that carry none.
        operation_errors: operationId -> the errors the operation answers besides those
            its own entries and ``secured`` name (routes included from libraries, which
            declare none). They are merged into its entries by status; the stack adds no
            404 of its own to a listed operation, and its entries without examples get
            none rather than every registered code of their status.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.4.0 ``security_schemes``, ``security``, ``operation_security``,
       ``descriptions``, ``examples``; problem entries get examples from the registry.
    .. versionchanged:: 0.7.3 the stack's 400 entry names ``ops.bad_request`` only, not
       every registered 400 code.
    .. versionchanged:: 0.8.0 ``secured`` takes response entries; ``operation_errors``.
    """
    build = app.openapi
    secured = dict(secured or {})
    try:
        registry = get_ops(app).errors
    except OpsNotConfiguredError:  # an app built without create_app: spaps-ops' codes only
        registry = ErrorRegistry(OPS_ERROR_CODES)
    completion = Completion(
        registry=registry,
        public=frozenset(public),
        security_schemes=dict(security_schemes or {}),
        security=[dict(item) for item in security],
        operation_security=dict(operation_security or {}),
        descriptions=dict(descriptions or {}),
        examples=dict(examples or {}),
        operation_errors={
            name: [as_error_code(error) for error in errors]
            for name, errors in (operation_errors or {}).items()
        },
    )
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        spec = build()  # cached by FastAPI; completing it again changes nothing
        if done and done[0] is spec:
            return spec
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                _complete(
                    operation,
                    path=path,
                    secured={} if path in public else secured,
                    named=completion.operation_errors.get(operation.get("operationId", "")),
                )
        completion.apply(spec)
        done[:] = [spec]
        return spec

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's documented way to extend it
