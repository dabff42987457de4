"""Idempotency-Key middleware on a tiny real FastAPI app, with SQL and Redis stores."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio
from fastapi import Depends, FastAPI, Response
from pydantic import BaseModel
from spaps_jobs import (
    AsyncDedupeStore,
    AsyncRedisDedupeStore,
    AsyncSqlDedupeStore,
    IdempotencyKeyMismatchError,
    IdempotencyMiddleware,
    authorization_caller,
)
from spaps_jobs.fastapi import install_error_handlers, require_idempotency_key
from sqlalchemy.ext.asyncio import AsyncEngine


class Order(BaseModel):
    item: str
    quantity: int


class Shop:
    """The app under test and what its handlers did."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.failures = 0
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        app = FastAPI()
        install_error_handlers(app)

        @app.post("/orders", status_code=201)
        async def create(order: Order, response: Response) -> dict[str, Any]:
            record = {"id": len(self.created) + 1, **order.model_dump()}
            self.created.append(record)
            response.headers["Location"] = f"/orders/{record['id']}"
            return record

        @app.post("/explode")
        async def explode() -> Response:
            self.failures += 1
            return Response(f"failure {self.failures}", status_code=503)

        @app.post("/slow")
        async def slow() -> dict[str, str]:
            self.entered.set()
            await asyncio.wait_for(self.gate.wait(), timeout=10)
            return {"ok": "yes"}

        @app.post("/strict", dependencies=[Depends(require_idempotency_key)])
        async def strict() -> dict[str, str]:
            return {"ok": "strict"}

        @app.get("/orders")
        async def listing() -> list[dict[str, Any]]:
            return self.created

        self.app = app


@pytest.fixture
async def sql_store(async_sqlite_engine: AsyncEngine) -> AsyncSqlDedupeStore:
    store = AsyncSqlDedupeStore(async_sqlite_engine)
    await store.create_table()
    return store


@pytest.fixture
def redis_store(
    async_redis_client: redis.asyncio.Redis, redis_prefix: str
) -> AsyncRedisDedupeStore:
    return AsyncRedisDedupeStore(async_redis_client, prefix=redis_prefix)


