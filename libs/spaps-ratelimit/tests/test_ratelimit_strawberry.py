"""``CostLimit`` over HTTP: FastAPI, Strawberry's GraphQLRouter and a tiny real schema."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import graphql
import pytest
import strawberry
from fastapi import FastAPI
from spaps_ratelimit import (
    Limit,
    MemoryStore,
    OperationCostExceeded,
    Policy,
    RateLimiter,
    RateLimitExceeded,
    RateLimitMiddleware,
    RedisStore,
    SpapsRatelimitError,
    client_ip,
    state_key,
)
from spaps_ratelimit.strawberry import CostLimit, operation_cost
from spaps_ratelimit.testing import ManualClock
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import MaskErrors, MaxTokensLimiter
from strawberry.fastapi import BaseContext, GraphQLRouter

ITEMS = "{ items(first: 4) { id } }"  # 1 + 4 * 1 = 5


class Ctx(BaseContext):
    """An object context: the router sets ``.request`` and ``.response`` on it."""


#: Every resolver call, in order: what ran (reset for each test).
CALLS: list[str] = []


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


@strawberry.type
class Item:
    id: int


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 10) -> list[Item]:
        CALLS.append("items")
        return [Item(id=i) for i in range(first)]

    @strawberry.field
    def ping(self) -> str:
        CALLS.append("ping")
        return "pong"


def make_app(*, object_context: bool = False, **options: Any) -> tuple[FastAPI, strawberry.Schema]:
    """The schema behind ``CostLimit(**options)``, mounted at ``/graphql``."""
    options.setdefault("key", client_ip())
    options.setdefault("limits", [Limit.per_minute(10)])
    options.setdefault("max_cost", 10)
    schema = strawberry.Schema(query=Query, extensions=[CostLimit(**options)])
    app = FastAPI()
    router = GraphQLRouter(schema, context_getter=Ctx if object_context else None)
    app.include_router(router, prefix="/graphql")
    return app, schema


class UserFromHeader:
    """Stands in for authentication: the ``x-user`` header becomes the request's user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"x-user":
                scope.setdefault("state", {})["user_id"] = value.decode()
        await self.app(scope, receive, send)


def rate_headers(response: Any) -> dict[str, str]:
    names = ("retry-after", "ratelimit", "ratelimit-policy")
    return {name: response.headers[name] for name in names if name in response.headers}


async def test_an_admitted_operation_is_charged_its_cost(make_client):
    app, _ = make_app(limiter=RateLimiter(MemoryStore(clock=ManualClock(0))))
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": ITEMS})
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]["items"]) == 4
    assert body["extensions"]["cost"] == {"total": 5, "remaining": 5}
    assert rate_headers(response) == {
        "ratelimit-policy": '"10-per-60s";q=10;w=60',
        "ratelimit": '"10-per-60s";r=5;t=6',
    }
    assert CALLS == ["items"]


