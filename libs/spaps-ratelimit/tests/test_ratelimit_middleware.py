"""RateLimitMiddleware and RouteLimit on tiny real apps."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from spaps_ratelimit import (
    Limit,
    MemoryStore,
    Policy,
    RateLimiter,
    RateLimitMiddleware,
    RouteLimit,
    Store,
)
from spaps_ratelimit.integration import get_limiter, setup
from spaps_ratelimit.testing import ManualClock
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def fastapi_app(limiter: RateLimiter, **middleware: object) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RateLimitMiddleware, limiter=limiter, **middleware)  # type: ignore[arg-type]

    @app.get("/items")
    async def items() -> dict[str, str]:
        return {"ok": "items"}

    @app.get("/search", dependencies=[Depends(RouteLimit("1/minute"))])
    async def search() -> dict[str, str]:
        return {"ok": "search"}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"ok": "live"}

    return app


async def test_global_policy_answers_429_problem_json_with_headers(make_client, make_store):
    clock = ManualClock()
    limiter = RateLimiter(make_store(clock=clock))
    app = fastapi_app(limiter, policy=Policy("2/minute"))
    async with make_client(app) as client:
        first = await client.get("/items")
        second = await client.get("/items")
        third = await client.get("/items")
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["ratelimit-policy"] == '"2-per-60s";q=2;w=60'
    assert first.headers["ratelimit"] == '"2-per-60s";r=1;t=30'
    # t: no more than r requests within t seconds (the next one frees up in 30 s).
    assert second.headers["ratelimit"] == '"2-per-60s";r=0;t=30'
    assert third.headers["retry-after"] == "30"
    assert third.headers["content-type"] == "application/problem+json"
    assert third.headers["ratelimit"] == '"2-per-60s";r=0;t=30'
    body = third.json()
    assert body["type"] == "urn:spaps:problem:ratelimit.rate_limited"
    assert body["code"] == "ratelimit.rate_limited"
    assert body["status"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["retry_after"] == 30
    assert body["violated-policies"] == ["2-per-60s"]


async def test_limit_recovers_as_time_passes(make_client):
    clock = ManualClock()
    app = fastapi_app(RateLimiter(MemoryStore(clock=clock)), policy="1/second")
    async with make_client(app) as client:
        assert (await client.get("/items")).status_code == 200
        assert (await client.get("/items")).status_code == 429
        clock.advance(1)
        assert (await client.get("/items")).status_code == 200


async def test_exempt_paths_are_never_limited_nor_annotated(make_client):
    app = fastapi_app(RateLimiter(), policy="1/minute", exempt=["/health"])
    async with make_client(app) as client:
        answers = [await client.get("/health/live") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "ratelimit" not in answers[0].headers


async def test_route_policy_replaces_the_global_one(make_client):
    app = fastapi_app(RateLimiter(), policy="3/minute")
    async with make_client(app) as client:
        search = [await client.get("/search") for _ in range(2)]
        items = [await client.get("/items") for _ in range(3)]
    assert [r.status_code for r in search] == [200, 429]
    assert search[0].headers["ratelimit-policy"] == '"1-per-60s";q=1;w=60'
    # The searches did not consume the global budget: all three items pass.
    assert [r.status_code for r in items] == [200, 200, 200]


async def test_route_dependency_works_without_the_middleware(make_client):
    app = FastAPI()
    setup(app, RateLimiter(MemoryStore(clock=ManualClock())))

    @app.get("/a", dependencies=[Depends(RouteLimit(Limit.per_minute(2, name="a")))])
    async def a() -> dict[str, int]:
        return {"ok": 1}

    @app.get("/b", dependencies=[Depends(RouteLimit("1/minute"))])
    async def b() -> dict[str, int]:
        return {"ok": 2}

    async with make_client(app) as client:
        a_answers = [await client.get("/a") for _ in range(3)]
        b_answer = await client.get("/b")
    assert [r.status_code for r in a_answers] == [200, 200, 429]
    assert a_answers[0].headers["ratelimit"] == '"a";r=1;t=30'
    assert a_answers[2].headers["content-type"] == "application/problem+json"
    assert a_answers[2].headers["retry-after"] == "30"
    assert a_answers[2].json()["code"] == "ratelimit.rate_limited"
    assert b_answer.status_code == 200  # each route has its own budget


async def test_route_dependency_without_any_limiter_fails_loudly(make_client):
    app = FastAPI()

    @app.get("/a", dependencies=[Depends(RouteLimit("1/minute"))])
    async def a() -> dict[str, int]:
        return {"ok": 1}

    async with make_client(app) as client:
        with pytest.raises(RuntimeError, match="RouteLimit has no limiter"):
            await client.get("/a")
    with pytest.raises(RuntimeError, match="setup"):
        get_limiter(app)


async def test_decorated_starlette_endpoint_gets_its_route_policy(make_client):
    limit = RouteLimit("1/minute")

    @limit.decorate
    async def login(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    app = Starlette(routes=[Route("/", home), Route("/login", login, methods=["POST"])])
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(), policy="5/minute")
    async with make_client(app) as client:
        logins = [(await client.post("/login")).status_code for _ in range(2)]
        homes = [(await client.get("/")).status_code for _ in range(2)]
    assert logins == [200, 429]
    assert homes == [200, 200]


async def test_overrides_give_a_key_its_plan(make_client):
    plans = {"203.0.113.7": [Limit.per_minute(3, name="pro")]}
    policy = Policy(Limit.per_minute(1, name="free"), overrides=plans.get)
    app = fastapi_app(RateLimiter(), policy=policy)
    async with make_client(app) as pro, make_client(app, client=("198.51.100.1", 1)) as free:
        pro_codes = [(await pro.get("/items")).status_code for _ in range(4)]
        free_codes = [(await free.get("/items")).status_code for _ in range(2)]
        free_headers = (await free.get("/items")).headers
    assert pro_codes == [200, 200, 200, 429]
    assert free_codes == [200, 429]
    assert free_headers["ratelimit-policy"] == '"free";q=1;w=60'


async def test_several_limits_in_headers_and_a_key_of_none_is_not_limited(make_client):
    policy = Policy(
        [Limit.per_second(10, burst=20, name="sec"), Limit.per_hour(1000, name="hour")],
        key=lambda scope: None if scope["path"] == "/items" else "k",
    )
    app = fastapi_app(RateLimiter(), policy=policy)
    async with make_client(app) as client:
        free = await client.get("/items")
        limited = await client.get("/nowhere")  # a 404 is limited too
    assert "ratelimit" not in free.headers
    assert limited.headers["ratelimit-policy"] == (
        '"sec";q=10;w=1;spaps-burst=20, "hour";q=1000;w=3600'
    )
    assert limited.headers["ratelimit"] == '"sec";r=19;t=1, "hour";r=999;t=4'


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    middleware = RateLimitMiddleware(app, limiter=RateLimiter(), policy="1/minute")
    for _ in range(3):
        await middleware({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"] * 3


def test_constructor_validates_arguments() -> None:
    async def app(scope, receive, send) -> None:
        return None

    with pytest.raises(TypeError, match="limiter"):
        RateLimitMiddleware(app, limiter="memory")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exempt"):
        RateLimitMiddleware(app, limiter=RateLimiter(), exempt="/health")
    with pytest.raises(ValueError, match="start with"):
        RateLimitMiddleware(app, limiter=RateLimiter(), exempt=["health"])
    with pytest.raises(ValueError, match="not a rate limit"):
        RateLimitMiddleware(app, limiter=RateLimiter(), policy="ten per fortnight")


async def test_headers_are_added_without_touching_the_apps_response(make_client):
    shared = JSONResponse({"ok": True})

    async def endpoint(request: Request) -> JSONResponse:
        return shared

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(), policy="5/minute")
    async with make_client(app) as client:
        answer = await client.get("/")
    assert answer.headers["ratelimit"].startswith('"5-per-60s";r=4')
    assert all(not name.startswith(b"ratelimit") for name, _ in shared.raw_headers)


def _store_type(store: Store) -> str:
    return type(store).__name__


async def test_memory_and_redis_stores_give_the_same_headers(make_client, make_store):
    answers: list[dict[str, str]] = []
    for store in (MemoryStore(clock=ManualClock()), make_store(clock=ManualClock())):
        app = fastapi_app(RateLimiter(store), policy=Policy("3/minute", name=_store_type(store)))
        async with make_client(app) as client:
            for _ in range(4):
                response = await client.get("/items")
                answers.append({k: v for k, v in response.headers.items() if "rate" in k})
    assert answers[:4] == answers[4:]


async def test_routes_added_later_and_path_parameters_are_found(make_client):
    app = fastapi_app(RateLimiter(), policy="5/minute")
    async with make_client(app) as client:
        assert (await client.get("/items")).headers["ratelimit-policy"].startswith('"5-per')

        @app.get("/users/{user_id}", dependencies=[Depends(RouteLimit("2/minute"))])
        async def user(user_id: int) -> dict[str, int]:
            return {"id": user_id}

        codes = [(await client.get(f"/users/{i}")).status_code for i in range(3)]
        policy = (await client.get("/items")).headers["ratelimit-policy"]
    # One budget for the route template, whatever the parameter.
    assert codes == [200, 200, 429]
    assert policy.startswith('"5-per')


async def test_a_route_limit_with_its_own_limiter_keeps_it_under_the_middleware(make_client):
    shared, own = MemoryStore(), MemoryStore()
    app = FastAPI()
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(shared), policy="5/minute")

    @app.get("/own", dependencies=[Depends(RouteLimit("1/minute", limiter=RateLimiter(own)))])
    async def own_route() -> dict[str, bool]:
        return {"ok": True}

    async with make_client(app) as client:
        codes = [(await client.get("/own")).status_code for _ in range(2)]
    assert codes == [200, 429]
    assert (len(own), len(shared)) == (1, 0)
