"""spaps_ops.strawberry's limits over HTTP: bombs, batches, GET, introspection and the IDE
are refused before any resolver runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

strawberry = pytest.importorskip(
    "strawberry", reason="not applicable: the strawberry extra is not installed"
)
from spaps_ops.strawberry import graphql_router, secure_extensions  # noqa: E402

MakeClient = Callable[[Any], Awaitable[httpx.AsyncClient]]
LIMITS = {"max_depth": 4, "max_aliases": 3, "max_tokens": 120}


class Calls:
    """How many times a resolver ran."""

    def __init__(self) -> None:
        self.count = 0


def count(info: strawberry.Info) -> None:
    info.context["request"].app.state.calls.count += 1


@strawberry.type
class Node:
    @strawberry.field
    def name(self, info: strawberry.Info) -> str:
        count(info)
        return "n"

    @strawberry.field
    def child(self, info: strawberry.Info) -> Node:
        count(info)
        return Node()


@strawberry.type
class Query:
    @strawberry.field
    def node(self, info: strawberry.Info) -> Node:
        count(info)
        return Node()


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self, info: strawberry.Info) -> str:
        count(info)
        return "touched"


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def graphql_app(make_app: Callable[..., FastAPI], calls: Calls) -> Callable[..., FastAPI]:
    def factory(*, production: bool = False) -> FastAPI:
        app = make_app()
        app.state.calls = calls
        extensions = secure_extensions(production=production, **LIMITS)
        schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)
        router = graphql_router(schema, production=production)
        app.include_router(router)
        return app

    return factory


def nested(depth: int) -> str:
    return "{ node { " + "child { " * (depth - 1) + "name" + " }" * depth + " }"


BOMBS = {
    "depth": (nested(8), "graphql.too_deep"),
    "aliases": (
        "{ " + " ".join(f"a{i}: node {{ name }}" for i in range(10)) + " }",
        "graphql.too_many_aliases",
    ),
    "tokens": ("{ node { " + "name " * 500 + "} }", "graphql.too_many_tokens"),
    "circular fragments": (
        "{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { ...A }",
        "graphql.invalid",
    ),
}


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=list(BOMBS))
async def test_bomb_is_refused_before_any_resolver_runs(
    bomb: tuple[str, str],
    graphql_app: Callable[..., FastAPI],
    make_client: MakeClient,
    calls: Calls,
) -> None:
    query, code = bomb
    client = await make_client(graphql_app())
    # The second time, the parse or the validation verdict comes from the caches.
    for _ in range(2):
        answer = await client.post("/graphql", json={"query": query})
        assert answer.status_code == 400
        body = answer.json()
        assert body["data"] is None
        assert body["errors"]
        assert {error["extensions"]["code"] for error in body["errors"]} == {code}
        for error in body["errors"]:
            assert error["extensions"]["status"] == 400
            assert error["extensions"]["request_id"] == answer.headers["x-request-id"]
    assert calls.count == 0


async def test_within_the_limits_the_operation_runs(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient, calls: Calls
) -> None:
    client = await make_client(graphql_app())
    query = "{ a: node { name } b: node { child { child { name } } } }"
    for _ in range(2):  # the second time from the parse and validation caches
        answer = await client.post("/graphql", json={"query": query})
        assert answer.status_code == 200
        expected = {"data": {"a": {"name": "n"}, "b": {"child": {"child": {"name": "n"}}}}}
        assert answer.json() == expected
    assert calls.count == 12


async def test_a_batch_is_refused(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient, calls: Calls
) -> None:
    client = await make_client(graphql_app())
    batch = [{"query": "{ node { name } }"}, {"query": "mutation { touch }"}]
    answer = await client.post("/graphql", json=batch)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    [error] = answer.json()["errors"]
    assert error["message"] == "Batching is not enabled"
    assert error["extensions"] == {
        "code": "graphql.invalid",
        "status": 400,
        "request_id": answer.headers["x-request-id"],
    }
    assert calls.count == 0


@pytest.mark.parametrize("production", [False, True])
async def test_get_is_refused(
    production: bool, graphql_app: Callable[..., FastAPI], make_client: MakeClient, calls: Calls
) -> None:
    client = await make_client(graphql_app(production=production))
    for query in ("{ node { name } }", "mutation { touch }"):
        answer = await client.get("/graphql", params={"query": query})
        assert answer.status_code == 405
        assert answer.headers["allow"] == "POST"
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "ops.method_not_allowed"
        assert error["extensions"]["status"] == 405
    assert calls.count == 0


async def test_a_form_post_is_refused(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient, calls: Calls
) -> None:
    # What a cross-site HTML form can send: no CSRF surface.
    client = await make_client(graphql_app())
    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = await client.post("/graphql", content="query=mutation{touch}", headers=form)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "graphql.invalid"
    assert calls.count == 0


async def test_development_has_introspection_and_graphiql(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient
) -> None:
    client = await make_client(graphql_app(production=False))
    answer = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert answer.status_code == 200
    assert answer.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


async def test_production_has_neither_introspection_nor_graphiql(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient, calls: Calls
) -> None:
    client = await make_client(graphql_app(production=True))
    for query in ("{ __schema { queryType { name } } }", '{ __type(name: "Node") { name } }'):
        answer = await client.post("/graphql", json={"query": query})
        assert answer.status_code == 400
        codes = {error["extensions"]["code"] for error in answer.json()["errors"]}
        assert codes == {"graphql.introspection_disabled"}
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 405
    assert "graphiql" not in page.text.lower()
    # Only introspection is off: __typename, which clients add for caching, still works.
    answer = await client.post("/graphql", json={"query": "{ node { __typename name } }"})
    assert answer.json() == {"data": {"node": {"__typename": "Node", "name": "n"}}}
    assert calls.count == 2


async def test_websocket_subscriptions_are_refused(
    graphql_app: Callable[..., FastAPI], calls: Calls
) -> None:
    # httpx speaks no websocket: drive the handshake as the server would.
    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/graphql",
        "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"sec-websocket-protocol", b"graphql-transport-ws")],
        "subprotocols": ["graphql-transport-ws"], "client": ("127.0.0.1", 1), "server": None,
    }  # fmt: skip
    await graphql_app()(scope, receive, send)
    assert [message["type"] for message in sent] == ["websocket.close"]  # never accepted
    assert calls.count == 0