@pytest.mark.parametrize("object_context", [False, True])
async def test_an_exhausted_budget_is_a_429_before_any_resolver_runs(make_client, object_context):
    limiter = RateLimiter(MemoryStore(clock=ManualClock(0)))
    app, _ = make_app(object_context=object_context, limiter=limiter)
    async with make_client(app) as client:
        answers = [await client.post("/graphql", json={"query": ITEMS}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert CALLS == ["items", "items"]  # the third operation ran nothing
    refused = answers[2]
    body = refused.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == RateLimitExceeded.code
    assert error["extensions"]["status"] == 429
    assert error["extensions"]["retry_after"] == 30  # 5 units of 6 s each
    assert body["extensions"]["cost"] == {"total": 5, "remaining": 0}
    assert rate_headers(refused) == {
        "retry-after": "30",
        "ratelimit-policy": '"10-per-60s";q=10;w=60',
        "ratelimit": '"10-per-60s";r=0;t=6',
    }


async def test_the_429_headers_are_the_middlewares_for_the_same_state(make_client):
    # A budget emptied by a cost of 5 is the middleware's after five requests.
    limit = Limit.per_minute(5)
    limiter = RateLimiter(MemoryStore(clock=ManualClock(0)))
    app, _ = make_app(limiter=limiter, limits=[limit], max_cost=5)
    rest = FastAPI()
    rest.add_middleware(
        RateLimitMiddleware,
        limiter=RateLimiter(MemoryStore(clock=ManualClock(0))),
        policy=Policy(limit),
    )
    async with make_client(app) as client:
        await client.post("/graphql", json={"query": ITEMS})
        graphql = await client.post("/graphql", json={"query": "{ ping }"})
    async with make_client(rest) as client:
        for _ in range(5):
            await client.get("/")
        http = await client.get("/")
    assert (graphql.status_code, http.status_code) == (429, 429)
    assert rate_headers(graphql) == rate_headers(http)
    assert rate_headers(http)["retry-after"] == "12"


async def test_a_refused_cost_reports_the_units_left(make_client):
    limiter = RateLimiter(MemoryStore(clock=ManualClock(0)))
    app, _ = make_app(limiter=limiter, limits=[Limit.per_minute(5)], max_cost=5)
    async with make_client(app) as client:
        await client.post("/graphql", json={"query": "{ items(first: 2) { id } }"})  # 3
        refused = await client.post("/graphql", json={"query": "{ items(first: 2) { id } }"})
    assert refused.status_code == 429
    # Two units now, within 12 s no third; the three the operation needs in 12 s.
    assert rate_headers(refused) == {
        "retry-after": "12",
        "ratelimit-policy": '"5-per-60s";q=5;w=60',
        "ratelimit": '"5-per-60s";r=2;t=12',
    }
    assert refused.json()["extensions"]["cost"] == {"total": 3, "remaining": 2}


async def test_an_operation_above_max_cost_is_refused_without_the_store(make_client):
    store = MemoryStore()
    app, _ = make_app(limiter=RateLimiter(store), max_cost=4)
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": ITEMS})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": OperationCostExceeded.code,
        "status": 400,
        "cost": 5,
        "max_cost": 4,
    }
    assert CALLS == []
    assert len(store) == 0  # nothing charged, nothing read
    assert "ratelimit" not in response.headers


async def test_a_cost_above_the_burst_could_never_pass_and_is_a_400(make_client):
    store = MemoryStore()
    limits = [Limit.per_minute(100, burst=4)]
    app, _ = make_app(limiter=RateLimiter(store), limits=limits, max_cost=50)
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": ITEMS})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["max_cost"] == 4
    assert len(store) == 0


async def test_an_invalid_document_is_never_priced_nor_charged(make_client):
    store = MemoryStore()
    app, _ = make_app(limiter=RateLimiter(store))
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": "{ items { nope } }"})
    body = response.json()
    assert "Cannot query field 'nope'" in body["errors"][0]["message"]
    assert "cost" not in (body.get("extensions") or {})
    assert len(store) == 0


async def test_no_key_or_no_limits_charges_nothing(make_client):
    store = MemoryStore()

    async def plans(key: str) -> list[Limit] | None:
        return None if key == "user:free" else [Limit.per_minute(10)]

    limiter = RateLimiter(store)
    app, _ = make_app(limiter=limiter, key=state_key("user_id", prefix="user:"), limits=plans)

    app.add_middleware(UserFromHeader)

    async with make_client(app) as client:
        anonymous = await client.post("/graphql", json={"query": ITEMS})
        free = await client.post("/graphql", json={"query": ITEMS}, headers={"x-user": "free"})
        paid = await client.post("/graphql", json={"query": ITEMS}, headers={"x-user": "paid"})
    assert anonymous.json()["extensions"]["cost"] == {"total": 5}
    assert free.json()["extensions"]["cost"] == {"total": 5}
    assert paid.json()["extensions"]["cost"] == {"total": 5, "remaining": 5}
    assert len(store) == 1


async def test_field_costs_use_the_graphql_names(make_client):
    store = MemoryStore()
    app, _ = make_app(limiter=RateLimiter(store), field_costs={"Query.ping": 7})
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": "{ ping items { id } }"})
    # ping 7 + items (1 + 10 * 1: the schema's default for first): 18 > 10
    assert response.json()["errors"][0]["extensions"]["cost"] == 18


async def test_concurrent_operations_report_their_own_cost(make_client):
    app, _ = make_app(limiter=RateLimiter(), max_cost=100, limits=[Limit.per_minute(1000)])
    queries = [f"{{ items(first: {n}) {{ id }} }}" for n in range(1, 9)]
    async with make_client(app) as client:
        answers = await asyncio.gather(
            *(client.post("/graphql", json={"query": q}) for q in queries)
        )
    assert [a.json()["extensions"]["cost"]["total"] for a in answers] == list(range(2, 10))


async def test_without_a_request_only_max_cost_applies():
    store = MemoryStore()
    _, schema = make_app(limiter=RateLimiter(store), max_cost=5)
    admitted = await schema.execute(ITEMS)
    assert admitted.errors is None
    assert admitted.extensions == {"cost": {"total": 5}}
    refused = await schema.execute("{ items(first: 9) { id } }")
    assert refused.errors is not None
    assert refused.errors[0].extensions["code"] == "ratelimit.cost_exceeded"
    assert isinstance(refused.errors[0].original_error, OperationCostExceeded)
    assert len(store) == 0


@pytest.mark.parametrize("fail_open", [True, False])
async def test_a_failing_store_follows_the_fail_policy(make_client, closed_redis_url, fail_open):
    store = RedisStore.from_url(closed_redis_url, timeout=0.2)
    app, _ = make_app(limiter=RateLimiter(store, fail_open=fail_open))
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": ITEMS})
    await store.aclose()
    if fail_open:
        assert response.status_code == 200
        assert CALLS == ["items"]
        assert "ratelimit" not in response.headers
        assert response.json()["extensions"]["cost"] == {"total": 5}
    else:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["errors"][0]["extensions"]["code"] == "ratelimit.store_unavailable"
        assert CALLS == []


@pytest.mark.redis
async def test_the_budget_lives_in_redis(make_client, make_redis_store, redis_client, unique_name):
    limiter = RateLimiter(make_redis_store())
    app, _ = make_app(limiter=limiter)
    async with make_client(app) as client:
        answers = [await client.post("/graphql", json={"query": ITEMS}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    keys = [key async for key in redis_client.scan_iter(match=f"{unique_name}:*")]
    assert keys == [f"{unique_name}:graphql:203.0.113.7:10/60/10".encode()]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"limiter": object()}, TypeError),
        ({"key": "ip"}, TypeError),
        ({"max_cost": 0}, ValueError),
        ({"field_costs": {"items": 2}}, ValueError),
        ({"default_field_cost": -1}, ValueError),
        ({"list_size_arguments": "first"}, TypeError),
        ({"limits": []}, ValueError),
    ],
)
def test_options_are_validated(options: dict[str, Any], error: type[Exception]) -> None:
    base: dict[str, Any] = {
        "limiter": RateLimiter(),
        "key": client_ip(),
        "limits": [Limit.per_minute(10)],
        "max_cost": 10,
    }
    with pytest.raises(error):
        CostLimit(**{**base, **options})


