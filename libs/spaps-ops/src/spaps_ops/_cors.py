"""Strict CORS: deny unless the origin is allow-listed (Starlette's CORSMiddleware,
configured so it cannot be loose)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")
DEFAULT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_HEADERS = ("Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key")


def strict_cors_options(
    *,
    origins: Collection[str],
    allow_credentials: bool = False,
    methods: Collection[str] = DEFAULT_METHODS,
    headers: Collection[str] = DEFAULT_HEADERS,
    expose_headers: Collection[str] = ("X-Request-ID", "Retry-After"),
    max_age: int = 600,
) -> dict[str, Any]:
    """Validated keyword arguments for Starlette's ``CORSMiddleware``.

    Only exact origins (``scheme://host[:port]``) are accepted; ``*`` is refused when
    credentials are allowed, and no origin regex is ever set.

    Args:
        origins: the allowed origins.
        allow_credentials: send ``Access-Control-Allow-Credentials``.
        methods: allowed methods (no ``*``).
        headers: allowed request headers (no ``*``).
        expose_headers: response headers scripts may read.
        max_age: preflight cache seconds.
    """
    origins = list(origins)
    for origin in origins:
        if origin == "*":
            if allow_credentials:
                raise ValueError("CORS: wildcard origin '*' cannot be combined with credentials")
            continue
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"CORS: {origin!r} is not an origin (scheme://host[:port])")
    if "*" in methods or "*" in headers:
        raise ValueError("CORS: list methods and headers explicitly, '*' is not allowed")
    return {
        "allow_origins": origins,
        "allow_credentials": allow_credentials,
        "allow_methods": list(methods),
        "allow_headers": list(headers),
        "expose_headers": list(expose_headers),
        "max_age": max_age,
    }


class StrictCORSMiddleware(CORSMiddleware):
    """Starlette's ``CORSMiddleware`` with :func:`strict_cors_options` validation.

    Args:
        app: the ASGI app to wrap.
        origins: the allowed origins; with none, no CORS header is ever sent, so browsers
            refuse every cross-origin read.
        allow_credentials: allow cookies/authorization on cross-origin requests.
        methods: allowed methods.
        headers: allowed request headers.
        max_age: preflight cache seconds.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: Collection[str] = (),
        allow_credentials: bool = False,
        methods: Collection[str] = DEFAULT_METHODS,
        headers: Collection[str] = DEFAULT_HEADERS,
        max_age: int = 600,
    ) -> None:
        options = strict_cors_options(
            origins=origins,
            allow_credentials=allow_credentials,
            methods=methods,
            headers=headers,
            max_age=max_age,
        )
        super().__init__(app, **options)
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, _ in scope["headers"]:
                if name == b"origin":
                    break
            else:
                # Same-origin and non-browser traffic (the bulk): no CORS headers to add,
                # only ``Vary: Origin`` so shared caches keep the variants apart. This skips
                # building Starlette's Headers objects on the hot path.
                await self._app(scope, receive, _vary_origin(send))
                return
        await super().__call__(scope, receive, send)


def _vary_origin(send: Send) -> Send:
    async def send_with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            for index, (name, value) in enumerate(headers):
                if name == b"vary":
                    headers[index] = (name, value + b", Origin")
                    break
            else:
                headers.append((b"vary", b"Origin"))
            message["headers"] = headers
        await send(message)

    return send_with_vary
