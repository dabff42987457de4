"""FailureLimitMiddleware: failed attempts spend a per-client budget; past it, attempts
are refused before the app checks them, right or wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from spaps_ratelimit import (
    FailureLimitMiddleware,
    Limit,
    MemoryStore,
    RateLimiter,
    RedisStore,
)
from spaps_ratelimit.testing import ManualClock
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Scope

GOOD = "good-key"


StoreFactory = Callable[..., MemoryStore | RedisStore]


def _app(
    clock: ManualClock, checked: list[str], store: MemoryStore | RedisStore | None = None
) -> FailureLimitMiddleware:
    async def endpoint(request: Request) -> JSONResponse:
        key = request.headers.get("x-api-key", "")
        checked.append(key)
        return JSONResponse({"ok": key == GOOD}, status_code=200 if key == GOOD else 401)

    def attempt(scope: Scope) -> bool:
        return any(name == b"x-api-key" for name, _ in scope["headers"])

    return FailureLimitMiddleware(
        Starlette(routes=[Route("/", endpoint)]),
        limiter=RateLimiter(store if store is not None else MemoryStore(clock=clock)),
        limit=Limit.parse("3/minute"),
        attempt=attempt,
        clock=clock,
    )


def _client(app: FailureLimitMiddleware, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_failures_past_the_budget_are_refused_before_the_check(
    make_store: StoreFactory,
) -> None:
    clock, checked = ManualClock(), []
    app = _app(clock, checked, make_store(clock=clock))
    async with _client(app, "198.51.100.1") as guesser, _client(app, "198.51.100.2") as other:
        statuses = [(await guesser.get("/", headers={"X-API-Key": f"k{i}"})).status_code
                    for i in range(3)]  # fmt: skip
        assert statuses == [401, 401, 401]
        assert (await guesser.get("/", headers={"X-API-Key": "k3"})).status_code == 401
        assert checked == ["k0", "k1", "k2", "k3"]  # the fourth failure found the budget spent
        blocked = await guesser.get("/", headers={"X-API-Key": GOOD})
        assert blocked.status_code == 429  # even the right key: a guess learns nothing
        assert blocked.headers["content-type"] == "application/problem+json"
        assert blocked.json()["code"] == "ratelimit.rate_limited"
        assert int(blocked.headers["retry-after"]) >= 1
        assert checked[-1] == "k3"  # not checked
        # Other clients, and requests that are no attempt, are not affected.
        assert (await other.get("/", headers={"X-API-Key": GOOD})).status_code == 200
        assert (await guesser.get("/")).status_code == 401  # no key: not an attempt
        clock.advance(int(blocked.headers["retry-after"]))
        assert (await guesser.get("/", headers={"X-API-Key": GOOD})).status_code == 200


async def test_successes_cost_nothing(make_store: StoreFactory) -> None:
    clock, checked = ManualClock(), []
    app = _app(clock, checked, make_store(clock=clock))
    async with _client(app, "198.51.100.3") as client:
        for _ in range(20):
            assert (await client.get("/", headers={"X-API-Key": GOOD})).status_code == 200


def test_arguments_are_checked() -> None:
    limiter = RateLimiter()
    with pytest.raises(TypeError):
        FailureLimitMiddleware(Starlette(), limiter=limiter, limit="3/minute",  # type: ignore[arg-type]
                               attempt=lambda s: True)  # fmt: skip
    with pytest.raises(ValueError, match="failure_statuses"):
        FailureLimitMiddleware(Starlette(), limiter=limiter, limit=Limit.parse("1/s"),
                               attempt=lambda s: True, failure_statuses=())  # fmt: skip


class _Unauthorized(Exception):
    """The problem protocol: an outer layer renders it."""

    status = 401


async def test_errors_left_to_an_outer_layer_count_by_their_status() -> None:
    clock = ManualClock()

    async def raising(scope: Scope, receive: Any, send: Any) -> None:
        raise _Unauthorized

    app = FailureLimitMiddleware(
        raising,
        limiter=RateLimiter(MemoryStore(clock=clock)),
        limit=Limit.parse("2/minute"),
        attempt=lambda scope: True,
        clock=clock,
    )
    async with _client(app, "198.51.100.4") as client:
        for _ in range(3):  # two within the budget, the third finds it spent
            with pytest.raises(_Unauthorized):
                await client.get("/")
        assert (await client.get("/")).status_code == 429


@pytest.mark.redis
async def test_processes_sharing_redis_share_one_budget(
    make_redis_store: Callable[..., RedisStore],
) -> None:
    """Two processes (two middleware instances, two clients of one Redis) spend one
    budget: failures counted by one refuse the other, which lets at most one more
    failure through before it blocks too."""
    clock, checked_a, checked_b = ManualClock(), [], []
    first = _app(clock, checked_a, make_redis_store(clock=clock))
    second = _app(clock, checked_b, make_redis_store(clock=clock))
    ip = "198.51.100.5"
    async with _client(first, ip) as a, _client(second, ip) as b:
        for i in range(3):
            assert (await a.get("/", headers={"X-API-Key": f"a{i}"})).status_code == 401
        # The budget is spent in Redis: the second process's first failure finds it so.
        assert (await b.get("/", headers={"X-API-Key": "b0"})).status_code == 401
        refused = await b.get("/", headers={"X-API-Key": GOOD})
        assert refused.status_code == 429
        assert refused.json()["code"] == "ratelimit.rate_limited"
        assert checked_b == ["b0"]
        # The first process learns it on its next failure, then refuses unchecked.
        assert (await a.get("/", headers={"X-API-Key": "a3"})).status_code == 401
        assert (await a.get("/", headers={"X-API-Key": GOOD})).status_code == 429
        assert checked_a == ["a0", "a1", "a2", "a3"]
        clock.advance(int(refused.headers["retry-after"]))
        assert (await a.get("/", headers={"X-API-Key": GOOD})).status_code == 200
        assert (await b.get("/", headers={"X-API-Key": GOOD})).status_code == 200


@pytest.mark.redis
@pytest.mark.parametrize("fail_open", [True, False])
async def test_an_unreachable_redis_leaves_attempts_to_the_app(
    closed_redis_url: str, fail_open: bool
) -> None:
    """With Redis refusing connections the failures cannot be counted, whatever the fail
    policy: every attempt is still checked and answered by the app (401 or 200), never a
    429 or a 5xx, and the store errors are reported."""
    errors: list[bool] = []
    limiter = RateLimiter(
        RedisStore.from_url(closed_redis_url, timeout=0.2),
        fail_open=fail_open,
        on_store_error=lambda exc, policy: errors.append(isinstance(exc, RedisConnectionError)),
    )
    # The fault first: the store cannot decide (connection refused).
    with pytest.raises(RedisConnectionError, match=r"refused|111"):
        await limiter.store.decide(["probe"], [Limit.parse("3/minute")])
    checked: list[str] = []

    async def endpoint(request: Request) -> JSONResponse:
        key = request.headers.get("x-api-key", "")
        checked.append(key)
        return JSONResponse({}, status_code=200 if key == GOOD else 401)

    app = FailureLimitMiddleware(
        Starlette(routes=[Route("/", endpoint)]),
        limiter=limiter,
        limit=Limit.parse("3/minute"),
        attempt=lambda scope: True,
    )
    async with _client(app, "198.51.100.6") as client:
        statuses = [(await client.get("/", headers={"X-API-Key": f"k{i}"})).status_code
                    for i in range(6)]  # fmt: skip
        assert statuses == [401] * 6
        assert (await client.get("/", headers={"X-API-Key": GOOD})).status_code == 200
    await limiter.aclose()
    assert checked == [f"k{i}" for i in range(6)] + [GOOD]
    assert errors == [True] * 6  # each failure tried to count and found Redis down
