"""What a GraphQL operation costs the database: a bounded number of statements whatever
the page size, and none at all for an operation refused before it runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from htma.migrate import MIGRATIONS
from spaps_ops.db import get_database
from sqlalchemy import event

PAGE = """
query($first: Int!) {
  clinics {
    id name
    panels(first: $first) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id status minerals { symbol value }
        clinic { id name }
        result { panelId deficient ratios { name value flag } minerals { symbol flag } }
      } }
    }
  }
}
"""
#: Deeper than the schema's limit, through the back reference Panel.clinic.
DEEP = (
    "{ clinics { panels { nodes { clinic { panels { nodes { clinic { panels { nodes {"
    " clinic { id } } } } } } } } } } }"
)


@pytest.fixture
async def client(database_url: str, make_client: Any) -> Any:
    """A client whose session checks stay cached (the statements counted are the
    operation's own), on each back end."""
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, session_check_ttl=300) as c:
        yield c


@contextmanager
def statements(client: Any) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    seen: list[str] = []
    engine = get_database(client.app).engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def run(client: Any, headers: dict[str, str], query: str, **variables: Any) -> Any:
    return await client.http.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )


async def test_the_same_statements_for_5_and_50_panels(client: Any) -> None:
    few, many = await client.clinic("alpha"), await client.clinic("bravo")
    for clinic, count in ((few, 5), (many, 50)):
        for _ in range(count):
            assert (await client.submit_panel(clinic)).status_code == 202
    counts = []
    for clinic, count in ((few, 5), (many, 50)):
        warm = await run(client, clinic.practitioner, "{ clinics { id } }")
        assert warm.status_code == 200, warm.text
        with statements(client) as seen:
            response = await run(client, clinic.practitioner, PAGE, first=50)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        edges = body["data"]["clinics"][0]["panels"]["edges"]
        assert len(edges) == count
        assert all(e["node"]["result"]["ratios"] for e in edges)
        assert {e["node"]["clinic"]["id"] for e in edges} == {clinic.id}
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    # clinic, page of panels, results (and PostgreSQL's per-transaction tenant setting)
    assert 3 <= counts[0] <= 5, counts


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (DEEP, "graphql.too_deep"),
        ("{ " + " ".join(f"a{i}: clinics {{ id }}" for i in range(16)) + " }",
         "graphql.too_many_aliases"),
        ("{ clinics { id " + "name " * 2100 + "} }", "graphql.too_many_tokens"),
        ('{ a: clinics { panels(first: 100) { nodes { result { panelId } clinic { id } } } }'
         '  b: clinics { panels(first: 100) { nodes { result { panelId } } } } }',
         "ratelimit.cost_exceeded"),
    ],
)  # fmt: skip
async def test_refused_before_any_statement(client: Any, query: str, code: str) -> None:
    a = await client.clinic("alpha")
    assert (await client.submit_panel(a)).status_code == 202
    warm = await run(client, a.practitioner, "{ clinics { id } }")
    assert warm.status_code == 200, warm.text
    with statements(client) as seen:
        response = await run(client, a.practitioner, query)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert response.json().get("data") is None
    assert seen == []
