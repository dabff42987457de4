"""Problem answers name the request: ``instance`` (its path) and ``request_id`` (what a
request-id middleware outside stored in the request state), as spaps-ops' answers do."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from spaps_ratelimit import (
    BodySizeLimitMiddleware,
    FailureLimitMiddleware,
    Limit,
    MemoryStore,
    Policy,
    RateLimiter,
    RateLimitMiddleware,
    RouteLimit,
)
from spaps_ratelimit.integration import setup
from spaps_ratelimit.testing import ManualClock
from starlette.types import ASGIApp, Receive, Scope, Send

REQUEST_ID = "req-0123456789"


class _RequestId:
    """The part of a request-id middleware the answers read: ``state["request_id"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["request_id"] = REQUEST_ID
        await self.app(scope, receive, send)


def _app(**middleware: object) -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    async def items() -> dict[str, str]:
        return {"ok": "items"}

    @app.get("/search", dependencies=[Depends(RouteLimit("1/minute"))])
    async def search() -> dict[str, str]:
        return {"ok": "search"}

    for layer, options in middleware.items():
        app.add_middleware({"limit": RateLimitMiddleware, "size": BodySizeLimitMiddleware}[layer],
                           **options)  # type: ignore[arg-type]  # fmt: skip
    return app


async def test_a_429_names_the_path_and_the_request_id(make_client) -> None:
    limiter = RateLimiter(MemoryStore(clock=ManualClock()))
    app = _app(limit={"limiter": limiter, "policy": Policy("1/minute")})
    async with make_client(_RequestId(app)) as client:
        await client.post("/items")
        refused = await client.post("/items")
    assert refused.status_code == 429
    body = refused.json()
    assert (body["instance"], body["request_id"]) == ("/items", REQUEST_ID)
    assert body["code"] == "ratelimit.rate_limited"
    assert body["retry_after"] == 60  # the extensions are still there


async def test_without_a_request_id_the_member_is_null(make_client) -> None:
    limiter = RateLimiter(MemoryStore(clock=ManualClock()))
    app = _app(limit={"limiter": limiter, "policy": Policy("1/minute")})
    async with make_client(app) as client:
        await client.post("/items")
        refused = await client.post("/items")
    body = refused.json()
    assert (body["instance"], body["request_id"]) == ("/items", None)


async def test_the_error_handler_of_a_route_dependency_names_them_too(make_client) -> None:
    app = _app()
    setup(app, RateLimiter(MemoryStore(clock=ManualClock())))
    async with make_client(_RequestId(app)) as client:
        await client.get("/search")
        refused = await client.get("/search")
    assert refused.status_code == 429
    body = refused.json()
    assert (body["instance"], body["request_id"]) == ("/search", REQUEST_ID)


async def test_a_413_names_them(make_client) -> None:
    app = _app(size={"max_body_size": 4})
    async with make_client(_RequestId(app)) as client:
        refused = await client.post("/items", content=b"x" * 5)
    assert refused.status_code == 413
    body = refused.json()
    assert (body["instance"], body["request_id"]) == ("/items", REQUEST_ID)


async def test_a_blocked_attempt_names_them(make_client) -> None:
    clock = ManualClock()

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guarded = FailureLimitMiddleware(
        refuse,
        limiter=RateLimiter(MemoryStore(clock=clock)),
        limit=Limit.parse("1/minute"),
        attempt=lambda scope: True,
        clock=clock,
    )
    async with make_client(_RequestId(guarded)) as client:
        statuses = [(await client.get("/login")).status_code for _ in range(2)]
        blocked = await client.get("/login")
    assert statuses == [401, 401]
    assert blocked.status_code == 429
    body = blocked.json()
    assert (body["instance"], body["request_id"]) == ("/login", REQUEST_ID)
