"""FailureLimitMiddleware: failed attempts spend a per-client budget; past it, attempts
are refused before the app checks them, right or wrong."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from spaps_ratelimit import FailureLimitMiddleware, Limit, MemoryStore, RateLimiter
from spaps_ratelimit.testing import ManualClock
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Scope

GOOD = "good-key"


def _app(clock: ManualClock, checked: list[str]) -> FailureLimitMiddleware:
    async def endpoint(request: Request) -> JSONResponse:
        key = request.headers.get("x-api-key", "")
        checked.append(key)
        return JSONResponse({"ok": key == GOOD}, status_code=200 if key == GOOD else 401)

    def attempt(scope: Scope) -> bool:
        return any(name == b"x-api-key" for name, _ in scope["headers"])

    return FailureLimitMiddleware(
        Starlette(routes=[Route("/", endpoint)]),
        limiter=RateLimiter(MemoryStore(clock=clock)),
        limit=Limit.parse("3/minute"),
        attempt=attempt,
        clock=clock,
    )


def _client(app: FailureLimitMiddleware, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_failures_past_the_budget_are_refused_before_the_check() -> None:
    clock, checked = ManualClock(), []
    app = _app(clock, checked)
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


async def test_successes_cost_nothing() -> None:
    clock, checked = ManualClock(), []
    app = _app(clock, checked)
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
