"""Probe and metrics endpoints, answered before routing.

They are plain ASGI responders looked up by exact path, so the four of them cost every
other request one dict lookup instead of four route matches, and probes stay cheap and
outside the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._problem import problem_response, request_id_of
from ._state import Ops

LIVE, READY, DETAILS, METRICS = "/health/live", "/health/ready", "/health", "/metrics"


class _ProbeRoute:
    """Stands in for a matched route in ``scope["route"]``: logs and metrics read
    ``.path`` as the route template."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class ProbesMiddleware:
    """Answer ``GET`` on the probe paths and ``/metrics``; pass everything else on.

    Args:
        app: the ASGI app to wrap.
        ops: the app's state (checks, settings, metrics).
    """

    def __init__(self, app: ASGIApp, *, ops: Ops) -> None:
        self.app = app
        self.ops = ops
        handlers: dict[str, Callable[[Scope], Awaitable[Response]]] = {
            LIVE: self._live,
            READY: self._ready,
            DETAILS: self._details,
        }
        if ops.metrics is not None:
            handlers[METRICS] = self._metrics
        self._handlers = handlers
        self._routes = {path: _ProbeRoute(path) for path in handlers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            handler = self._handlers.get(path)
            if handler is not None:
                scope["route"] = self._routes[path]
                response = await handler(scope)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _live(self, scope: Scope) -> Response:
        return JSONResponse({"status": "ok"})

    async def _ready(self, scope: Scope) -> Response:
        results = await self.ops.health.run()
        failing = [r.name for r in results if not r.ok]
        if failing:
            # Names only: error messages can carry hosts and ports; /health has them.
            return problem_response(
                status=503,
                code="ops.not_ready",
                title="Service not ready",
                detail="failing checks: " + ", ".join(failing),
                instance=scope["path"],
                request_id=request_id_of(scope),
                extensions={"failing_checks": failing},
            )
        return JSONResponse({"status": "ok", "checks": [r.name for r in results]})

    async def _details(self, scope: Scope) -> Response:
        ops = self.ops
        results = await ops.health.run()
        ok = all(r.ok for r in results)
        body = {
            "status": "ok" if ok else "failing",
            "service": ops.settings.service_name,
            "version": ops.settings.service_version,
            "environment": ops.settings.environment,
            "maintenance": ops.maintenance.enabled,
            "checks": {r.name: r.as_dict() for r in results},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    async def _metrics(self, scope: Scope) -> Response:
        metrics = self.ops.metrics
        if metrics is None:  # pragma: no cover - the handler exists only with metrics
            raise RuntimeError("metrics are disabled")
        content, content_type = metrics.render()
        return Response(content, media_type=content_type)
