"""Resolvers, the tenant context and TenantMiddleware in a tiny Starlette app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest
from spaps_tenancy import (
    TenantContextError,
    TenantInvalidError,
    TenantMiddleware,
    claim_resolver,
    current_tenant,
    first_of,
    get_tenant,
    header_resolver,
    subdomain_resolver,
    tenant_context,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


def scope_with(headers: dict[str, str] | None = None, state: Any = None) -> Scope:
    scope: Scope = {
        "type": "http",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    if state is not None:
        scope["state"] = state
    return scope


def test_header_resolver() -> None:
    resolve = header_resolver("X-Tenant")
    assert resolve(scope_with({"x-tenant": " acme "})) == "acme"
    assert resolve(scope_with({})) is None
    assert resolve(scope_with({"x-tenant": ""})) is None
    conflicting = scope_with()
    conflicting["headers"] = [(b"x-tenant", b"acme"), (b"x-tenant", b"zeta")]
    with pytest.raises(TenantInvalidError, match="conflicting"):
        resolve(conflicting)
    with pytest.raises(ValueError, match="header name"):
        header_resolver(" ")


def test_subdomain_resolver() -> None:
    resolve = subdomain_resolver("example.com", reserved=("www", "api"))
    assert resolve(scope_with({"host": "Acme.Example.com:8443"})) == "acme"
    assert resolve(scope_with({"host": "example.com"})) is None
    assert resolve(scope_with({"host": "www.example.com"})) is None
    assert resolve(scope_with({"host": "acme.example.org"})) is None
    assert resolve(scope_with({"host": "evil-example.com"})) is None
    assert resolve(scope_with({})) is None
    with pytest.raises(TenantInvalidError, match="nests"):
        resolve(scope_with({"host": "a.b.example.com"}))
    with pytest.raises(ValueError, match="base_domain"):
        subdomain_resolver(".")


def test_claim_resolver_reads_state_set_by_an_earlier_auth_step() -> None:
    resolve = claim_resolver("org")
    assert resolve(scope_with(state={"claims": {"org": "acme"}})) == "acme"
    assert resolve(scope_with(state={"claims": {"sub": "u1"}})) is None
    assert resolve(scope_with(state={})) is None
    assert resolve(scope_with()) is None

    class Attrs:
        claims: ClassVar[dict[str, str]] = {"org": "zeta"}

    assert resolve(scope_with(state=Attrs())) == "zeta"
    with pytest.raises(TenantInvalidError, match="not a string"):
        resolve(scope_with(state={"claims": {"org": 42}}))


def test_first_of_takes_the_first_answer() -> None:
    resolve = first_of(claim_resolver(), header_resolver())
    assert (
        resolve(scope_with({"x-tenant-id": "hdr"}, state={"claims": {"tenant_id": "jwt"}})) == "jwt"
    )
    assert resolve(scope_with({"x-tenant-id": "hdr"})) == "hdr"
    assert resolve(scope_with()) is None
    with pytest.raises(ValueError, match="at least one"):
        first_of()
    with pytest.raises(TypeError, match="not callable"):
        first_of("x")  # type: ignore[arg-type]  # the wrong type on purpose


def test_tenant_context_nests_and_validates() -> None:
    assert get_tenant() is None
    with pytest.raises(TenantContextError):
        current_tenant()
    with tenant_context("acme"):
        with tenant_context("zeta"):
            assert current_tenant() == "zeta"
        assert current_tenant() == "acme"
    assert get_tenant() is None
    with pytest.raises(TypeError), tenant_context(5):  # type: ignore[arg-type]  # on purpose
        pass
    with pytest.raises(ValueError, match="non-empty"), tenant_context(""):
        pass


async def test_tenant_context_is_per_task() -> None:
    both_inside = asyncio.Barrier(2)

    async def worker(tenant: str) -> str:
        with tenant_context(tenant):
            await both_inside.wait()  # each task reads after the other has set its tenant
            return current_tenant()

    assert list(await asyncio.gather(worker("a"), worker("b"))) == ["a", "b"]


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"tenant": current_tenant(), "state": request.state.tenant_id})


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(get_tenant()))


@pytest.fixture
def make_client() -> Callable[..., httpx.AsyncClient]:
    def make(**options: Any) -> httpx.AsyncClient:
        app = Starlette(routes=[Route("/me", whoami), Route("/health", health)])
        app.add_middleware(TenantMiddleware, **options)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


async def test_middleware_sets_context_and_state(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(resolver=header_resolver()) as client:
        response = await client.get("/me", headers={"x-tenant-id": "acme"})
    assert response.json() == {"tenant": "acme", "state": "acme"}
    assert get_tenant() is None


async def test_missing_tenant_is_400_problem(make_client: Callable[..., httpx.AsyncClient]) -> None:
    async with make_client(resolver=header_resolver()) as client:
        response = await client.get("/me")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:spaps:problem:tenancy.tenant_missing",
        "title": "Tenant missing",
        "status": 400,
        "detail": "the request does not name a tenant",
        "code": "tenancy.tenant_missing",
    }


@pytest.mark.parametrize("value", ["-leading-dash", "a" * 65, "semi;colon", "spa ce"])
async def test_malformed_tenant_is_400(
    make_client: Callable[..., httpx.AsyncClient], value: str
) -> None:
    async with make_client(resolver=header_resolver()) as client:
        response = await client.get("/me", headers={"x-tenant-id": value})
    assert response.status_code == 400
    assert response.json()["code"] == "tenancy.tenant_invalid"


@pytest.mark.parametrize("async_lookup", [False, True])
async def test_unknown_tenant_is_404(
    make_client: Callable[..., httpx.AsyncClient], async_lookup: bool
) -> None:
    known = {"acme"}

    async def alookup(tenant: str) -> bool:
        return tenant in known

    lookup = alookup if async_lookup else known.__contains__
    async with make_client(resolver=header_resolver(), lookup=lookup) as client:
        unknown = await client.get("/me", headers={"x-tenant-id": "ghost"})
        ok = await client.get("/me", headers={"x-tenant-id": "acme"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "tenancy.tenant_unknown"
    assert ok.status_code == 200


async def test_exempt_paths_run_without_tenant(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(resolver=header_resolver(), exempt_paths=["/health"]) as client:
        response = await client.get("/health")
        refused = await client.get("/healthz")
    assert response.text == "None"
    assert refused.status_code == 400


async def test_subdomain_and_claims_through_the_middleware(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(
        resolver=first_of(claim_resolver(), subdomain_resolver("clinic.test"))
    ) as client:
        response = await client.get("http://acme.clinic.test/me")
    assert response.json()["tenant"] == "acme"


async def test_websocket_without_tenant_is_closed_with_policy_violation() -> None:
    seen: list[str | None] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(get_tenant())

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = TenantMiddleware(inner, resolver=header_resolver())
    await middleware({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "tenancy.tenant_missing"}]
    assert seen == []
    ws_scope = {"type": "websocket", "path": "/ws", "headers": [(b"x-tenant-id", b"acme")]}
    await middleware(ws_scope, receive, send)
    assert seen == ["acme"]


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware: ASGIApp = TenantMiddleware(inner, resolver=header_resolver())

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        return None

    await middleware({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]


def test_middleware_validates_arguments() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(TypeError, match="resolver"):
        TenantMiddleware(app, resolver="x")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="lookup"):
        TenantMiddleware(app, resolver=header_resolver(), lookup=5)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="exempt_paths"):
        TenantMiddleware(app, resolver=header_resolver(), exempt_paths="/health")
