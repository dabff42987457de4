"""OpenTelemetry request spans (needs the ``otel`` extra: ``spaps-ops[otel]``).

Kept out of the package root so the core imports without OpenTelemetry; ``create_app``
imports it only when given a ``tracer_provider``.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._problem import request_id_of
from ._routes import route_template

__all__ = ["TracingMiddleware"]


class TracingMiddleware:
    """One server span per HTTP request, named ``"<METHOD> <route template>"``.

    Attributes follow the HTTP semantic conventions: ``http.request.method``,
    ``http.route``, ``url.path``, ``http.response.status_code``; plus ``request.id``.
    Incoming W3C ``traceparent`` headers continue the caller's trace. 5xx responses and
    exceptions mark the span as an error.

    Args:
        app: the ASGI app to wrap.
        tracer_provider: the provider to get the tracer from (default: the global one).
    """

    def __init__(self, app: ASGIApp, *, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        self.tracer = trace.get_tracer("spaps_ops", tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        with self.tracer.start_as_current_span(
            method,
            context=extract(carrier),
            kind=SpanKind.SERVER,
            record_exception=True,
            set_status_on_exception=True,
        ) as span:
            status = 500

            async def send_wrapper(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = route_template(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("url.path", scope["path"])
                span.set_attribute("http.response.status_code", status)
                request_id = request_id_of(scope)
                if request_id is not None:
                    span.set_attribute("request.id", request_id)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
