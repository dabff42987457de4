"""``BodyLimitMiddleware``: 413 for bodies over a size and 408 for bodies that arrive
too slowly, before the application has read them."""

from __future__ import annotations

import asyncio
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import ProblemError
from ._problem import response_for_exception

_log = structlog.get_logger("spaps.http")


class BodyTooLargeError(ProblemError):
    """The request body is larger than the service accepts (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status=413,
            code="ops.body_too_large",
            title="Request body too large",
            detail=f"the request body must be at most {limit} bytes",
            extensions={"max_body_size": limit},
        )


class BodyTimeoutError(ProblemError):
    """The request body did not arrive within the read timeout (408)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            status=408,
            code="ops.body_timeout",
            title="Request body timeout",
            detail=f"the request body did not arrive within {timeout:g} seconds",
            headers={"Connection": "close"},
        )


class _Body:
    """Per-request state: bytes seen, the read deadline, whether a response started."""

    __slots__ = ("answered", "deadline", "receive", "received", "scope", "send", "started")

    def __init__(self, scope: Scope, receive: Receive, send: Send, deadline: float) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.deadline = deadline
        self.received = 0
        self.started = False
        self.answered = False

    async def refuse(self, error: ProblemError) -> Message:
        """Answer ``error`` (if nothing was sent yet) and tell the app the client left."""
        if not self.started and not self.answered:
            self.answered = True
            await response_for_exception(error, self.scope)(self.scope, self.receive, self.send)
        return {"type": "http.disconnect"}

    async def send_from_app(self, message: Message) -> None:
        if self.answered:
            return  # the refusal was sent; whatever the app answers to the disconnect is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_body_size`` bytes or slower than ``read_timeout``.

    A declared ``Content-Length`` over the limit is answered 413 problem+json
    (``ops.body_too_large``) at once, before the application runs and without reading
    the body. Otherwise (chunked bodies, or a lying length) bytes are counted as the
    application reads them; past the limit the middleware answers 413 itself and tells
    the application the client disconnected. The whole body must arrive within
    ``read_timeout`` seconds of the request's start, else 408 ``ops.body_timeout``
    (a client trickling bytes holds no connection longer than that). Nothing is
    buffered.

    Args:
        app: the ASGI app to wrap.
        max_body_size: largest accepted body, in bytes.
        read_timeout: seconds the whole body may take to arrive.

    .. versionadded:: 0.3.0
    """

    def __init__(
        self, app: ASGIApp, *, max_body_size: int = 1_048_576, read_timeout: float = 30.0
    ) -> None:
        if not isinstance(max_body_size, int) or isinstance(max_body_size, bool):
            raise TypeError(f"max_body_size must be an int, got {max_body_size!r}")
        if max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0, got {max_body_size}")
        if not isinstance(read_timeout, int | float) or not read_timeout > 0:
            raise ValueError(f"read_timeout must be a positive number, got {read_timeout!r}")
        self.app = app
        self.max_body_size = max_body_size
        self.read_timeout = float(read_timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await response_for_exception(BodyTooLargeError(limit), scope)(
                        scope, receive, send
                    )
                    return
                break  # the server itself refuses a malformed length
        body = _Body(scope, receive, send, time.monotonic() + self.read_timeout)
        more = True

        async def guarded_receive() -> Message:
            nonlocal more
            if body.answered:
                return {"type": "http.disconnect"}
            if not more:
                return await receive()  # the body is complete: wait for the disconnect
            try:
                async with asyncio.timeout(max(body.deadline - time.monotonic(), 0.0)):
                    message = await receive()
            except TimeoutError:
                _log.info("request_body_timeout", path=scope.get("path"))
                return await body.refuse(BodyTimeoutError(self.read_timeout))
            if message["type"] == "http.request":
                body.received += len(message.get("body", b""))
                if body.received > limit:
                    return await body.refuse(BodyTooLargeError(limit))
                more = bool(message.get("more_body", False))
            return message

        try:
            await self.app(scope, guarded_receive, body.send_from_app)
        except Exception:
            if not body.answered:
                raise
            # The app failed on the disconnect we signalled; the client has its answer.
            _log.debug("error_after_body_refusal", exc_info=True)
