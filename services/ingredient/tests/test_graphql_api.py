"""``/graphql`` over a seeded database, on SQLite and PostgreSQL: the REST read API's
answers field by field, cursor pages, a bounded number of statements per page, and
refusals (no credentials, bad arguments, query bombs) before any statement runs."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from ingredient import graphql as ingredient_graphql
from spaps_ops.db import get_database
from sqlalchemy import event

NODE = """id code name scientificName foodGroup source localNames version
nutrients { energyKj waterG proteinG fatG carbohydrateG fibreG }
minerals { symbol name amount unit per }"""
SEARCH = f"""query Search($query: String!, $first: Int, $after: String) {{
  search(query: $query, first: $first, after: $after) {{
    totalCount
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor score node {{ {NODE} }} }}
  }}
}}"""
DETAIL = f"query Detail($id: ID!) {{ ingredient(id: $id) {{ {NODE} }} }}"
#: A page of summaries with their nested composition (no count).
PAGE = f"""query Page($first: Int) {{
  search(query: "fish", first: $first) {{ edges {{ node {{ {NODE} }} }} }}
}}"""


def camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


class Served:
    """An app over HTTP, with the SQL statements its engine runs."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.statements: list[str] = []

    async def graphql(self, document: str, /, **variables: Any) -> httpx.Response:
        body = {"query": document, "variables": variables}
        return await self.client.post("/graphql", json=body)

    async def data(self, document: str, /, **variables: Any) -> dict[str, Any]:
        response = await self.graphql(document, **variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def serve(make_app: Callable[..., FastAPI], issuer: Any) -> Callable[..., Any]:
    """Factory: the app over ``seeded_url`` with an htma token (its authentication runs
    no SQL, so every statement counted is the operation's)."""

    @asynccontextmanager
    async def factory(database_url: str, **settings: Any) -> AsyncIterator[Served]:
        app = make_app(database_url=database_url, **settings)
        token = {"Authorization": f"Bearer {issuer.token('practitioner')}"}
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://ingredient", headers=token
            ) as client:
                served = Served(client)

                def record(*args: Any) -> None:
                    served.statements.append(args[2])

                engine = get_database(app).engine.sync_engine
                event.listen(engine, "before_cursor_execute", record)
                try:
                    yield served
                finally:
                    event.remove(engine, "before_cursor_execute", record)

    return factory


def assert_same_ingredient(node: dict[str, Any], rest: dict[str, Any]) -> None:
    """A GraphQL ``Ingredient`` and REST's ``IngredientDetail``, field by field."""
    assert node["id"] == rest["code"]
    for field in ("code", "name", "scientific_name", "food_group", "source", "local_names"):
        assert node[camel(field)] == rest[field], field
    assert node["version"] == rest["version"]
    assert node["nutrients"] == {camel(k): v for k, v in rest["nutrients"].items()}
    assert node["minerals"] == rest["minerals"]


async def test_search_agrees_with_rest(seeded_url: str, serve: Any) -> None:
    async with serve(seeded_url) as app:
        rest = (await app.client.get("/v1/ingredients", params={"q": "seed", "limit": 10})).json()
        search = (await app.data(SEARCH, query="seed", first=10))["search"]
        assert search["totalCount"] == rest["total"] > 10
        assert len(search["edges"]) == len(rest["items"]) == 10
        for edge, item in zip(search["edges"], rest["items"], strict=True):
            node = edge["node"]
            assert edge["score"] == item["score"]
            for field in ("code", "name", "scientific_name", "food_group", "source"):
                assert node[camel(field)] == item[field], field
            detail = (await app.client.get(f"/v1/ingredients/{item['code']}")).json()
            assert_same_ingredient(node, detail)