@pytest.fixture(params=["sql_store", pytest.param("redis_store", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> AsyncDedupeStore:
    value: AsyncDedupeStore = request.getfixturevalue(request.param)
    return value


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
async def client(shop: Shop, store: AsyncDedupeStore) -> AsyncIterator[httpx.AsyncClient]:
    app = IdempotencyMiddleware(
        shop.app, store=store, ttl=3600, lease=30, require=lambda s: s["path"] == "/required"
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value, "Authorization": "Bearer caller-1"}


async def test_first_response_is_stored_and_replayed(client: httpx.AsyncClient, shop: Shop) -> None:
    first = await client.post("/orders", json={"item": "tea", "quantity": 2}, headers=_key("k-1"))
    again = await client.post("/orders", json={"item": "tea", "quantity": 2}, headers=_key("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"id": 1, "item": "tea", "quantity": 2}
    assert again.headers["location"] == "/orders/1"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert first.headers["idempotency-expires"].endswith("GMT")
    assert len(shop.created) == 1


async def test_server_errors_are_replayed_too(client: httpx.AsyncClient, shop: Shop) -> None:
    first = await client.post("/explode", headers=_key("k-5xx"))
    again = await client.post("/explode", headers=_key("k-5xx"))
    assert (first.status_code, first.text) == (503, "failure 1")
    assert (again.status_code, again.text) == (503, "failure 1")
    assert shop.failures == 1


async def test_same_key_different_body_is_422(client: httpx.AsyncClient, shop: Shop) -> None:
    await client.post("/orders", json={"item": "tea", "quantity": 2}, headers=_key("k-2"))
    other = await client.post("/orders", json={"item": "tea", "quantity": 9}, headers=_key("k-2"))
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    problem = other.json()
    assert problem["code"] == "jobs.idempotency_key_mismatch"
    assert problem["type"] == "urn:spaps:problem:jobs.idempotency_key_mismatch"
    assert problem["status"] == 422
    assert len(shop.created) == 1


async def test_keys_are_scoped_per_caller(client: httpx.AsyncClient, shop: Shop) -> None:
    body = {"item": "tea", "quantity": 1}
    a = await client.post("/orders", json=body, headers=_key("shared"))
    b = await client.post(
        "/orders", json=body, headers={"Idempotency-Key": "shared", "Authorization": "Bearer 2"}
    )
    assert (a.json()["id"], b.json()["id"]) == (1, 2)
    assert "idempotent-replayed" not in b.headers


async def test_concurrent_duplicate_is_409(client: httpx.AsyncClient, shop: Shop) -> None:
    first = asyncio.create_task(client.post("/slow", headers=_key("k-slow")))
    await asyncio.wait_for(shop.entered.wait(), timeout=10)
    duplicate = await client.post("/slow", headers=_key("k-slow"))
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "jobs.idempotency_key_in_use"
    assert duplicate.headers["retry-after"] == "1"
    shop.gate.set()
    assert (await first).status_code == 200
    replay = await client.post("/slow", headers=_key("k-slow"))
    assert replay.json() == {"ok": "yes"}
    assert replay.headers["idempotent-replayed"] == "true"


async def test_validation_failure_stores_nothing(client: httpx.AsyncClient, shop: Shop) -> None:
    bad = await client.post("/orders", json={"item": "tea"}, headers=_key("k-v"))
    assert bad.status_code == 422
    assert "idempotent-replayed" not in bad.headers
    assert "idempotency-expires" not in bad.headers
    # The key was released: the corrected request (a different body) runs normally.
    good = await client.post("/orders", json={"item": "tea", "quantity": 1}, headers=_key("k-v"))
    assert good.status_code == 201
    assert len(shop.created) == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
async def test_bad_keys_are_400(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post("/orders", json={"item": "a", "quantity": 1}, headers=_key(key))
    assert response.status_code == 400
    assert response.json()["code"] == "jobs.idempotency_key_invalid"


async def test_longest_key_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", json={"item": "a", "quantity": 1}, headers=_key("k" * 255)
    )
    assert response.status_code == 201


async def test_missing_key_where_required(client: httpx.AsyncClient, shop: Shop) -> None:
    by_middleware = await client.post("/required")
    assert by_middleware.status_code == 400
    assert by_middleware.json()["code"] == "jobs.idempotency_key_missing"
    by_dependency = await client.post("/strict")
    assert by_dependency.status_code == 400
    assert by_dependency.headers["content-type"] == "application/problem+json"
    assert by_dependency.json()["code"] == "jobs.idempotency_key_missing"
    assert (await client.post("/strict", headers=_key("s"))).json() == {"ok": "strict"}
    # Routes that do not require a key still work without one, and are not deduplicated.
    body = {"item": "a", "quantity": 1}
    await client.post("/orders", json=body)
    await client.post("/orders", json=body)
    assert len(shop.created) == 2


async def test_other_methods_pass_through(client: httpx.AsyncClient, shop: Shop) -> None:
    response = await client.get("/orders", headers=_key("k-get"))
    assert response.status_code == 200
    assert "idempotency-expires" not in response.headers


async def test_handler_crash_releases_the_key(store: AsyncDedupeStore) -> None:
    calls = 0

    async def crashing(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("crash")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = IdempotencyMiddleware(crashing, store=store)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.post("/", headers=_key("c"))).status_code == 500
        assert (await http.post("/", headers=_key("c"))).text == "ok"
    assert calls == 2


async def test_oversized_keyed_body_is_413(shop: Shop, store: AsyncDedupeStore) -> None:
    app = IdempotencyMiddleware(shop.app, store=store, max_body_size=64)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        big = {"item": "x" * 100, "quantity": 1}
        response = await http.post("/orders", json=big, headers=_key("big"))
        assert response.status_code == 413
        assert response.json()["code"] == "jobs.idempotency_body_too_large"
        assert (await http.post("/orders", json=big)).status_code == 201  # no key: no buffering
    assert len(shop.created) == 1


async def test_retry_right_after_the_response_is_replayed(store: AsyncDedupeStore) -> None:
    """The key is settled before the response's last chunk leaves: a client retrying the
    moment it has the response never gets a 409, even while the app still works after it
    (e.g. background tasks)."""
    response_sent = asyncio.Event()
    after_response = asyncio.Event()
    runs = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal runs
        runs += 1
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"made"})
        response_sent.set()  # the whole response has gone out ...
        await asyncio.wait_for(after_response.wait(), timeout=30)  # ... background work

    middleware = IdempotencyMiddleware(app, store=store)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        first = asyncio.create_task(http.post("/", headers=_key("bg")))
        await asyncio.wait_for(response_sent.wait(), timeout=30)
        record = await store.get("idem:" + _caller_hash() + ":bg")
        assert record is not None
        assert record.done  # settled before the last chunk left, not after the app ended
        retry = await http.post("/", headers=_key("bg"))
        assert (retry.status_code, retry.text) == (201, "made")
        assert retry.headers["idempotent-replayed"] == "true"
        after_response.set()
        assert (await first).status_code == 201
    assert runs == 1


async def test_errors_raised_by_the_app_are_the_apps(store: AsyncDedupeStore) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise IdempotencyKeyMismatchError("raised by a handler, not the middleware")

    transport = httpx.ASGITransport(app=IdempotencyMiddleware(app, store=store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        with pytest.raises(IdempotencyKeyMismatchError, match="raised by a handler"):
            await http.post("/", headers=_key("app-error"))
    assert await store.get("idem:" + _caller_hash() + ":app-error") is None  # released


def _caller_hash() -> str:
    caller = authorization_caller({"headers": [(b"authorization", b"Bearer caller-1")]})
    return hashlib.sha256(caller.encode()).hexdigest()[:32]


def test_middleware_validates_its_arguments(sql_store: AsyncSqlDedupeStore) -> None:
    app = FastAPI()
    with pytest.raises(TypeError, match="AsyncDedupeStore"):
        IdempotencyMiddleware(app, store=object())  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="positive"):
        IdempotencyMiddleware(app, store=sql_store, ttl=0)
    with pytest.raises(ValueError, match="max_key_length"):
        IdempotencyMiddleware(app, store=sql_store, max_key_length=256)
    with pytest.raises(ValueError, match="max_body_size"):
        IdempotencyMiddleware(app, store=sql_store, max_body_size=0)
    with pytest.raises(TypeError, match="require"):
        IdempotencyMiddleware(app, store=sql_store, require="yes")  # type: ignore[arg-type]
