"""Security headers (precomputed, not overriding the app) and strict CORS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from spaps_ops import SecurityHeadersMiddleware, StrictCORSMiddleware

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
ORIGIN = "https://app.example.com"


async def test_security_headers_on_every_response(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = make_app()

    @app.get("/framed")
    async def framed() -> JSONResponse:
        return JSONResponse({}, headers={"X-Frame-Options": "SAMEORIGIN"})

    client = await make_client(app)
    for path in ("/health/live", "/missing"):
        headers = (await client.get(path)).headers
        assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    framed_response = await client.get("/framed")
    assert framed_response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


async def test_security_headers_options(make_client: Client) -> None:
    inner = FastAPI()

    @inner.get("/")
    async def root() -> dict[str, str]:
        return {}

    app = SecurityHeadersMiddleware(
        inner,
        hsts_max_age=0,
        content_security_policy=None,
        permissions_policy=None,
        frame_options="sameorigin",
    )
    headers = (await (await make_client(app)).get("/")).headers
    assert "strict-transport-security" not in headers
    assert "content-security-policy" not in headers
    assert "permissions-policy" not in headers
    assert headers["x-frame-options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"hsts_max_age": -1}, "hsts_max_age"), ({"frame_options": "ALLOW"}, "frame_options")],
)
def test_security_headers_validate(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SecurityHeadersMiddleware(FastAPI(), **kwargs)


async def test_cors_denies_unless_allow_listed(
    make_app: Callable[..., FastAPI],
    settings_factory: Callable[..., Any],
    make_client: Client,
) -> None:
    app = make_app(settings_factory(cors_origins=[ORIGIN], cors_allow_credentials=True))

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"x": 1}

    client = await make_client(app)
    allowed = await client.get("/data", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    denied = await client.get("/data", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in denied.headers
    preflight = await client.options(
        "/data",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    ok_preflight = await client.options(
        "/data", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert ok_preflight.status_code == 200
    assert ok_preflight.headers["access-control-allow-origin"] == ORIGIN


async def test_no_origins_means_no_cors_headers(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app())
    response = await client.get("/health/live", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origins": ["*"], "allow_credentials": True}, "wildcard"),
        ({"origins": ["app.example.com"]}, "not an origin"),
        ({"origins": ["https://a.example.com/path"]}, "not an origin"),
        ({"origins": [ORIGIN], "methods": ["*"]}, "explicitly"),
        ({"origins": [ORIGIN], "headers": ["*"]}, "explicitly"),
    ],
)
def test_cors_refuses_loose_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StrictCORSMiddleware(FastAPI(), **kwargs)


async def test_create_app_layers_answer_like_the_stacked_middlewares(
    make_app: Any, make_client: Any, settings_factory: Any
) -> None:
    from spaps_ops import RequestIdMiddleware  # noqa: PLC0415  # only this test needs these
    from starlette.middleware import Middleware  # noqa: PLC0415

    origin = "https://app.example.com"
    combined = make_app(settings_factory(cors_origins=[origin], docs_enabled=False))
    stacked = FastAPI(
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware, hsts_max_age=63_072_000),
            Middleware(StrictCORSMiddleware, origins=[origin]),
        ]
    )
    for app in (combined, stacked):

        @app.get("/plain")
        async def plain() -> dict[str, bool]:
            return {"ok": True}

        @app.get("/own")
        async def own(response: Response) -> dict[str, bool]:
            response.headers["vary"] = "Accept"
            response.headers["x-frame-options"] = "SAMEORIGIN"
            return {"ok": True}

        @app.get("/vary")
        async def vary(response: Response) -> dict[str, bool]:
            response.headers["vary"] = "Accept"
            return {"ok": True}

        @app.get("/framed")
        async def framed(response: Response) -> dict[str, bool]:
            response.headers["x-frame-options"] = "SAMEORIGIN"
            return {"ok": True}

    requests = [
        ("GET", "/plain", {}),
        ("GET", "/own", {}),
        ("GET", "/vary", {}),
        ("GET", "/framed", {}),
        ("GET", "/vary", {"Origin": origin}),
        ("GET", "/plain", {"Origin": origin}),
        ("GET", "/own", {"Origin": "https://evil.example"}),
        ("OPTIONS", "/plain", {"Origin": origin, "Access-Control-Request-Method": "GET"}),
    ]
    a, b = await make_client(combined), await make_client(stacked)
    for method, path, extra in requests:
        headers = {**extra, "X-Request-ID": "same-id-0001"}
        got = await a.request(method, path, headers=headers)
        want = await b.request(method, path, headers=headers)
        assert got.status_code == want.status_code
        assert got.headers.multi_items() == want.headers.multi_items(), (method, path)


async def test_headers_given_as_any_iterable_are_kept(
    make_app: Callable[..., FastAPI], make_client: Client, settings_factory: Any
) -> None:
    # ASGI allows any iterable of header pairs: a one-shot generator must be read once.
    async def raw(scope: Any, receive: Any, send: Any) -> None:
        pairs = [(b"content-type", b"text/plain"), (b"x-raw", b"1")]
        await send({"type": "http.response.start", "status": 200, "headers": iter(pairs)})
        await send({"type": "http.response.body", "body": b"ok"})

    for origins in ([], [ORIGIN]):
        app = make_app(settings_factory(cors_origins=origins))
        app.mount("/raw", raw)
        response = await (await make_client(app)).get("/raw/")
        assert response.text == "ok"
        assert response.headers["x-raw"] == "1"
        assert response.headers["content-type"] == "text/plain"
        assert response.headers["x-frame-options"] == "DENY"
        assert ("vary" in response.headers) is bool(origins)
    # The single-purpose middleware too (the raw app has no lifespan to run).
    transport = httpx.ASGITransport(app=SecurityHeadersMiddleware(raw))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as plain:
        response = await plain.get("/")
    assert response.headers["x-raw"] == "1"
    assert response.headers["x-frame-options"] == "DENY"
