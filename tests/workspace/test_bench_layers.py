"""The services benchmark's layer timers (``bench/services/_layers.py``) see every layer.

The figures are the benchmark's business; these tests check the wiring the figures rely
on: a timer in front of each middleware layer (and of a layer a ``layer=`` factory
builds), one in front of routing, requests counted once, the probe answering outside
the stack. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[2]


class Passing:
    """A pure-ASGI layer that only passes requests on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class Guarded:
    """Like htma's ``PublicPathsBypass``: public paths go straight on, others through
    the layer its ``layer=`` factory builds."""

    def __init__(self, app: ASGIApp, *, layer: Callable[[ASGIApp], ASGIApp]) -> None:
        self.app = app
        self.guarded = layer(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.app if scope.get("path") == "/public" else self.guarded
        await target(scope, receive, send)


@pytest.fixture
def layers() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location(
        "_bench_layers", ROOT / "bench" / "services" / "_layers.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_layers"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("_bench_layers", None)


async def test_every_layer_and_routing_is_timed_in_stack_order(layers: ModuleType) -> None:
    app = FastAPI()
    app.add_middleware(Passing)
    app.add_middleware(Guarded, layer=Passing)  # outermost: added last

    @app.get("/private")
    async def private() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/public")
    async def public() -> dict[str, bool]:
        return {"ok": True}

    timed = layers.timed(app)
    async with LifespanManager(timed) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for path in ("/private", "/private", "/public"):
                assert (await client.get(path)).json() == {"ok": True}
            body = (await client.get(layers.LAYERS_PATH)).json()
    assert body["requests"] == 3
    names = [name for name, _, _ in body["layers"]]
    module = __name__.split(".")[0]
    assert names == [
        f"Guarded ({module})",
        f"Passing ({module})",  # the layer Guarded builds around the rest
        f"Passing ({module})'",
        layers.ROUTING,
    ]
    for _, wall, cpu in body["layers"]:
        assert wall > 0
        assert cpu >= 0