async def test_cursor_pages_walk_rests_order(seeded_url: str, serve: Any) -> None:
    async with serve(seeded_url) as app:
        rest = (await app.client.get("/v1/ingredients", params={"q": "seed", "limit": 100})).json()
        codes: list[str] = []
        after = None
        pages = 0
        while True:
            search = (await app.data(SEARCH, query="seed", first=7, after=after))["search"]
            info = search["pageInfo"]
            assert info["hasPreviousPage"] is (pages > 0)
            assert info["startCursor"] == search["edges"][0]["cursor"]
            assert info["endCursor"] == search["edges"][-1]["cursor"]
            codes += [edge["node"]["code"] for edge in search["edges"]]
            pages += 1
            after = info["endCursor"]
            if not info["hasNextPage"]:
                break
        assert codes == [item["code"] for item in rest["items"]]
        assert pages == -(-rest["total"] // 7)
        # past the end: an empty page, no cursors
        empty = (await app.data(SEARCH, query="seed", first=7, after=after))["search"]
        assert empty["edges"] == []
        assert empty["pageInfo"]["endCursor"] is None
        assert empty["pageInfo"]["hasNextPage"] is False


async def test_a_cursor_is_refused_with_another_query(seeded_url: str, serve: Any) -> None:
    async with serve(seeded_url) as app:
        after = (await app.data(SEARCH, query="seed", first=3))["search"]["pageInfo"]["endCursor"]
        assert after is not None
        follow = (await app.data(SEARCH, query="seed", first=3, after=after))["search"]
        assert len(follow["edges"]) == 3
        invalid = (await app.client.get("/v1/ingredients", params={"q": "!!!"})).json()["code"]
        # the same position of another query, and a cursor of the encoding before it
        old = base64.urlsafe_b64encode(b"search:v1:2").decode()
        for query, cursor, message in (
            ("oil", after, "another search query"),
            ("seed", old, "not a cursor this API gave out"),
        ):
            app.statements.clear()
            body = (await app.graphql(SEARCH, query=query, first=3, after=cursor)).json()
            assert body["data"] is None
            error = body["errors"][0]
            assert error["extensions"]["code"] == invalid
            assert message in error["message"]
            assert app.statements == []


async def test_ingredient_agrees_with_rest(seeded_url: str, serve: Any) -> None:
    async with serve(seeded_url) as app:
        for code in ("A001", "D063"):
            rest = (await app.client.get(f"/v1/ingredients/{code}")).json()
            node = (await app.data(DETAIL, id=code))["ingredient"]
            assert_same_ingredient(node, rest)
        # REST's 404 is GraphQL's null, without an error
        assert (await app.client.get("/v1/ingredients/NOPE")).status_code == 404
        assert await app.data(DETAIL, id="NOPE") == {"ingredient": None}


async def test_a_page_with_nutrients_runs_the_same_statements_whatever_its_size(
    seeded_url: str, serve: Any
) -> None:
    async with serve(seeded_url) as app:
        counts = {}
        for first in (5, 50):
            app.statements.clear()
            edges = (await app.data(PAGE, first=first))["search"]["edges"]
            assert len(edges) == first
            assert all(len(edge["node"]["minerals"]) == 12 for edge in edges)
            counts[first] = len(app.statements)
        # the page (summary columns), then the compositions of the whole page at once
        assert counts == {5: 2, 50: 2}
        # aliased lookups of single ingredients are one statement too
        app.statements.clear()
        aliased = '{ a: ingredient(id: "A001") { nutrients { fatG } } ' + (
            'b: ingredient(id: "D063") { minerals { amount } } }'
        )
        data = await app.data(aliased)
        assert data["a"]["nutrients"]["fatG"] is not None
        assert len(app.statements) == 1


async def test_arguments_are_checked_like_rests(seeded_url: str, serve: Any) -> None:
    async with serve(seeded_url, page_size_max=30) as app:
        rest = await app.client.get("/v1/ingredients", params={"q": "seed", "limit": 31})
        assert rest.status_code == 400
        for variables in (
            {"query": "seed", "first": 31},
            {"query": "seed", "first": 0},
            {"query": "!!!"},  # no searchable word
            {"query": "seed", "after": "not-a-cursor"},
            {"query": "x" * 201},
        ):
            app.statements.clear()
            body = (await app.graphql(SEARCH, **variables)).json()
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == rest.json()["code"], variables
            assert app.statements == []


async def _refused(app: Served, document: str) -> set[str]:
    """The codes of an operation refused before it ran; no statement ran for it."""
    app.statements.clear()
    response = await app.graphql(document)
    body = response.json()
    assert response.status_code == 400, body
    assert body.get("data") is None
    assert app.statements == []
    return {error["extensions"]["code"] for error in body["errors"]}


async def test_bombs_are_refused_before_any_statement(seeded_url: str, serve: Any) -> None:
    field = 'search(query: "rice", first: 100) { edges { node { nutrients { fatG } } } }'
    async with serve(seeded_url) as app:
        aliases = " ".join(f"a{i}: {field}" for i in range(16))
        assert await _refused(app, "{ " + aliases + " }") == {"graphql.too_many_aliases"}
        deep = '{ search(query: "rice") { edges { node { nutrients { ' + (
            "a { " * 8 + "}" * 8 + " } } } } }"
        )
        assert "graphql.too_deep" in await _refused(app, deep)
        tokens = "{ " + "__typename " * 2100 + "}"
        assert await _refused(app, tokens) == {"graphql.too_many_tokens"}
        # within the alias limit, 16 root fields cost 16 REST requests' worth: above 15
        rest = ' search(query: "dal") { totalCount } ingredient(id: "A001") { name } }'
        costly = "{ " + " ".join(f"a{i}: {field}" for i in range(14)) + rest
        assert await _refused(app, costly) == {"ratelimit.cost_exceeded"}
        # one root field fewer runs
        cheaper = await app.graphql("{ " + " ".join(f"a{i}: {field}" for i in range(13)) + rest)
        assert cheaper.status_code == 200, cheaper.text
        assert cheaper.json()["extensions"]["cost"]["total"] == 15


def test_public_surface_and_sdl() -> None:
    assert ingredient_graphql.__all__ == ["build_schema", "mount_graphql", "sdl"]
    printed = ingredient_graphql.sdl()
    assert printed == ingredient_graphql.build_schema().as_str()
    assert (
        "search(query: String!, first: Int = 20, after: String = null): IngredientConnection!"
        in (printed)
    )
    assert "ingredient(id: ID!): Ingredient\n" in printed
