"""create_app: lifespan hooks, resources closed in reverse order, typed state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from spaps_ops import Ops, OpsNotConfiguredError, get_ops
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


class AsyncClosing:
    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self.events = name, events

    async def aclose(self) -> None:
        self.events.append(f"aclose {self.name}")


class SyncClosing:
    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self.events = name, events

    def close(self) -> None:
        self.events.append(f"close {self.name}")


class Context:
    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self.events = name, events

    async def __aenter__(self) -> Context:
        self.events.append(f"enter {self.name}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.events.append(f"exit {self.name}")


async def test_hooks_and_resources_run_in_order(make_app: Callable[..., FastAPI]) -> None:
    events: list[str] = []

    async def start(app: FastAPI) -> None:
        events.append("startup")
        await get_ops(app).enter(AsyncClosing("late", events))

    async def stop(app: FastAPI) -> None:
        events.append("shutdown")

    @asynccontextmanager
    async def extra(app: FastAPI) -> AsyncIterator[None]:
        events.append("extra in")
        yield
        events.append("extra out")

    app = make_app(
        resources=[AsyncClosing("a", events), Context("b", events)],
        on_startup=[start],
        on_shutdown=[stop],
        lifespan=extra,
    )
    get_ops(app).add_resource(SyncClosing("c", events))
    async with LifespanManager(app):
        assert events == ["enter b", "startup", "extra in"]
        with pytest.raises(RuntimeError, match="has started"):
            get_ops(app).add_resource(SyncClosing("too late", events))
    assert events == [
        "enter b",
        "startup",
        "extra in",
        "extra out",
        "shutdown",
        "aclose late",
        "close c",
        "exit b",
        "aclose a",
    ]


async def test_resources_close_even_when_a_shutdown_hook_fails(
    make_app: Callable[..., FastAPI],
) -> None:
    events: list[str] = []

    async def broken(app: FastAPI) -> None:
        raise RuntimeError("hook failed")

    app = make_app(resources=[AsyncClosing("db", events)], on_shutdown=[broken])
    manager = LifespanManager(app)
    await manager.__aenter__()
    with pytest.raises(RuntimeError, match="hook failed"):
        await manager.__aexit__(None, None, None)
    assert events == ["aclose db"]


def test_non_resources_are_refused(make_app: Callable[..., FastAPI]) -> None:
    with pytest.raises(TypeError, match="not a resource"):
        make_app(resources=[object()])


async def test_typed_state_accessor(make_app: Callable[..., FastAPI], make_client: Client) -> None:
    app = make_app()
    seen: list[Ops] = []

    @app.get("/who")
    async def who(request: Request) -> dict[str, str]:
        ops = get_ops(request)
        seen.append(ops)
        return {"service": ops.settings.service_name}

    client = await make_client(app)
    response = await client.get("/who")
    assert response.json() == {"service": "spaps-service"}
    assert seen == [get_ops(app)]


def test_state_accessor_fails_loudly_without_create_app() -> None:
    with pytest.raises(OpsNotConfiguredError, match="create_app"):
        get_ops(FastAPI())


class TagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/blocked":
            # answers itself, like a rate limiter would: still gets the outer layers
            await send({"type": "http.response.start", "status": 429, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


async def test_extra_middleware_sits_inside_the_stack(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = make_app(middleware=[Middleware(TagMiddleware)])
    client = await make_client(app)
    response = await client.get("/blocked")
    assert response.status_code == 429
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


class GateMiddleware:
    """Refuses every request it sees, or raises for ``/boom``: shows which requests reach
    the app's own middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/boom":
            raise RuntimeError("secret internals")
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_probes_and_maintenance_answer_before_the_apps_middleware(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = make_app(middleware=[Middleware(GateMiddleware)])
    client = await make_client(app)
    assert (await client.get("/anything")).status_code == 401  # the gate sees requests
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    get_ops(app).maintenance.enable()
    response = await client.get("/anything")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "retry-after" in response.headers


async def test_exceptions_from_the_apps_middleware_become_problems(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app(middleware=[Middleware(GateMiddleware)]))
    response = await client.get("/boom", headers={"X-Request-ID": "boom-request-1"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["request_id"] == "boom-request-1"
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "boom-request-1"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_follow_settings(
    make_app: Callable[..., FastAPI], settings_factory: Callable[..., Any], make_client: Client
) -> None:
    client = await make_client(make_app(settings_factory(docs_enabled=False)))
    assert (await client.get("/docs")).status_code == 404
    client = await make_client(make_app())
    docs = await client.get("/docs")
    assert docs.status_code == 200
    # The docs pages carry a CSP of their own (tests/test_ops_docs.py), not the API's too.
    policy = docs.headers["content-security-policy"]
    assert docs.headers.get_list("content-security-policy") == [policy]
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200
    assert "worker-src 'self' blob:" in redoc.headers["content-security-policy"]
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
    api = await client.get("/health/live")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