def test_the_library_imports_without_strawberry_or_graphql_core() -> None:
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("strawberry", "graphql"):
                    raise ImportError(f"{name} is not installed")
                return None

        sys.meta_path.insert(0, Block())
        import spaps_ratelimit, spaps_ratelimit.integration, spaps_ratelimit.testing
        assert not any(m.split(".")[0] in ("strawberry", "graphql") for m in sys.modules)
        try:
            import spaps_ratelimit.strawberry
        except ImportError as exc:
            print("needs the extra:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("needs the extra:")


@pytest.mark.parametrize("query", ["{ ping }", "{ items(first: 2) { id } ping }", ITEMS])
async def test_tokens_are_counted_as_strawberrys_token_limit_counts(query: str) -> None:
    tokens = operation_cost(graphql.parse(query)).tokens
    # Lexical tokens only: a comment is no token (MaxTokensLimiter may count it).
    assert operation_cost(graphql.parse(query + " # a comment")).tokens == tokens
    for limit, passes in ((tokens, True), (tokens - 1, False)):
        schema = strawberry.Schema(
            query=Query,
            extensions=[lambda limit=limit: MaxTokensLimiter(max_token_count=limit)],
        )
        result = await schema.execute(query)
        assert (result.errors is None) is passes, (limit, result.errors)


async def test_masked_errors_can_keep_the_refusals(make_client):
    # MaskErrors masks every error by default; keep the library's refusals visible.
    def should_mask(error: graphql.GraphQLError) -> bool:
        return not isinstance(error.original_error, SpapsRatelimitError)

    cost_limit = CostLimit(
        limiter=RateLimiter(), key=client_ip(), limits=[Limit.per_minute(10)], max_cost=4
    )
    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: MaskErrors(should_mask_error=should_mask), cost_limit],
    )
    result = await schema.execute(ITEMS)
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": "ratelimit.cost_exceeded",
        "status": 400,
        "cost": 5,
        "max_cost": 4,
    }
    assert CALLS == []
