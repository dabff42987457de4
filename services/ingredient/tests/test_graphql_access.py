"""Who may use ``/graphql`` and how often: the REST read routes' callers, answers to the
anonymous and the plan budget they share (spent by GraphQL cost, answered 429)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock

SEARCH = '{ search(query: "rice", first: 3) { edges { node { code nutrients { fatG } } } } }'
TWO = '{ a: ingredient(id: "A001") { name } b: ingredient(id: "D063") { name } }'


async def test_anonymous_is_refused_with_rests_code(seeded_url: str, make_client: Any) -> None:
    async with make_client(database_url=seeded_url) as client:
        rest = await client.get("/v1/ingredients", params={"q": "rice"})
        assert rest.status_code == 401
        response = await client.post("/graphql", json={"query": SEARCH})
        body = response.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == rest.json()["code"] == "auth.unauthenticated"
        assert error["extensions"]["status"] == 401
        assert error["path"] == ["search"]
        # invalid credentials are refused before GraphQL, exactly as on REST
        bad = {"X-API-Key": "ik_nope_nope"}
        refused = await client.post("/graphql", json={"query": SEARCH}, headers=bad)
        assert refused.status_code == 401
        assert (
            refused.json()["code"] == (await client.get("/v1/minerals", headers=bad)).json()["code"]
        )


@pytest.mark.parametrize("caller", ["api_key", "token"])
async def test_api_keys_and_tokens_read(
    seeded_url: str, make_client: Any, api_key: str, issuer: Any, caller: str
) -> None:
    headers = (
        {"X-API-Key": api_key}
        if caller == "api_key"
        else {"Authorization": f"Bearer {issuer.token('patient')}"}
    )
    async with make_client(database_url=seeded_url, headers=headers) as client:
        response = await client.post("/graphql", json={"query": SEARCH})
        assert response.status_code == 200
        assert response.json()["data"]["search"]["edges"]


async def test_graphql_cost_spends_the_rest_plan_budget(
    seeded_url: str, make_client: Any, make_key: Any
) -> None:
    free, pro = await make_key("free"), await make_key("pro")
    plans = {"free": "4/minute", "pro": "100/minute", "token": "100/minute"}
    # A clock that stands still: no budget refills while a slow machine sends the requests.
    store = MemoryStore(clock=ManualClock())
    async with make_client(database_url=seeded_url, plans=plans, ratelimit_store=store) as client:
        key = {"X-API-Key": free}
        assert (await client.get("/v1/minerals", headers=key)).status_code == 200  # 1 unit
        one = await client.post("/graphql", json={"query": SEARCH}, headers=key)  # 1 unit
        assert one.status_code == 200
        assert one.json()["extensions"]["cost"]["total"] == 1
        assert one.headers["ratelimit-policy"]
        two = await client.post("/graphql", json={"query": TWO}, headers=key)  # 2 units
        assert two.status_code == 200
        assert two.json()["data"]["a"] == {"name": "Amaranth seed, black"}
        # the budget is spent: GraphQL answers 429 as REST does
        limited = await client.post("/graphql", json={"query": SEARCH}, headers=key)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        body = limited.json()
        assert body["data"] is None
        rest = await client.get("/v1/minerals", headers=key)
        assert rest.status_code == 429
        assert body["errors"][0]["extensions"]["code"] == rest.json()["code"]
        # another plan's key has its own budget
        other = await client.post("/graphql", json={"query": TWO}, headers={"X-API-Key": pro})
        assert other.status_code == 200


INTROSPECTION = "{ __schema { queryType { name } } }"
PRODUCTION = {
    "environment": "production",
    "secret_key": "graphql-tests-" + "0123456789abcdefghijklmnopqrstuvwxyz",
    "allowed_hosts": ["ingredient"],
    "webhook_sealing_keys": "k1:" + base64.b64encode(bytes(range(32))).decode(),
}


async def test_production_has_no_introspection_nor_graphiql(
    seeded_url: str, make_client: Any, issuer: Any
) -> None:
    token = {"Authorization": f"Bearer {issuer.token('practitioner')}"}
    html = {"Accept": "text/html"}
    async with make_client(database_url=seeded_url, headers=token) as client:
        assert (await client.get("/graphql", headers=html)).status_code == 200  # GraphiQL
        schema = await client.post("/graphql", json={"query": INTROSPECTION})
        assert schema.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        # not in the REST API's document
        assert not [
            p for p in (await client.get("/openapi.json")).json()["paths"] if "graphql" in p
        ]
    async with make_client(database_url=seeded_url, headers=token, **PRODUCTION) as client:
        assert (await client.get("/graphql", headers=html)).status_code == 405
        refused = await client.post("/graphql", json={"query": INTROSPECTION})
        assert refused.status_code == 400
        codes = {e["extensions"]["code"] for e in refused.json()["errors"]}
        assert codes == {"graphql.introspection_disabled"}
        ok = await client.post("/graphql", json={"query": SEARCH})
        assert ok.json()["data"]["search"]["edges"]
