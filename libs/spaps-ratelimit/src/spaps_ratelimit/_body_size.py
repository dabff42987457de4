"""``BodySizeLimitMiddleware``: 413 for bodies over a size, streamed or not."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import RequestBodyTooLarge
from ._headers import send_problem

_LOGGER = logging.getLogger("spaps_ratelimit")


class _Guard:
    """Per-request state: bytes seen, whether a response started, whether we answered."""

    __slots__ = ("answered", "app_started", "exceeded", "received", "send")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.received = 0
        self.app_started = False
        self.exceeded = False
        self.answered = False

    async def send_from_app(self, message: Message) -> None:
        if self.answered:
            return  # we already sent the 413; whatever the app says now is dropped
        if message["type"] == "http.response.start":
            self.app_started = True
        await self.send(message)


class BodySizeLimitMiddleware:
    """Rejects request bodies larger than ``max_body_size`` bytes without buffering.

    A ``Content-Length`` over the limit is answered with ``413`` problem+json before
    the application runs. Otherwise (chunked bodies, or a lying length) the bytes are
    counted as the application reads them; the moment they pass the limit the
    middleware answers ``413`` itself and tells the application the client
    disconnected, so it stops reading. If the application had already started its
    response, the 413 cannot be sent and only the disconnect is signalled.

    Args:
        app: The ASGI application.
        max_body_size: Largest accepted body, in bytes.
        exempt: Paths (and everything below them) that are not limited, e.g. uploads
            with their own guard.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.4.0 The 413 body carries ``instance`` and ``request_id``.
    """

    def __init__(
        self, app: ASGIApp, *, max_body_size: int = 1_048_576, exempt: Iterable[str] = ()
    ) -> None:
        if not isinstance(max_body_size, int) or isinstance(max_body_size, bool):
            raise TypeError(f"max_body_size must be an int, got {max_body_size!r}")
        if max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0, got {max_body_size}")
        if isinstance(exempt, str):
            raise TypeError("exempt must be an iterable of paths, not one string")
        paths = tuple(exempt)
        self.app = app
        self.max_body_size = max_body_size
        self._exempt_exact = frozenset(p.rstrip("/") or "/" for p in paths)
        self._exempt_prefixes = tuple(p.rstrip("/") + "/" for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self._exempt_exact
            or path.startswith(self._exempt_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    break  # the server rejects a malformed length itself
                if declared > limit:
                    await send_problem(send, RequestBodyTooLarge(limit), scope)
                    return
                break
        guard = _Guard(send)

        async def counting_receive() -> Message:
            if guard.exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                guard.received += len(message.get("body", b""))
                if guard.received > limit:
                    guard.exceeded = True
                    if not guard.app_started:
                        guard.answered = True
                        await send_problem(send, RequestBodyTooLarge(limit), scope)
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, counting_receive, guard.send_from_app)
        except Exception:
            if not guard.answered:
                raise
            # The app failed on the disconnect we signalled; the client has its 413.
            _LOGGER.debug("application error after body-size rejection", exc_info=True)
