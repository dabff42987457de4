"""BodySizeLimitMiddleware: declared lengths and streamed (chunked) bodies."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from spaps_ratelimit import BodySizeLimitMiddleware
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send


def upload_app() -> FastAPI:
    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


async def test_declared_length_over_the_limit_is_refused_before_the_app_runs(make_client):
    called = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["path"])

    guarded = BodySizeLimitMiddleware(app, max_body_size=10)
    async with make_client(guarded) as client:
        answer = await client.post("/upload", content=b"x" * 11)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "ratelimit.body_too_large"
    assert answer.json()["max_body_size"] == 10
    assert called == []


async def test_bodies_within_the_limit_pass(make_client):
    app = BodySizeLimitMiddleware(upload_app(), max_body_size=10)
    async with make_client(app) as client:
        exact = await client.post("/upload", content=b"x" * 10)

        async def chunks():
            yield b"12345"
            yield b"67890"

        streamed = await client.post("/upload", content=chunks())
    assert exact.json() == {"size": 10}
    assert streamed.json() == {"size": 10}


async def test_chunked_body_is_cut_off_once_the_streamed_bytes_pass_the_limit() -> None:
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        if pulled > 1000:
            raise AssertionError("the middleware kept reading after the limit")
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("1.2.3.4", 5),
        "headers": [(b"transfer-encoding", b"chunked")],
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    await BodySizeLimitMiddleware(upload_app(), max_body_size=1000)(scope, receive, send)
    assert pulled == 11  # 1,100 bytes read: the first chunk past the limit, no more
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "ratelimit.body_too_large"


async def test_a_lying_content_length_is_still_caught_while_streaming() -> None:
    messages = [
        {"type": "http.request", "body": b"x" * 8, "more_body": True},
        {"type": "http.request", "body": b"x" * 8, "more_body": False},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["type"] == "http.request":
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"too late"})

    scope = {"type": "http", "path": "/", "headers": [(b"content-length", b"4")]}
    await BodySizeLimitMiddleware(app, max_body_size=10)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(sent) == 2  # the app's own answer after the cut is dropped


async def test_exempt_paths_and_other_scopes_pass(make_client):
    app = BodySizeLimitMiddleware(upload_app(), max_body_size=1, exempt=["/upload"])
    async with make_client(app) as client:
        answer = await client.post("/upload", content=b"x" * 100)
    assert answer.json() == {"size": 100}


def test_validation() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        BodySizeLimitMiddleware(upload_app(), max_body_size=-1)
    with pytest.raises(TypeError, match="int"):
        BodySizeLimitMiddleware(upload_app(), max_body_size="1MB")  # type: ignore[arg-type]
