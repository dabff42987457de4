"""``TrustedHostMiddleware``: Starlette's host check, answered as problem+json, and
redirects that never take their host from the request."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.trustedhost import TrustedHostMiddleware as _StarletteTrustedHost
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import ProblemError
from ._problem import response_for_exception


class InvalidHostError(ProblemError):
    """The ``Host`` header names none of the service's allowed hosts (400)."""

    def __init__(self) -> None:
        super().__init__(
            status=400,
            code="ops.invalid_host",
            title="Invalid host header",
            detail="the Host header names none of this service's hosts",
        )


class _Request:
    """Per-request ``send`` given to Starlette's check: what it answers by itself is a
    refusal (rendered as problem+json); when it passes the request on, ``downstream``
    is used instead."""

    __slots__ = ("downstream", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive, downstream: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.downstream = downstream

    async def __call__(self, message: Message) -> None:
        if self.scope["type"] != "http":
            await self.downstream(message)  # a websocket close: nothing to render
        elif message["type"] == "http.response.start":
            response = response_for_exception(InvalidHostError(), self.scope)
            await response(self.scope, self.receive, self.downstream)
        # the refusal's plain-text body is dropped: ours was sent with the start


class TrustedHostMiddleware:
    """Accept only requests whose ``Host`` is one of ``allowed_hosts``.

    The matching is Starlette's ``TrustedHostMiddleware`` (exact names and leading
    ``*.`` wildcards, port ignored, no ``www.`` redirect); a refusal is answered with
    400 problem+json ``ops.invalid_host``. Redirects are made host-independent: a
    ``Location`` naming the request's own scheme and host (Starlette's trailing-slash
    redirect builds one from the ``Host`` header) is sent as a path, so no redirect
    ever points at a host the client chose, even with ``allowed_hosts=["*"]``.

    Args:
        app: the ASGI app to wrap.
        allowed_hosts: host names, ``*.example.com`` patterns, or ``["*"]`` for any.

    .. versionadded:: 0.3.0
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError("allowed_hosts must be a sequence of host names, not one string")
        hosts = list(allowed_hosts)
        if not hosts:
            raise ValueError("allowed_hosts is empty: no request could be answered")
        for pattern in hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern not in {"*"}
                                      and not pattern.startswith("*.")):  # fmt: skip
                raise ValueError(f"allowed host {pattern!r}: use '*' or a '*.domain' pattern")
        self.app = app
        self.allowed_hosts = tuple(hosts)
        self._check = _StarletteTrustedHost(self._admitted, allowed_hosts=hosts, www_redirect=False)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        downstream = send.downstream if isinstance(send, _Request) else send
        if scope["type"] != "http":
            await self.app(scope, receive, downstream)
            return
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        own = (scope.get("scheme", "http").encode("latin-1") + b"://" + host) if host else None

        async def send_relative(message: Message) -> None:
            if (
                own is not None
                and message["type"] == "http.response.start"
                and 300 <= message["status"] < 400
            ):
                message["headers"] = [
                    (k, _relative(v, own) if k == b"location" else v)
                    for k, v in message.get("headers", ())
                ]
            await downstream(message)

        await self.app(scope, receive, send_relative)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        await self._check(scope, receive, _Request(scope, receive, send))


def _relative(location: bytes, own: bytes) -> bytes:
    """``location`` without ``own`` (scheme://host[:port]) in front, as a path."""
    if location.lower().startswith(own.lower()):
        rest = location[len(own) :]
        if rest[:1] in {b"/", b""} or rest[:1] in {b"?", b"#"}:
            return rest if rest.startswith(b"/") else b"/" + rest
    return location
