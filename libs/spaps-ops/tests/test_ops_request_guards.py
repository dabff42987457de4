"""Trusted hosts, body size and read timeout, middleware order and proxy headers, over
real HTTP (uvicorn on a socket)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from spaps_ops import OpsSettings, create_app, server_options
from spaps_ops.testing import DEADLINE, serve_app
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

Serve = Callable[..., str]


class Item(BaseModel):
    name: str


def _app(**settings: Any) -> FastAPI:
    app = create_app(OpsSettings(_env_file=None, **settings), configure_logging=False)  # type: ignore[call-arg]

    @app.get("/items")
    async def items() -> list[str]:
        return ["a"]

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.get("/client")
    async def client(request: Request) -> dict[str, str | None]:
        return {"host": request.client.host if request.client else None}

    return app


@pytest.fixture
def serve() -> Iterator[Serve]:
    with ExitStack() as stack:
        yield lambda app, **config: stack.enter_context(serve_app(app, **config))


def _raw(base: str, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and read until the server answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=DEADLINE) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.headers["x-request-id"] == response.json()["request_id"]


def test_only_configured_hosts_are_answered(serve: Serve) -> None:
    base = serve(_app(allowed_hosts=["api.example.com", "*.internal.example"]))
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        ok = client.get("/items", headers={"Host": "api.example.com"})
        assert ok.json() == ["a"]
        assert client.get("/items", headers={"Host": "a.internal.example:8443"}).status_code == 200
        evil = client.get("/items/", headers={"Host": "evil.example"})
        _assert_problem(evil, 400, "ops.invalid_host")  # not a 307 to evil.example
        assert "location" not in evil.headers
        _assert_problem(client.get("/nowhere", headers={"Host": "evil.example"}), 400,
                        "ops.invalid_host")  # fmt: skip
        # Probes answer whatever the Host (kubelets and Docker probe by address).
        assert client.get("/health/live", headers={"Host": "10.1.2.3:8000"}).status_code == 200


def test_redirects_never_take_their_host_from_the_request(serve: Serve) -> None:
    base = serve(_app())  # development default: any host
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        redirect = client.get("/items/?page=2", headers={"Host": "evil.example"})
        assert redirect.status_code == 307
        assert redirect.headers["location"] == "/items?page=2"
        assert "x-request-id" in redirect.headers


def test_a_declared_oversized_body_is_refused_before_it_is_sent(serve: Serve) -> None:
    base = serve(_app(max_body_size=1024))
    # 50 MB announced, one byte sent: the answer comes while the body is still owed.
    answer = _raw(
        base,
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"content-type: application/problem+json" in answer.lower()
    assert b'"code":"ops.body_too_large"' in answer
    assert b"x-request-id:" in answer.lower()


def test_a_streamed_oversized_body_is_refused(serve: Serve) -> None:
    base = serve(_app(max_body_size=1024))

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(64):
            yield b"x" * 1024  # chunked: no Content-Length to check up front

    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        refused = client.post("/items", content=chunks(),
                              headers={"Content-Type": "application/json"})  # fmt: skip
        _assert_problem(refused, 413, "ops.body_too_large")
        assert refused.json()["max_body_size"] == 1024
        small = client.post("/items", json={"name": "ok"})
        assert small.json() == {"name": "ok"}


def test_a_body_that_does_not_arrive_times_out(serve: Serve) -> None:
    base = serve(_app(body_read_timeout=0.5))
    # Ten bytes announced, one sent, then silence: the server answers 408 on its own.
    answer = _raw(
        base,
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"code":"ops.body_timeout"' in answer


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": ', "application/json"),  # truncated JSON
        (b"\xff\xfe not utf-8", "application/json"),
        (b"[1, 2", "application/json"),
        (b"name=x", "application/x-www-form-urlencoded"),
    ],
)
def test_bodies_refused_before_the_handler_are_problems(
    serve: Serve, body: bytes, content_type: str
) -> None:
    base = serve(_app())
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        refused = client.post("/items", content=body, headers={"Content-Type": content_type})
    assert refused.status_code in {400, 422}, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] in {"ops.bad_request", "ops.validation_failed"}
    assert refused.headers["x-request-id"] == refused.json()["request_id"]


class _Refuse:
    """A middleware answering 429 by itself (as a rate limiter does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/items":
            await JSONResponse({"limited": True}, status_code=429)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_middleware_added_after_create_app_answers_with_the_request_id(serve: Serve) -> None:
    app = _app()
    app.add_middleware(_Refuse)

    @app.middleware("http")
    async def tag(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-tagged"] = "1"
        return response

    base = serve(app)
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        limited = client.get("/items", headers={"X-Request-ID": "client-chosen-id-1"})
        assert limited.status_code == 429
        assert limited.headers["x-request-id"] == "client-chosen-id-1"
        assert limited.headers["x-content-type-options"] == "nosniff"
        assert limited.headers["x-tagged"] == "1"  # Starlette's order among added ones
        # ...and probes are still answered before any of them.
        live = client.get("/health/live")
        assert live.status_code == 200
        assert "x-tagged" not in live.headers


def test_serve_options_ignore_forwarded_addresses_unless_the_peer_is_a_trusted_proxy(
    serve: Serve,
) -> None:
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    untrusted = OpsSettings(_env_file=None)  # type: ignore[call-arg]
    assert server_options(untrusted) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    base = serve(_app(), **server_options(untrusted))
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        assert client.get("/client", headers=spoof).json() == {"host": "127.0.0.1"}
    trusted = OpsSettings(_env_file=None, trusted_proxies=["127.0.0.1"])  # type: ignore[call-arg]
    base = serve(_app(), **server_options(trusted))
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        assert client.get("/client", headers=spoof).json() == {"host": "203.0.113.9"}
