"""Prometheus HTTP metrics with bounded labels, per-app registries, multiprocess mode."""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._routes import route_template

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LABELS = ("method", "route", "status")


class _Series:
    """Count, sum and per-bucket counts of one label set (buckets not yet cumulative)."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self, size: int) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * size


class _InProcessCollector:
    """The HTTP metrics of one process, as plain numbers read at scrape time.

    Recording is a dict lookup and three additions, without the lock
    ``prometheus_client`` takes per update: the middleware only runs on the event-loop
    thread, which is also where ``/metrics`` is rendered.
    """

    def __init__(self, namespace: str, buckets: Sequence[float]) -> None:
        prefix = f"{namespace}_" if namespace else ""
        self.requests_name = prefix + "http_requests"
        self.duration_name = prefix + "http_request_duration_seconds"
        self.in_progress_name = prefix + "http_requests_in_progress"
        self.bounds = tuple(buckets)
        self.series: dict[tuple[str, str, str], _Series] = {}
        self.in_flight = 0

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            self.requests_name, "HTTP requests answered.", labels=_LABELS
        )
        duration = HistogramMetricFamily(
            self.duration_name, "HTTP request latency.", labels=_LABELS
        )
        for labels, series in list(self.series.items()):
            requests.add_metric(labels, series.count)
            cumulative, running = [], 0
            for bound, count in zip((*self.bounds, float("inf")), series.buckets, strict=True):
                running += count
                cumulative.append((_le(bound), running))
            duration.add_metric(labels, cumulative, series.total)
        in_progress = GaugeMetricFamily(self.in_progress_name, "HTTP requests being handled.")
        in_progress.add_metric([], self.in_flight)
        yield requests
        yield duration
        yield in_progress


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class HttpMetrics:
    """The HTTP metrics of one app.

    ``http_requests_total`` and ``http_request_duration_seconds`` are labelled by
    ``method`` (unknown methods become ``OTHER``), ``route`` (the template, unmatched
    paths share ``<unmatched>``) and ``status`` class (``2xx``..``5xx``);
    ``http_requests_in_progress`` is a gauge.

    Each instance owns a ``CollectorRegistry`` unless one is given, so several apps (or
    tests) coexist in one process. When ``PROMETHEUS_MULTIPROC_DIR`` is set (it must be
    set before the process imports ``prometheus_client``), values are written with
    ``prometheus_client``'s multiprocess metrics into that directory and :meth:`render`
    aggregates every worker process.

    ``/metrics`` can also serve the collectors of other registries, such as
    ``prometheus_client.REGISTRY`` where spaps-jobs registers its task and relay metrics by
    default: pass ``extra_registries`` or call :meth:`expose`.

    Args:
        registry: registry to register the metrics in (default: a new one).
        namespace: metric name prefix.
        buckets: latency histogram buckets in seconds.
        extra_registries: more registries whose metrics :meth:`render` includes.

    .. versionchanged:: 0.4.0 ``extra_registries`` and :meth:`expose`.
    """

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        extra_registries: Sequence[CollectorRegistry] = (),
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise ValueError("buckets must be a non-empty increasing sequence")
        self.registry = registry if registry is not None else CollectorRegistry()
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        self._bounds = bounds
        self._extra: list[CollectorRegistry] = []
        for extra in extra_registries:
            self.expose(extra)
        self._status_labels = {s: f"{s // 100}xx" for s in range(100, 600)}
        self._local: _InProcessCollector | None = None
        self._shared: tuple[Counter, Histogram, Gauge] | None = None
        if self.multiprocess_dir:
            self._shared = (
                Counter("http_requests_total", "HTTP requests answered.", _LABELS,
                        namespace=namespace, registry=self.registry),
                Histogram("http_request_duration_seconds", "HTTP request latency.", _LABELS,
                          namespace=namespace, buckets=bounds, registry=self.registry),
                Gauge("http_requests_in_progress", "HTTP requests being handled.",
                      namespace=namespace, registry=self.registry, multiprocess_mode="livesum"),
            )  # fmt: skip
        else:
            self._local = _InProcessCollector(namespace, bounds)
            self.registry.register(self._local)

    def request_started(self) -> None:
        """Count a request in flight."""
        if self._local is not None:
            self._local.in_flight += 1
        elif self._shared is not None:
            self._shared[2].inc()

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record an answered request.

        Args:
            method: HTTP method (unknown ones are recorded as ``OTHER``).
            route: route template.
            status: HTTP status code.
            seconds: duration.
        """
        # Map the method first: label sets must not grow with attacker-chosen methods.
        labels = (
            method if method in _METHODS else "OTHER",
            route,
            self._status_labels.get(status) or f"{status // 100}xx",
        )
        local = self._local
        if local is not None:
            local.in_flight -= 1
            series = local.series.get(labels)
            if series is None:
                series = local.series[labels] = _Series(len(self._bounds) + 1)
            series.count += 1
            series.total += seconds
            series.buckets[bisect_left(self._bounds, seconds)] += 1
        elif self._shared is not None:
            requests, duration, in_progress = self._shared
            in_progress.dec()
            requests.labels(*labels).inc()
            duration.labels(*labels).observe(seconds)

    def expose(self, registry: CollectorRegistry) -> None:
        """Also serve the metrics of ``registry`` (e.g. ``prometheus_client.REGISTRY``).

        Read at every scrape, so metrics registered there later show too. A metric whose
        name was already rendered (this app's own, or an earlier registry's) is left out:
        one exposition never holds a name twice.

        Args:
            registry: the registry to include; exposing it again, or this app's own
                registry, changes nothing.

        .. versionadded:: 0.4.0
        """
        if not isinstance(registry, CollectorRegistry):
            raise TypeError(f"registry must be a CollectorRegistry, got {registry!r}")
        if registry is not self.registry and all(registry is not r for r in self._extra):
            self._extra.append(registry)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.multiprocess_dir:
            own = CollectorRegistry()
            MultiProcessCollector(own, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
        else:
            own = self.registry
        if not self._extra:
            return generate_latest(own), CONTENT_TYPE_LATEST
        combined = CollectorRegistry(auto_describe=False)
        combined.register(_FirstOfEachName([own, *self._extra]))
        return generate_latest(combined), CONTENT_TYPE_LATEST


class _FirstOfEachName(Collector):
    """The metrics of several registries, each name once (the first registry's wins)."""

    def __init__(self, registries: Sequence[CollectorRegistry]) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Metric]:
        seen: set[str] = set()
        for registry in self.registries:
            for metric in registry.collect():
                if metric.name not in seen:
                    seen.add(metric.name)
                    yield metric


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

        metrics.request_started()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            metrics.request_finished(
                scope["method"], route_template(scope), status, time.perf_counter() - start
            )
