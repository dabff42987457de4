"""Where a request's time goes, layer by layer: timing shims between an app's middleware.

``timed(app)`` puts a ``Timer`` in front of each of the app's middleware layers and one in
front of routing (FastAPI's exception handling, the router, the route's dependencies and
the endpoint). Each timer adds up the wall-clock time and the CPU time of the event
loop's thread from its call to its return, so a layer's own time is its timer's total
minus the next timer's. ``GET /bench/layers`` answers the totals as JSON
(``{"requests": n, "layers": [[name, wall seconds, CPU seconds], ...]}``, outermost
first).

Driven one request at a time (``wrk -c1``), nothing else runs in between: the wall time
is what each layer adds to a request's latency, its waits on PostgreSQL and Redis
included, and the CPU time is what it costs the worker. Under concurrency both would
include other requests' work and mean little.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

LAYERS_PATH = "/bench/layers"
ROUTING = "routing, dependencies and endpoint"


@dataclass
class Totals:
    """Seconds spent inside each timer, in the order of the stack."""

    names: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    requests: int = 0


class Timer:
    """Adds the time ``app`` takes per HTTP request to ``totals`` under ``name``."""

    def __init__(self, app: ASGIApp, *, totals: Totals, name: str, outermost: bool) -> None:
        self.app = app
        self.totals = totals
        self.name = name
        self.outermost = outermost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.totals.seconds[self.name] += time.perf_counter() - started
            self.totals.cpu[self.name] += time.thread_time() - cpu
            if self.outermost:
                self.totals.requests += 1


class LayersProbe:
    """Serve ``GET /bench/layers`` from ``totals``; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp, totals: Totals) -> None:
        self.app = app
        self.totals = totals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LAYERS_PATH:
            await self.app(scope, receive, send)
            return
        totals = self.totals
        body = json.dumps(
            {
                "requests": totals.requests,
                "layers": [[name, totals.seconds[name], totals.cpu[name]] for name in totals.names],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _name(cls: type, seen: set[str]) -> str:
    name = getattr(cls, "__name__", repr(cls))
    module = getattr(cls, "__module__", "").split(".")[0]
    label = f"{name} ({module})" if module else name
    while label in seen:
        label += "'"
    seen.add(label)
    return label


def _noop(scope: Scope, receive: Receive, send: Send) -> None:
    """A placeholder app, to learn which class a layer factory builds."""


def _time_guarded_layer(layer: Middleware, totals: Totals, seen: set[str]) -> Middleware:
    """A layer built around a ``layer=`` factory (htma's ``PublicPathsBypass`` guarding
    its routes with the authentication) gets a timer around what the factory builds."""
    build: Callable[[ASGIApp], ASGIApp] = layer.kwargs["layer"]
    name = _name(type(build(_noop)), seen)  # type: ignore[arg-type]  # never called
    totals.names.append(name)
    totals.seconds[name] = totals.cpu[name] = 0.0

    def timed_build(app: ASGIApp) -> ASGIApp:
        return Timer(build(app), totals=totals, name=name, outermost=False)

    return Middleware(layer.cls, *layer.args, **{**layer.kwargs, "layer": timed_build})


def timed(app: FastAPI) -> ASGIApp:
    """``app`` with a timer in front of each middleware layer and of routing."""
    totals = Totals()
    seen: set[str] = set()
    stack: list[Middleware] = []
    for layer in [*app.user_middleware, None]:
        name = ROUTING if layer is None else _name(layer.cls, seen)
        totals.names.append(name)
        totals.seconds[name] = totals.cpu[name] = 0.0
        stack.append(Middleware(Timer, totals=totals, name=name, outermost=not stack))
        if layer is not None and callable(layer.kwargs.get("layer")):
            stack.append(_time_guarded_layer(layer, totals, seen))
        elif layer is not None:
            stack.append(layer)
    # Starlette builds the stack from this list on the first request.
    app.user_middleware = stack
    return LayersProbe(app, totals)
