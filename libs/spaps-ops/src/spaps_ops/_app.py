"""``create_app``: a FastAPI app with the spaps-ops stack, probes and lifespan."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TextIO

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware

from ._access_log import AccessLogMiddleware
from ._body_limit import BodyLimitMiddleware
from ._cors import StrictCORSMiddleware
from ._docs import install_docs
from ._error_audit import ErrorCodeAuditMiddleware
from ._logging import configure_logging as _configure_logging
from ._maintenance import MaintenanceMiddleware, MaintenanceSwitch
from ._metrics import HttpMetrics, MetricsMiddleware
from ._observe import ObserveMiddleware
from ._openapi import operation_id
from ._probes import ProbesMiddleware
from ._problem import ProblemMiddleware, install_problem_handlers
from ._registry import OPS_ERROR_CODES, ErrorCode, ErrorRegistry
from ._request_id import RequestIdMiddleware
from ._security_headers import SecurityHeadersMiddleware
from ._settings import OpsSettings
from ._state import LifespanHook, Ops, set_ops
from ._trusted_host import TrustedHostMiddleware

PROBE_ROUTES = frozenset({"/health/live", "/health/ready", "/health", "/metrics"})


def create_app(
    settings: OpsSettings,
    *,
    title: str | None = None,
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    resources: Sequence[object] = (),
    error_codes: Iterable[ErrorCode] = (),
    middleware: Sequence[Middleware] = (),
    lifespan: Any = None,
    configure_logging: bool = True,
    log_stream: TextIO | None = None,
    metrics_registry: CollectorRegistry | None = None,
    tracer_provider: Any = None,
    log_probes: bool = False,
    fastapi_options: Mapping[str, Any] | None = None,
    strict_error_codes: bool = False,
) -> FastAPI:
    """Build a FastAPI app with the spaps-ops stack.

    Middleware, outermost first: request id, tracing (when ``tracer_provider``), access
    log, metrics, security headers, strict CORS (when ``settings.cors_origins``),
    maintenance, problem rendering, probes, trusted hosts (``settings.allowed_hosts``),
    the body limit (``settings.max_body_size``, ``settings.body_read_timeout``), then
    your ``middleware``. Middleware added later with ``app.add_middleware`` (or
    ``@app.middleware``) goes right inside that stack, not outside it: its answers (a
    429 from a rate limiter) still carry the request id, security headers, an access-log
    line and metrics, and what it raises becomes problem+json. Endpoints:
    ``/health/live``, ``/health/ready``, ``/health`` and ``/metrics`` (when
    ``settings.metrics_enabled``); ``/docs`` and ``/redoc`` with a Content-Security-Policy
    of their own (when ``settings.docs_enabled``). Each operation's ``operationId`` is its
    route's name (the endpoint function's): stable when a path changes.

    Args:
        settings: the service settings; production settings are checked first.
        title: OpenAPI title (default ``settings.service_name``).
        on_startup: hooks awaited in order at start-up, after resources opened.
        on_shutdown: hooks awaited in reverse order at shutdown, before resources close.
        resources: opened at start-up, closed at shutdown in reverse order
            (see :meth:`Ops.add_resource`).
        error_codes: the app's own codes, added to the registry next to spaps-ops's.
        middleware: extra middleware placed inside the whole stack (e.g.
            authentication, tenancy, rate limiting), outermost first: probes and
            maintenance answers never reach it, and what it raises becomes problem+json.
        lifespan: an extra lifespan context manager factory, entered after the hooks.
        configure_logging: configure structlog JSON logging from the settings.
        log_stream: where logs go (default stdout).
        metrics_registry: registry for the HTTP metrics (default: a new one per app).
        tracer_provider: an OpenTelemetry ``TracerProvider``: adds request spans
            (needs the ``otel`` extra).
        log_probes: also write access-log lines for probe and metrics requests.
        fastapi_options: extra keyword arguments for ``FastAPI(...)``.
        strict_error_codes: check every problem answer, whoever renders it, against the
            error registry, outermost: an unregistered code, or a registered one answered
            with another status, raises :class:`UnregisteredErrorCodeError` instead of
            being sent (services turn it on outside production, so their tests fail).

    Raises:
        InsecureSettingsError: production settings that must not run.

    .. versionchanged:: 0.4.0 ``operationId`` is the route's name; ``strict_error_codes``.
    """
    settings.check_production()
    if configure_logging:
        _configure_logging(level=settings.log_level, json=settings.log_json, stream=log_stream)
    metrics = HttpMetrics(registry=metrics_registry) if settings.metrics_enabled else None
    errors = ErrorRegistry(OPS_ERROR_CODES)
    for item in error_codes:
        errors.add(item)
    ops = Ops(
        settings=settings,
        errors=errors,
        maintenance=MaintenanceSwitch(
            enabled=settings.maintenance_mode, retry_after=settings.maintenance_retry_after
        ),
        metrics=metrics,
    )
    for resource in resources:
        ops.add_resource(resource)

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            try:
                await ops._open(stack)
                for hook in on_startup:
                    await hook(app)
                for hook in on_shutdown:
                    stack.push_async_callback(hook, app)
                if lifespan is not None:
                    extra: AbstractAsyncContextManager[Any] = lifespan(app)
                    await stack.enter_async_context(extra)
                yield
            finally:
                ops._closed()

    docs = settings.docs_enabled
    stack = _middleware_stack(settings, ops, middleware, tracer_provider, log_probes)
    if strict_error_codes:
        stack.insert(0, Middleware(ErrorCodeAuditMiddleware, registry=errors))
    options: dict[str, Any] = {
        "title": title or settings.service_name,
        "version": settings.service_version,
        "debug": settings.debug,
        "docs_url": "/docs" if docs else None,
        "redoc_url": "/redoc" if docs else None,
        "openapi_url": "/openapi.json" if docs else None,
        "lifespan": _lifespan,
        "middleware": stack,
        "generate_unique_id_function": operation_id,
    }
    if tracer_provider is not None and "telemetry" in inspect.signature(FastAPI).parameters:
        # Newer FastAPI has native spans; one span per request is enough.
        options["telemetry"] = {"tracing": False}
    options.update(fastapi_options or {})
    # The docs pages are ours (with a CSP); FastAPI serves only the OpenAPI document.
    docs_url, redoc_url = options.pop("docs_url"), options.pop("redoc_url")
    app = _OpsFastAPI(docs_url=None, redoc_url=None, **options)
    app.ops_layers = len(stack) - len(middleware)
    install_docs(app, docs_url=docs_url, redoc_url=redoc_url)
    set_ops(app, ops)
    install_problem_handlers(app)
    return app


class _OpsFastAPI(FastAPI):
    """A FastAPI whose ``add_middleware`` places middleware inside spaps-ops' layers.

    Starlette puts each added middleware outermost, outside the request id, access log
    and problem rendering: a 429 from a rate limiter added after ``create_app`` would
    lack ``X-Request-ID``. ``add_middleware`` is the public extension point every way of
    adding middleware goes through (``@app.middleware`` too); the added layer keeps
    Starlette's order among the ones added later.
    """

    ops_layers = 0

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        super().add_middleware(middleware_class, *args, **kwargs)
        added = self.user_middleware.pop(0)  # Starlette inserted it outermost
        self.user_middleware.insert(self.ops_layers, added)


def _middleware_stack(
    settings: OpsSettings,
    ops: Ops,
    extra: Sequence[Middleware],
    tracer_provider: Any,
    log_probes: bool,
) -> list[Middleware]:
    skip = frozenset() if log_probes else PROBE_ROUTES
    # The docs pages set their own CSP (see _docs.py); the middleware leaves it alone.
    security: dict[str, Any] = {"hsts_max_age": settings.hsts_max_age}
    if tracer_provider is None:
        # The same layers, folded into one: each layer costs every request a call, a
        # ``send`` closure and a header-list copy (see docs, "Middleware order").
        return [
            Middleware(
                ObserveMiddleware,
                skip_routes=skip,
                metrics=ops.metrics,
                security_headers=security,
                cors_origins=settings.cors_origins,
                cors_allow_credentials=settings.cors_allow_credentials,
                ops=ops,
            ),
            *_request_guards(settings),
            *extra,
        ]
    from .tracing import TracingMiddleware  # noqa: PLC0415  # optional extra, imported on use

    stack = [
        Middleware(RequestIdMiddleware),
        Middleware(TracingMiddleware, tracer_provider=tracer_provider),
        Middleware(AccessLogMiddleware, skip_routes=skip),
    ]
    if ops.metrics is not None:
        stack.append(Middleware(MetricsMiddleware, metrics=ops.metrics))
    stack.append(Middleware(SecurityHeadersMiddleware, **security))
    if settings.cors_origins:
        stack.append(
            Middleware(
                StrictCORSMiddleware,
                origins=settings.cors_origins,
                allow_credentials=settings.cors_allow_credentials,
            )
        )
    stack.append(Middleware(MaintenanceMiddleware, switch=ops.maintenance))
    stack.append(Middleware(ProblemMiddleware))
    stack.append(Middleware(ProbesMiddleware, ops=ops))
    stack.extend(_request_guards(settings))
    stack.extend(extra)
    return stack


def _request_guards(settings: OpsSettings) -> list[Middleware]:
    """Trusted hosts and the body limit: inside the probes (a probe by IP address is
    answered), outside everything that reads the request."""
    return [
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts),
        Middleware(
            BodyLimitMiddleware,
            max_body_size=settings.max_body_size,
            read_timeout=settings.body_read_timeout,
        ),
    ]
