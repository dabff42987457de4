"""RFC 9457 problem+json: the body, the response, and the handlers that produce them.

Any exception carrying ``status`` (int), ``code`` (str) and ``title`` (str) is a
problem (:class:`ProblemLike`); ``detail``, ``headers`` and ``extensions`` are optional.
That duck-typed protocol is how other libraries raise HTTP errors without importing us.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._registry import PROBLEM_TYPE_PREFIX

PROBLEM_CONTENT_TYPE = "application/problem+json"
_log = structlog.get_logger("spaps.errors")


@runtime_checkable
class ProblemLike(Protocol):
    """What an exception needs to be rendered as problem+json.

    Optional members read when present: ``detail: str | None``,
    ``headers: Mapping[str, str] | None``, ``extensions: Mapping[str, object] | None``.
    """

    status: int
    code: str
    title: str


def is_problem(exc: BaseException) -> bool:
    """Whether ``exc`` follows the problem protocol (int status, str code and title)."""
    status = getattr(exc, "status", None)
    return (
        isinstance(status, int)
        and 400 <= status <= 599
        and isinstance(getattr(exc, "code", None), str)
        and isinstance(getattr(exc, "title", None), str)
    )


def request_id_of(scope: Scope) -> str | None:
    """The request id the request-id middleware stored in ``scope["state"]``."""
    state = scope.get("state")
    return state.get("request_id") if isinstance(state, dict) else None


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    extensions: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The problem document: ``type``, ``title``, ``status``, ``detail``, ``instance``,
    ``code``, ``request_id`` then the extension members (which cannot override those).

    Args:
        status: HTTP status.
        code: the error code; ``type`` is ``urn:spaps:problem:<code>``.
        title: short summary.
        detail: occurrence-specific explanation.
        instance: the request path.
        request_id: the request id, for support.
        extensions: extra members.
    """
    body: dict[str, Any] = dict(extensions) if extensions else {}
    body.update(
        type=PROBLEM_TYPE_PREFIX + code,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        request_id=request_id,
    )
    return body


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> Response:
    """A ``application/problem+json`` response (arguments as :func:`problem_body`)."""
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=instance,
        request_id=request_id,
        extensions=extensions,
    )
    content = json.dumps(body, separators=(",", ":"), default=str).encode()
    return Response(content, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def response_for_exception(exc: BaseException, scope: Scope) -> Response:
    """Render ``exc``: a problem-protocol error as itself, anything else as a bare 500."""
    instance = scope.get("path")
    request_id = request_id_of(scope)
    if is_problem(exc):
        headers = getattr(exc, "headers", None)
        extensions = getattr(exc, "extensions", None)
        detail = getattr(exc, "detail", None)
        return problem_response(
            status=exc.status,  # type: ignore[attr-defined]  # checked by is_problem
            code=exc.code,  # type: ignore[attr-defined]  # checked by is_problem
            title=exc.title,  # type: ignore[attr-defined]  # checked by is_problem
            detail=detail if isinstance(detail, str) else None,
            instance=instance,
            request_id=request_id,
            headers=headers if isinstance(headers, Mapping) else None,
            extensions=extensions if isinstance(extensions, Mapping) else None,
        )
    # Nothing about the exception leaves the process: no message, no type, no trace.
    return problem_response(
        status=500,
        code="ops.internal_error",
        title="Internal server error",
        detail="an unexpected error occurred; quote the request_id when reporting it",
        instance=instance,
        request_id=request_id,
    )


class ProblemMiddleware:
    """Innermost middleware: turns exceptions the routes let escape into problem+json.

    Problem-protocol errors keep their status; anything else is logged with its traceback
    and answered with a 500 that leaks nothing. Because this sits inside the other
    middlewares, error responses still get the request id, security and CORS headers,
    an access-log line and metrics.

    Args:
        app: the ASGI app to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                raise  # too late to answer; let the server close the connection
            await answer_exception(exc, scope, receive, send)


async def answer_exception(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an exception that escaped before the response started (log it if unexpected).

    Args:
        exc: the exception.
        scope: the request's ASGI scope.
        receive: the ASGI receive callable.
        send: the ASGI send callable.
    """
    if not is_problem(exc):
        _log.exception("unhandled_exception", path=scope.get("path"))
    response = response_for_exception(exc, scope)
    await response(scope, receive, send)


_CODES_BY_STATUS = {400: "ops.bad_request", 404: "ops.not_found", 405: "ops.method_not_allowed"}


_PHRASES = {s.value: s.phrase for s in HTTPStatus}


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise TypeError(type(exc).__name__)
    status = exc.status_code
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        code = _CODES_BY_STATUS.get(status, "ops.http_error")
    title = getattr(exc, "title", None)
    if not isinstance(title, str):
        title = _PHRASES.get(status, "Error")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status < 400:  # a redirect-like HTTPException: keep plain semantics
        return Response(status_code=status, headers=exc.headers)
    return problem_response(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path,
        request_id=request_id_of(request.scope),
        headers=exc.headers,
    )


async def _validation_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # registered for it only
        raise TypeError(type(exc).__name__)
    errors = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    return problem_response(
        status=422,
        code="ops.validation_failed",
        title="Validation failed",
        detail=f"{len(errors)} invalid field(s)",
        instance=request.url.path,
        request_id=request_id_of(request.scope),
        extensions={"errors": errors},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render ``HTTPException`` and validation errors as problem+json on ``app``.

    ``create_app`` does this and adds :class:`ProblemMiddleware`; call it yourself only
    for an app built without ``create_app``.

    Args:
        app: the FastAPI app.
    """
    app.add_exception_handler(HTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
