"""Problem answers as OpenAPI documents them: entries with an example body per code.

:func:`problem_responses` builds a route's ``responses=`` from the errors it raises;
:func:`error_codes_of` collects the codes a library's exception tree can answer with, so
a service registers them once (see :func:`spaps_ops.create_app`'s ``error_codes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ._problem import PROBLEM_CONTENT_TYPE, problem_body
from ._registry import ErrorCode

#: A documented error: a registry entry, or a class carrying ``status``, ``code``, ``title``.
ErrorLike = ErrorCode | type[BaseException]

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
#: The components ``document_problems`` puts these schemas under, by name.
PROBLEM_COMPONENTS: dict[str, dict[str, Any]] = {
    "Problem": PROBLEM_SCHEMA,
    "ValidationProblem": VALIDATION_PROBLEM_SCHEMA,
}

#: The request id every example body carries (the request-id middleware's format).
EXAMPLE_REQUEST_ID = "3f0c2a9e6b7d4e1f8a5c0b2d4e6f8a1c"
#: The ``instance`` of an example built without its route's path; ``document_problems``
#: puts the operation's path in its place.
EXAMPLE_INSTANCE = "/v1/example"


def as_error_code(error: ErrorLike) -> ErrorCode:
    """The registry entry of ``error`` (a class's docstring's first line describes it).

    Args:
        error: an :class:`ErrorCode`, or a class with ``status``, ``code`` and ``title``.

    Raises:
        TypeError: ``error`` is neither.
    """
    if isinstance(error, ErrorCode):
        return error
    status, code, title = (getattr(error, name, None) for name in ("status", "code", "title"))
    if not (isinstance(status, int) and isinstance(code, str) and isinstance(title, str)):
        raise TypeError(f"{error!r} carries no int status, str code and str title")
    lines = (error.__doc__ or "").strip().splitlines()
    return ErrorCode(code, status, title, lines[0] if lines else "")


def problem_example(error: ErrorLike, *, instance: str = EXAMPLE_INSTANCE) -> dict[str, Any]:
    """An OpenAPI example object: the body spaps-ops answers ``error`` with.

    Args:
        error: the error (see :func:`as_error_code`).
        instance: the request path shown in the body.

    .. versionadded:: 0.4.0
    """
    entry = as_error_code(error)
    body = problem_body(
        status=entry.status,
        code=entry.code,
        title=entry.title,
        detail=entry.description or None,
        instance=instance,
        request_id=EXAMPLE_REQUEST_ID,
    )
    return {"summary": entry.title, "value": body}


def problem_entry(
    description: str, errors: Iterable[ErrorLike], schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One OpenAPI response entry: problem+json, one named example per error's code."""
    media: dict[str, Any] = {"schema": dict(schema or PROBLEM_SCHEMA)}
    examples = {as_error_code(e).code: problem_example(e) for e in errors}
    if examples:
        media["examples"] = examples
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: media}}


def problem_responses(
    *errors: ErrorLike, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, Any]:
    """A route's ``responses=`` for the errors it answers with, grouped by status.

    Each status gets one problem+json entry whose examples are the bodies of its codes;
    its description is ``descriptions[status]`` or the codes' titles.

    Args:
        errors: the errors (registry entries or exception classes).
        descriptions: what each status means on this route.

    Example::

        @router.get("/{panel_id}", responses=problem_responses(NotFoundError))

    .. versionadded:: 0.4.0
    """
    by_status: dict[int, list[ErrorCode]] = {}
    for error in errors:
        entry = as_error_code(error)
        by_status.setdefault(entry.status, []).append(entry)
    described = dict(descriptions or {})
    responses: dict[int | str, Any] = {}
    for status, entries in sorted(by_status.items()):
        text = described.get(status) or "; ".join(dict.fromkeys(e.title for e in entries))
        responses[status] = problem_entry(text, entries)
    return responses


def _subclasses(root: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in root.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def error_codes_of(*roots: type[BaseException]) -> list[ErrorCode]:
    """The codes of every class under each exception root that answers 4xx/5xx.

    Only classes declaring their own ``code`` count (a subclass repeating its parent's
    code is the same entry); the roots themselves are abstract bases and are skipped.

    Args:
        roots: exception roots (``SpapsAuthError``, a service's ``HtmaError`` ...).

    .. versionadded:: 0.4.0
    """
    found: dict[str, ErrorCode] = {}
    for root in roots:
        for cls in _subclasses(root):
            status = getattr(cls, "status", None)
            if "code" not in vars(cls) or not isinstance(status, int) or not 400 <= status <= 599:
                continue  # repeats an inherited code, or answers no HTTP error
            try:
                entry = as_error_code(cls)
            except TypeError:
                continue
            found.setdefault(entry.code, entry)
    return sorted(found.values(), key=lambda e: e.code)
