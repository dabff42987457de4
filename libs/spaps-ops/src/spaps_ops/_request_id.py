"""Request/correlation ids: accept a well-formed incoming one or make one, echo it,
bind it to every log line, and forward it on outgoing httpx calls."""

from __future__ import annotations

import os
import re
import threading

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._logging import structlog_var

DEFAULT_HEADER = "X-Request-ID"
# Letters, digits and a few separators; bounded so a client cannot bloat every log line.
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:@=+/-]{8,128}")

#: The ``request_id`` field of structlog's context-local context (bound and read through
#: structlog's public contextvars functions): setting it binds the id to every log line,
#: as ``bind_contextvars(request_id=...)`` does, and it is what :func:`get_request_id`
#: reads.
REQUEST_ID_VAR = structlog_var("request_id")


def get_request_id() -> str | None:
    """The id of the request being handled in this context, or ``None`` outside one.

    It is the ``request_id`` bound in structlog's contextvars, as on the log lines: the
    middlewares bind it per request, and spaps-jobs binds the enqueuing request's id
    while a task runs, so calls made from a task forward it too. ``clear_contextvars()``
    clears it as well.
    """
    value = REQUEST_ID_VAR.get()
    if value is None:  # nothing bound in this context
        return None
    return value if isinstance(value, str) else str(value)


class _RandomIds:
    """Fresh request ids: 16 bytes of the kernel's CSPRNG each, as 32 hex digits (as
    unique as a uuid4), read 4 KiB at a time: one system call per 256 ids instead of
    one per request. Each byte serves one id; a forked child starts on fresh bytes."""

    _CHUNK = 4096

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # A new lock too: the fork may have copied one another thread held.
        self._lock = threading.Lock()
        self._hex = ""
        self._pos = 0

    def __call__(self) -> str:
        with self._lock:
            pos = self._pos
            if pos == len(self._hex):
                self._hex = os.urandom(self._CHUNK).hex()
                pos = 0
            self._pos = pos + 32
            return self._hex[pos : pos + 32]


_new_id = _RandomIds()


class RequestIdMiddleware:
    """Give every HTTP request an id.

    A well-formed incoming header (8-128 characters from ``A-Za-z0-9._:@=+/-``) is
    kept, so ids flow across services; anything else is replaced by a fresh random id.
    The id is echoed on the response, stored as ``request.state.request_id``, exposed by
    :func:`get_request_id` and bound to structlog's contextvars as ``request_id``.

    Args:
        app: the ASGI app to wrap.
        header: the header name.
        trust_incoming: keep well-formed incoming ids (set ``False`` at an edge that
            must not accept client-chosen ids).
    """

    def __init__(
        self, app: ASGIApp, *, header: str = DEFAULT_HEADER, trust_incoming: bool = True
    ) -> None:
        if not header or not re.fullmatch(r"[A-Za-z0-9-]+", header):
            raise ValueError(f"invalid header name {header!r}")
        self.app = app
        self.trust_incoming = trust_incoming
        self._header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        if self.trust_incoming:
            for name, value in scope["headers"]:
                if name == self._header:
                    if _WELL_FORMED.fullmatch(value):
                        request_id = value.decode("ascii")
                    break
        if request_id is None:
            request_id = _new_id()
        raw = request_id.encode("ascii")
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["request_id"] = request_id
        header = self._header

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (header, raw)]
            await send(message)

        token = REQUEST_ID_VAR.set(request_id)  # bind_contextvars(request_id=...)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID_VAR.reset(token)


async def forward_request_id(request: httpx.Request) -> None:
    """httpx event hook: send the current request id on outgoing calls.

    Use with ``httpx.AsyncClient(event_hooks={"request": [forward_request_id]})``; an id
    already set on the outgoing request is left alone.

    Args:
        request: the outgoing request.
    """
    request_id = get_request_id()
    if request_id is not None and DEFAULT_HEADER not in request.headers:
        request.headers[DEFAULT_HEADER] = request_id
