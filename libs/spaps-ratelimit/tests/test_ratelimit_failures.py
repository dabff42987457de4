"""Fail-open and fail-closed when the store is unreachable, over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import Depends, FastAPI
from spaps_ratelimit import (
    Policy,
    RateLimiter,
    RateLimitMiddleware,
    RateLimitStoreUnavailable,
    RedisStore,
    RouteLimit,
)
from spaps_ratelimit.integration import setup


@pytest.fixture
def closed_port_store(closed_redis_url: str) -> Callable[[], RedisStore]:
    return lambda: RedisStore.from_url(closed_redis_url, timeout=0.2)


def app_with(limiter: RateLimiter) -> FastAPI:
    app = FastAPI()
    setup(app, limiter)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, policy=Policy("1/minute"))

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    return app


async def test_fail_open_admits_and_reports(make_client, closed_port_store):
    errors: list[bool] = []
    limiter = RateLimiter(closed_port_store(), on_store_error=lambda exc, o: errors.append(o))
    async with make_client(app_with(limiter)) as client:
        answers = [await client.get("/") for _ in range(3)]
    await limiter.aclose()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "ratelimit" not in answers[0].headers
    assert errors == [True, True, True]


async def test_fail_closed_answers_503_problem_json(make_client, closed_port_store):
    errors: list[bool] = []
    limiter = RateLimiter(
        closed_port_store(), fail_open=False, on_store_error=lambda exc, o: errors.append(o)
    )
    async with make_client(app_with(limiter)) as client:
        answer = await client.get("/")
    await limiter.aclose()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "ratelimit.store_unavailable"
    assert errors == [False]


async def test_fail_closed_in_a_route_dependency_uses_the_error_handler(
    make_client, closed_port_store
):
    limiter = RateLimiter(closed_port_store(), fail_open=False)
    app = FastAPI()
    setup(app, limiter)

    @app.get("/", dependencies=[Depends(RouteLimit("1/minute"))])
    async def root() -> dict[str, bool]:
        return {"ok": True}

    async with make_client(app) as client:
        answer = await client.get("/")
    await limiter.aclose()
    assert answer.status_code == 503
    assert answer.json()["code"] == "ratelimit.store_unavailable"


async def test_fail_closed_raises_from_the_limiter(closed_port_store):
    limiter = RateLimiter(closed_port_store(), fail_open=False)
    with pytest.raises(RateLimitStoreUnavailable):
        await limiter.hit("k", Policy("1/s").limits)
    await limiter.aclose()


def test_limiter_validates_arguments():
    with pytest.raises(TypeError, match="Store"):
        RateLimiter(store="redis://")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fail_open"):
        RateLimiter(fail_open="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        RateLimiter(on_store_error=1)  # type: ignore[arg-type]
