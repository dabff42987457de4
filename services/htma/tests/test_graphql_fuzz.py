"""Schema-driven fuzzing of /graphql: operations generated from ``sdl()`` by
hypothesis-graphql, sent as each of a clinic's users. Nothing answers 5xx, every error
carries a code and none is the masked internal error, and no other clinic shows.

The operations are drawn first (derandomized: the same ~50 every run), then sent over
the app's ASGI client; a failure names the operation.
"""

from __future__ import annotations

from typing import Any

from htma.graphql import sdl
from htma.migrate import MIGRATIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

EXAMPLES = 50
#: A budget no fuzzing run exhausts: the operations are judged, not the rate limit.
PLANS = {"standard": "1000000/minute"}
MASKED = {"ops.internal_error", "internal"}


def draw_operations() -> list[tuple[str, int]]:
    """``EXAMPLES`` generated operations, each with the index of the user sending it."""
    drawn: list[tuple[str, int]] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(query=queries(sdl()), who=st.integers(min_value=0, max_value=2))
    def draw(query: str, who: int) -> None:
        drawn.append((query, who))

    draw()
    return drawn


async def test_generated_operations_never_fail_internally(
    sqlite_url: str, make_client: Any
) -> None:
    await MIGRATIONS.upgrade(sqlite_url)
    async with make_client(database_url=sqlite_url, plans=PLANS) as client:
        other = await client.clinic("other")  # its rows must never show
        assert (await client.submit_panel(other)).status_code == 202
        clinic = await client.clinic("fuzz")
        for _ in range(3):
            assert (await client.submit_panel(clinic)).status_code == 202
        users = [clinic.admin, clinic.practitioner, clinic.patient]
        operations = draw_operations()
        assert len(operations) >= EXAMPLES // 2
        answered = 0
        for query, who in operations:
            response = await client.http.post("/graphql", headers=users[who], json={"query": query})
            assert response.status_code < 500, (query, response.text)
            body = response.json()
            for error in body.get("errors") or []:
                code = error.get("extensions", {}).get("code")
                assert code, (query, error)
                assert code not in MASKED, (query, error)
            answered += bool(body.get("data"))
            assert "other" not in str(body.get("data")), (query, body)
    assert answered > len(operations) // 2, answered
