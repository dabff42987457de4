"""Every problem an app answers with carries a registered code, at its registered status.

:class:`ErrorCodeAuditMiddleware` reads each ``application/problem+json`` answer, whoever
rendered it (spaps-ops, a library's own middleware or handler, a route), and checks its
``code`` against the app's :class:`~spaps_ops.ErrorRegistry`. ``create_app`` puts it
outermost when ``strict_error_codes`` is on: services turn it on outside production, so
every answer their test suites provoke is checked, in-process and in served processes.
"""

from __future__ import annotations

import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import UnregisteredErrorCodeError
from ._problem import PROBLEM_CONTENT_TYPE
from ._registry import ErrorRegistry

#: Codes whose status varies by design: ``ops.http_error`` is any ``HTTPException``
#: status without a code of its own (its ``status`` member says which).
ANY_STATUS = frozenset({"ops.http_error"})


def check_problem(registry: ErrorRegistry, *, status: int, body: bytes) -> None:
    """Raise when a problem body's ``code`` is unregistered or registered with another status.

    Args:
        registry: the app's error codes.
        status: the HTTP status of the answer.
        body: the problem document.

    Raises:
        UnregisteredErrorCodeError: the code is missing, unknown, or its status differs.

    .. versionadded:: 0.4.0
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    code = document.get("code") if isinstance(document, dict) else None
    if not isinstance(code, str):
        raise UnregisteredErrorCodeError(None, status, "a problem answer without a code")
    entry = registry.get(code)
    if entry is None:
        raise UnregisteredErrorCodeError(code, status, "the code is not registered")
    if entry.status != status and code not in ANY_STATUS:
        raise UnregisteredErrorCodeError(
            code, status, f"the code is registered with status {entry.status}"
        )


class ErrorCodeAuditMiddleware:
    """Refuse (raise) or log problem answers whose code the registry does not hold.

    Only ``application/problem+json`` answers with a 4xx/5xx status are read (they are
    small and buffered whole); every other answer passes through untouched.

    Args:
        app: the ASGI app to wrap.
        registry: the app's error codes (read per answer: codes added later count).
        strict: raise :class:`~spaps_ops.UnregisteredErrorCodeError` instead of sending
            the answer (a test then fails); otherwise log ``unregistered_error_code``
            and send it.

    .. versionadded:: 0.4.0
    """

    def __init__(self, app: ASGIApp, *, registry: ErrorRegistry, strict: bool = True) -> None:
        if not isinstance(registry, ErrorRegistry):
            raise TypeError(f"registry must be an ErrorRegistry, got {type(registry).__name__}")
        self.app = app
        self.registry = registry
        self.strict = strict
        # Bound now, under the logging configuration the app was built with.
        self.log = structlog.get_logger("spaps.errors").bind()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Audit(self, scope, send).send)


class _Audit:
    """One request's view of its answer: holds a problem answer back until checked."""

    def __init__(self, owner: ErrorCodeAuditMiddleware, scope: Scope, send: Send) -> None:
        self.owner = owner
        self.scope = scope
        self.downstream = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if message["status"] >= 400 and _is_problem(message):
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start, self.start = self.start, None
            await self._release(start, message)
            return
        await self.downstream(message)

    async def _release(self, start: Message, last: Message) -> None:
        body, self.chunks = b"".join(self.chunks), []
        try:
            check_problem(self.owner.registry, status=start["status"], body=body)
        except UnregisteredErrorCodeError as exc:
            self.owner.log.error(
                "unregistered_error_code", code=exc.code, status=exc.status, reason=exc.reason,
                path=self.scope.get("path"),
            )  # fmt: skip
            if self.owner.strict:
                raise
        await self.downstream(start)
        await self.downstream({**last, "body": body, "more_body": False})


def _is_problem(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == PROBLEM_CONTENT_TYPE.encode())
    return False
