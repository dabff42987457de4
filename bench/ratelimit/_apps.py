"""The apps the HTTP benchmark compares; each is an ASGI factory for ``uvicorn --factory``.

Every app serves ``GET /limited`` (same body) with a limit far above the offered load,
so nothing is rejected and the figures measure the cost of deciding. Configuration
comes from the environment the benchmark driver sets: ``BENCH_REDIS_URL`` and
``BENCH_PREFIX`` (a fresh Redis namespace per run).

Every server process also runs the same idle thread waking every 10 ms. On the
virtual machines we measure on, such a thread alone changes an app's throughput by
25-45 % (scheduler/idle effects), and slowapi's memory storage starts one of its own
(the expiry timer of ``limits``); giving every case the same thread keeps the
comparison about the rate limiters.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi_limiter.depends import RateLimiter as FLRateLimiter
from pyrate_limiter import Duration, Limiter, Rate, RedisBucket
from redis.asyncio import Redis
from slowapi import Limiter as SlowLimiter
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from spaps_ratelimit import (
    Limit,
    MemoryStore,
    Policy,
    RateLimiter,
    RateLimitMiddleware,
    RedisStore,
)
from spaps_ratelimit.integration import setup

HIGH = 1_000_000_000  # requests per hour: never reached in a benchmark run


def _ticker() -> None:
    while True:
        time.sleep(0.01)


#: Set to False to build apps without the ticker thread (in-process measurements).
same_threads = True


def _same_threads() -> None:
    if same_threads:
        threading.Thread(target=_ticker, name="bench-ticker", daemon=True).start()


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _prefix() -> str:
    return os.environ.get("BENCH_PREFIX", "bench:ratelimit:")


def unlimited() -> FastAPI:
    _same_threads()
    app = FastAPI()

    @app.get("/limited")
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    return app


def _spaps(store_kind: str) -> FastAPI:
    _same_threads()
    if store_kind == "memory":
        limiter = RateLimiter(MemoryStore())
    else:
        limiter = RateLimiter(RedisStore.from_url(_redis_url(), prefix=_prefix()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await limiter.aclose()

    app = FastAPI(lifespan=lifespan)
    setup(app, limiter)
    policy = Policy(Limit.per_hour(HIGH))
    app.add_middleware(RateLimitMiddleware, limiter=limiter, policy=policy)

    @app.get("/limited")
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    return app


def spaps_memory() -> FastAPI:
    return _spaps("memory")


def spaps_redis() -> FastAPI:
    return _spaps("redis")


def _slowapi(storage_uri: str) -> FastAPI:
    _same_threads()

    limiter = SlowLimiter(
        key_func=get_remote_address, storage_uri=storage_uri, key_prefix=_prefix()
    )
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]

    @app.get("/limited")
    @limiter.limit(f"{HIGH}/hour")
    async def limited(request: Request) -> dict[str, bool]:
        return {"ok": True}

    return app


def slowapi_memory() -> FastAPI:
    return _slowapi("memory://")


def slowapi_redis() -> FastAPI:
    return _slowapi(_redis_url())


def fastapi_limiter_redis() -> FastAPI:
    _same_threads()

    dependency = FLRateLimiter(limiter=None)  # type: ignore[arg-type]  # set at startup

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(_redis_url())
        bucket = await RedisBucket.init([Rate(HIGH, Duration.HOUR)], redis, _prefix() + "fl")
        dependency.limiter = Limiter(bucket)
        yield
        await redis.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/limited", dependencies=[Depends(dependency)])
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    return app
