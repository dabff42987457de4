"""One structured access-log line per HTTP request."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._logging import InfoLineWriter
from ._routes import route_template

#: Keys of ``request.state`` read for the log line; auth and tenancy set them.
USER_STATE_KEY = "user_id"
TENANT_STATE_KEY = "tenant_id"


class AccessLogMiddleware:
    """Write one ``http_request`` log line per request, after the response is sent.

    Fields: ``method``, ``route`` (the route template such as ``/items/{item_id}``, never
    the raw path, or ``<unmatched>``), ``status``, ``duration_ms``, plus ``request_id``
    from the contextvars and ``user_id`` / ``tenant_id`` when known. Authentication and
    tenancy report those without importing spaps-ops by setting ``request.state.user_id``
    / ``request.state.tenant_id`` (or binding structlog contextvars of the same names).

    Args:
        app: the ASGI app to wrap.
        logger: the structlog logger to write with (default ``spaps.access``).
        skip_routes: route templates not logged (e.g. probes hit every few seconds).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        logger: Any = None,
        skip_routes: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        # Bound once: the app configures structlog before building its middleware, and a
        # bound logger skips the lazy proxy's lookup on every line (structlog's own
        # cache_logger_on_first_use pins the configuration the same way).
        self.logger = logger if logger is not None else structlog.get_logger("spaps.access").bind()
        self.skip_routes = frozenset(skip_routes)
        self.write_line = AccessLine(self.logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app raises before answering, the server answers 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_template(scope)
            if route not in self.skip_routes:
                self.write_line(scope, route, status, start)


class AccessLine:
    """Writes the ``http_request`` line of a finished request.

    With :func:`configure_logging`'s JSON chain the line is assembled directly (same
    bytes, a fraction of the cost): the leading ``method``, ``route`` and ``status``
    members are encoded once per distinct triple (a bounded table) and reused. Any
    other logger gets a plain ``logger.info`` call.

    Args:
        logger: the structlog bound logger to write with.
    """

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self._direct = InfoLineWriter.for_logger(logger)
        self._heads: dict[tuple[str, str, int], str] = {}

    def __call__(self, scope: Scope, route: str, status: int, start: float) -> None:
        """Write the line.

        Args:
            scope: the request's ASGI scope (method, and user/tenant from its state).
            route: the route template.
            status: the response status.
            start: ``time.perf_counter()`` when the request arrived.
        """
        self.after(scope, route, status, time.perf_counter() - start)

    def after(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        """Write the line of a request that took ``seconds``.

        Args:
            scope: the request's ASGI scope (method, and user/tenant from its state).
            route: the route template.
            status: the response status.
            seconds: how long the request took.
        """
        duration = seconds * 1000
        method = scope["method"]
        user = tenant = None
        state = scope.get("state")
        if state:
            user = state.get(USER_STATE_KEY)
            if user is not None:
                user = str(user)
            tenant = state.get(TENANT_STATE_KEY)
            if tenant is not None:
                tenant = str(tenant)
        direct = self._direct
        if direct is not None:
            heads = self._heads
            head = heads.get((method, route, status))
            if head is None:
                head = direct.encode_fields({"method": method, "route": route, "status": status})
                if len(heads) < _MAX_HEADS:  # methods are client-chosen: keep the table bounded
                    heads[(method, route, status)] = head
            if direct.write_access(head, duration, user, tenant):
                return
        fields: dict[str, Any] = {
            "method": method, "route": route, "status": status,
            "duration_ms": round(duration, 3),
        }  # fmt: skip
        if user is not None:
            fields["user_id"] = user
        if tenant is not None:
            fields["tenant_id"] = tenant
        self.logger.info("http_request", **fields)


#: How many distinct (method, route, status) heads :class:`AccessLine` keeps encoded.
_MAX_HEADS = 4096
