"""``CacheProbe``: answers ``GET /bench/cache`` with a verifier's cache statistics.

A pure-ASGI wrapper the benchmark apps put outermost, so the probe passes no
authentication and every other request goes straight to the app (one extra function
call, the same for every case). The body is ``TokenVerifier.cache_info()`` as a JSON
object: ``{"hits": ..., "misses": ..., "maxsize": ..., "currsize": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from spaps_auth import TokenVerifier
from starlette.types import ASGIApp, Receive, Scope, Send

CACHE_PATH = "/bench/cache"

#: Finds the app's verifier once the app has started (its lifespan may build it).
VerifierOf = Callable[[], TokenVerifier]


class CacheProbe:
    """Serve ``GET /bench/cache`` from ``verifier()``; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp, verifier: VerifierOf) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != CACHE_PATH:
            await self.app(scope, receive, send)
            return
        body = json.dumps(self.verifier().cache_info()._asdict()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
