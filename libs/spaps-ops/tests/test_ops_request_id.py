"""Request ids: accepted or generated, echoed, bound to logs, forwarded on httpx calls."""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from spaps_ops import RequestIdMiddleware, forward_request_id, get_request_id

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
async def client(make_app: Callable[..., FastAPI], make_client: Client) -> httpx.AsyncClient:
    app = make_app()

    @app.get("/id")
    async def show(request: Request) -> dict[str, Any]:
        structlog.get_logger("test").info("inside_route")
        return {"contextvar": get_request_id(), "state": request.state.request_id}

    return await make_client(app)


async def test_well_formed_incoming_id_is_kept_and_echoed(
    client: httpx.AsyncClient, logs: Any
) -> None:
    response = await client.get("/id", headers={"X-Request-ID": "req-2024.abc:42"})
    assert response.headers["x-request-id"] == "req-2024.abc:42"
    assert response.json() == {"contextvar": "req-2024.abc:42", "state": "req-2024.abc:42"}
    (line,) = logs.records("inside_route")
    assert line["request_id"] == "req-2024.abc:42"


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 129, "has space in it", "semi;colon-1234", "new\tline-12345"],
)
async def test_malformed_incoming_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/id", headers={"X-Request-ID": incoming})
    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert GENERATED.fullmatch(echoed)
    assert response.json()["contextvar"] == echoed


async def test_missing_id_is_generated_fresh_per_request(client: httpx.AsyncClient) -> None:
    first = (await client.get("/id")).headers["x-request-id"]
    second = (await client.get("/id")).headers["x-request-id"]
    assert GENERATED.fullmatch(first)
    assert first != second


async def test_id_is_unbound_after_the_request(client: httpx.AsyncClient) -> None:
    await client.get("/id", headers={"X-Request-ID": "abcdefgh-1"})
    assert get_request_id() is None
    assert "request_id" not in structlog.contextvars.get_contextvars()


async def test_untrusted_edge_ignores_incoming_ids(make_client: Client) -> None:
    inner = FastAPI()

    @inner.get("/id")
    async def show() -> dict[str, str | None]:
        return {"id": get_request_id()}

    app = RequestIdMiddleware(inner, trust_incoming=False, header="X-Correlation-ID")
    client = await make_client(app)
    response = await client.get("/id", headers={"X-Correlation-ID": "abcdefgh-12345"})
    assert response.headers["x-correlation-id"] != "abcdefgh-12345"
    assert response.json()["id"] == response.headers["x-correlation-id"]


def test_invalid_header_name_is_refused() -> None:
    with pytest.raises(ValueError, match="header"):
        RequestIdMiddleware(FastAPI(), header="bad header")


async def test_forward_request_id_on_outgoing_calls(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    seen: list[str | None] = []

    def downstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-request-id"))
        return httpx.Response(200, json={})

    app = make_app()

    @app.get("/call")
    async def call() -> dict[str, bool]:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(downstream),
            event_hooks={"request": [forward_request_id]},
        ) as outgoing:
            await outgoing.get("http://downstream/x")
            await outgoing.get("http://downstream/y", headers={"X-Request-ID": "explicit-id-1"})
        return {"ok": True}

    client = await make_client(app)
    await client.get("/call", headers={"X-Request-ID": "chain-0001"})
    assert seen == ["chain-0001", "explicit-id-1"]


async def test_forward_outside_a_request_adds_nothing() -> None:
    request = httpx.Request("GET", "http://downstream/")
    await forward_request_id(request)
    assert "x-request-id" not in request.headers


async def test_request_id_is_the_one_bound_for_logs() -> None:
    # Outside a request (e.g. in a task, where spaps-jobs binds the enqueuing request's
    # id), the id bound in structlog's contextvars is the request id, and is forwarded.
    structlog.contextvars.bind_contextvars(request_id="task-req-0001")
    try:
        assert get_request_id() == "task-req-0001"
        request = httpx.Request("GET", "http://downstream/")
        await forward_request_id(request)
        assert request.headers["x-request-id"] == "task-req-0001"
        structlog.contextvars.bind_contextvars(request_id=12345678)
        assert get_request_id() == "12345678"
    finally:
        structlog.contextvars.clear_contextvars()
    assert get_request_id() is None


def test_generated_ids_are_unique_across_chunks_and_threads() -> None:
    from spaps_ops._request_id import _new_id  # noqa: PLC0415  # private id source

    ids: list[str] = []

    def take() -> None:
        ids.extend(_new_id() for _ in range(500))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    take()
    for thread in threads:
        thread.join()
    assert len(ids) == 2500  # about ten chunks of random bytes
    assert all(GENERATED.fullmatch(value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_reuse_the_parents_ids() -> None:
    from spaps_ops._request_id import _new_id  # noqa: PLC0415  # private id source

    _new_id()  # the parent holds unused random bytes now
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork() in a process with threads (pytest's own): the
        # child here only writes to a pipe and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, _new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    assert GENERATED.fullmatch(child)
    assert child != _new_id()
