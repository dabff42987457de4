"""The outer half of the ``create_app`` stack as one ASGI layer.

Request id, access log, metrics, security headers and strict CORS each exist as a
public middleware for hand-made stacks; stacked, every request pays one more call, one
more ``send`` closure and one more header-list copy per layer. :class:`ObserveMiddleware`
does the same work, in the same order and with the same output, in one layer: one pass
over the request headers (request id and ``Origin``), one ``send`` wrapper that records
the status and writes every response header at once, one clock.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._access_log import AccessLogMiddleware
from ._cors import StrictCORSMiddleware
from ._guard import GuardMiddleware
from ._metrics import HttpMetrics
from ._problem import answer_exception
from ._request_id import (
    _WELL_FORMED,
    DEFAULT_HEADER,
    REQUEST_ID_VAR,
    RequestIdMiddleware,
    _new_id,
)
from ._routes import UNMATCHED
from ._security_headers import SecurityHeadersMiddleware, header_pairs
from ._state import Ops


class ObserveMiddleware:
    """Request id, access log, metrics, security headers and strict CORS in one layer,
    and, given ``ops``, maintenance mode, problem rendering and probes too.

    Behaves like ``RequestIdMiddleware`` > ``AccessLogMiddleware`` > ``MetricsMiddleware``
    > ``SecurityHeadersMiddleware`` > ``StrictCORSMiddleware`` (> ``GuardMiddleware``,
    i.e. ``MaintenanceMiddleware`` > ``ProblemMiddleware`` > ``ProbesMiddleware``, with
    ``ops``) stacked in that order (same response headers in the same order, same log
    line, same metrics).

    Args:
        app: the ASGI app to wrap.
        request_id_header: the request id header name.
        trust_incoming: keep well-formed incoming request ids.
        logger: the access-log structlog logger (default ``spaps.access``).
        skip_routes: route templates not written to the access log.
        metrics: where to record HTTP metrics (``None``: no metrics).
        security_headers: keyword arguments of ``SecurityHeadersMiddleware``.
        cors_origins: allowed CORS origins (empty: no CORS layer).
        cors_allow_credentials: allow credentials on cross-origin requests.
        ops: the app's state: also answer maintenance mode, escaping exceptions and
            probes, as :class:`GuardMiddleware` inside CORS would.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_id_header: str = DEFAULT_HEADER,
        trust_incoming: bool = True,
        logger: Any = None,
        skip_routes: frozenset[str] = frozenset(),
        metrics: HttpMetrics | None = None,
        security_headers: Mapping[str, Any] | None = None,
        cors_origins: Collection[str] = (),
        cors_allow_credentials: bool = False,
        ops: Ops | None = None,
    ) -> None:
        if metrics is not None and not isinstance(metrics, HttpMetrics):
            raise TypeError("metrics must be an HttpMetrics or None")
        # The single-purpose middlewares validate the options and precompute their bytes.
        ids = RequestIdMiddleware(app, header=request_id_header, trust_incoming=trust_incoming)
        log = AccessLogMiddleware(app, logger=logger, skip_routes=skip_routes)
        security = SecurityHeadersMiddleware(app, **(security_headers or {}))
        self.app = app
        self._id_header = ids._header
        self._trust_incoming = ids.trust_incoming
        self._write_line = log.write_line
        self._skip_routes = log.skip_routes
        self._metrics = metrics
        self._security = security._headers
        self._security_without_csp = security._headers_without_csp
        #: Response header names that need merging rather than appending.
        self._merged_names = security._names | {b"vary"}
        #: What a response without any of those gets appended (before the request id),
        #: by (CSP-exempt path, Vary to add).
        self._tails = {
            (exempt, vary): ((_VARY_ORIGIN,) if vary else ()) + headers
            for exempt, headers in (
                (False, security._headers), (True, security._headers_without_csp)
            )
            for vary in (False, True)
        }  # fmt: skip
        self._csp_exempt = security._csp_exempt
        self._guard = GuardMiddleware(app, ops=ops) if ops is not None else None
        self._cors: StrictCORSMiddleware | None = None
        if cors_origins:
            # Cross-origin requests take the stacked path: CORS, then the guard.
            self._cors = StrictCORSMiddleware(
                self._guard or app, origins=cors_origins, allow_credentials=cors_allow_credentials
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0912, PLR0915  # one layer on purpose: every split costs each request a call
        if scope["type"] != "http":
            await (self._cors or self.app)(scope, receive, send)
            return
        start = time.perf_counter()
        id_header = self._id_header
        # One pass over the request headers: the first request id, and any Origin.
        incoming = None
        has_origin = False
        for name, value in scope["headers"]:
            if name == id_header:
                if incoming is None:  # the first one counts, as in RequestIdMiddleware
                    incoming = value
            elif name == b"origin":
                has_origin = True
        if incoming is not None and self._trust_incoming and _WELL_FORMED.fullmatch(incoming):
            request_id = incoming.decode("ascii")
        else:
            request_id = _new_id()
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["request_id"] = request_id
        id_pair = (id_header, request_id.encode("ascii"))
        cors = self._cors
        add_vary = cors is not None and not has_origin
        csp_exempt = scope["path"] in self._csp_exempt
        tail = self._tails[csp_exempt, add_vary]
        merged_names = self._merged_names
        status = 500  # if the app raises before answering, the server answers 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                headers = header_pairs(message)
                # ASGI header names are lower-case bytes, so a set lookup is enough.
                for name, _ in headers:
                    if name in merged_names:  # the app set Vary or a security header
                        message["headers"] = self._merge_headers(
                            headers, add_vary, csp_exempt, id_pair
                        )
                        break
                else:
                    message["headers"] = [*headers, *tail, id_pair]
            await send(message)

        metrics = self._metrics
        token = REQUEST_ID_VAR.set(request_id)  # bind_contextvars(request_id=...)
        try:
            if metrics is not None:
                metrics.request_started()
            try:
                guard = self._guard
                if cors is not None and not add_vary:
                    # A cross-origin request: Starlette's CORS logic applies.
                    await cors(scope, receive, send_wrapper)
                elif guard is None:
                    await self.app(scope, receive, send_wrapper)
                # What GuardMiddleware does, without one more layer:
                elif guard.switch.enabled and not guard.maintenance.exempt(scope["path"]):
                    await guard.maintenance(scope, receive, send_wrapper)  # answers the 503
                elif scope["method"] == "GET" and scope["path"] in guard.probe_paths:
                    await guard.probes(scope, receive, send_wrapper)
                else:
                    try:
                        await self.app(scope, receive, send_wrapper)
                    except Exception as exc:
                        if started:
                            raise  # too late to answer; let the server close the connection
                        await answer_exception(exc, scope, receive, send_wrapper)
            finally:
                path = getattr(scope.get("route"), "path", None)  # as route_template()
                route = path if isinstance(path, str) else UNMATCHED
                elapsed = time.perf_counter() - start
                if metrics is not None:
                    metrics.request_finished(scope["method"], route, status, elapsed)
                if route not in self._skip_routes:
                    self._write_line.after(scope, route, status, elapsed)
        finally:
            REQUEST_ID_VAR.reset(token)

    def _merge_headers(
        self,
        headers: Iterable[tuple[bytes, bytes]],
        add_vary: bool,
        csp_exempt: bool,
        id_pair: tuple[bytes, bytes],
    ) -> list[tuple[bytes, bytes]]:
        """The response headers with ``Vary: Origin`` merged in (same-origin requests
        under CORS), the security headers the app did not set, and the request id, in
        the stacked order: the path of responses that set some of those themselves."""
        out = list(headers)
        if add_vary:  # what StrictCORSMiddleware adds to same-origin answers
            for index, (name, value) in enumerate(out):
                if name == b"vary":
                    out[index] = (name, value + b", Origin")
                    break
            else:
                out.append(_VARY_ORIGIN)
        present = {name for name, _ in out}
        extra = self._security_without_csp if csp_exempt else self._security
        out.extend(h for h in extra if h[0] not in present)
        out.append(id_pair)
        return out


_VARY_ORIGIN = (b"vary", b"Origin")
