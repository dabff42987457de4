"""A GraphQL operation spends its cost from the clinic's plan budget, the one REST
requests spend one unit of: the two APIs share it, and a spent budget refuses both."""

from __future__ import annotations

from typing import Any

from htma.migrate import MIGRATIONS
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock

#: Costs three units: each root field reads the database once.
THREE = '{ a: clinics { id } b: clinic(id: "alpha") { id } c: panel(id: "none") { id } }'


async def test_graphql_and_rest_share_the_clinic_budget(
    database_url: str, make_client: Any
) -> None:
    await MIGRATIONS.upgrade(database_url)
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    plans = {"standard": "8/minute"}
    async with make_client(database_url=database_url, plans=plans, ratelimit_store=store) as client:
        a = await client.clinic("alpha")  # 2 of alpha's 8 (two user creations)
        b = await client.clinic("bravo")
        one = await client.http.post("/graphql", headers=a.practitioner, json={"query": THREE})
        assert one.status_code == 200, one.text
        assert one.json()["extensions"]["cost"] == {"total": 3, "remaining": 3}
        assert "ratelimit" in {name.lower() for name in one.headers}
        rest = [
            (await client.http.get("/v1/panels", headers=a.practitioner)).status_code
            for _ in range(4)
        ]
        assert rest == [200, 200, 200, 429]  # the REST calls found 3 units left
        refused = await client.http.post(
            "/graphql", headers=a.practitioner, json={"query": "{ clinics { id } }"}
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "ratelimit.rate_limited"
        assert refused.json().get("data") is None
        # another clinic's budget is its own
        other = await client.http.post("/graphql", headers=b.practitioner, json={"query": THREE})
        assert other.status_code == 200, other.text
        clock.advance(60)
        again = await client.http.post("/graphql", headers=a.practitioner, json={"query": THREE})
        assert again.status_code == 200, again.text
