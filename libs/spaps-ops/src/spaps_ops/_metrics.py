"""Prometheus HTTP metrics with bounded labels, per-app registries, multiprocess mode."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._routes import route_template

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    """The HTTP metrics of one app.

    ``http_requests_total`` and ``http_request_duration_seconds`` are labelled by
    ``method`` (unknown methods become ``OTHER``), ``route`` (the template, unmatched
    paths share ``<unmatched>``) and ``status`` class (``2xx``..``5xx``);
    ``http_requests_in_progress`` is a gauge.

    Each instance owns a ``CollectorRegistry`` unless one is given, so several apps (or
    tests) coexist in one process. When ``PROMETHEUS_MULTIPROC_DIR`` is set (it must be
    set before the process imports ``prometheus_client``), values live in that directory
    and :meth:`render` aggregates every worker process.

    Args:
        registry: registry to register the metrics in (default: a new one).
        namespace: metric name prefix.
        buckets: latency histogram buckets in seconds.
    """

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        labels = ("method", "route", "status")
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered.",
            labels,
            namespace=namespace,
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency.",
            labels,
            namespace=namespace,
            buckets=tuple(buckets),
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled.",
            namespace=namespace,
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        #: Requests in flight in this process; read by the gauge at scrape time, so the
        #: hot path is two integer updates instead of two locked gauge writes.
        self.in_flight = 0
        if not self.multiprocess_dir:
            self.in_progress.set_function(lambda: self.in_flight)

    def children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The (counter, histogram) children for one label set, cached."""
        # Map the method first: the cache must not grow with attacker-chosen methods.
        key = (method if method in _METHODS else "OTHER", route, status)
        found = self._children.get(key)
        if found is None:
            labels = (key[0], route, f"{status // 100}xx")
            found = (self.requests.labels(*labels), self.duration.labels(*labels))
            self._children[key] = found
        return found

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Record every HTTP request in :class:`HttpMetrics`.

    Args:
        app: the ASGI app to wrap.
        metrics: where to record.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        if not isinstance(metrics, HttpMetrics):
            raise TypeError("metrics must be an HttpMetrics")
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        multiprocess = metrics.multiprocess_dir is not None
        if multiprocess:
            metrics.in_progress.inc()
        else:
            metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if multiprocess:
                metrics.in_progress.dec()
            else:
                metrics.in_flight -= 1
            counter, histogram = metrics.children(scope["method"], route_template(scope), status)
            counter.inc()
            histogram.observe(time.perf_counter() - start)
