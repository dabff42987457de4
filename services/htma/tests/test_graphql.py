"""GraphQL at /graphql serves what REST serves, to whom REST serves it, and nothing more."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import pytest
from htma.migrate import MIGRATIONS

PANEL_FIELDS = """
  id patientId practitionerId sampledOn status unit createdAt
  minerals { symbol value }
  result {
    panelId referenceVersion deficient computedAt
    ratios { name value ideal low high flag meaning }
    minerals { symbol value unit low high flag }
  }
"""
PANELS = f"""
query Panels($first: Int!, $after: String) {{
  clinics {{
    id name
    panels(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {PANEL_FIELDS} }} }}
    }}
  }}
}}
"""


async def gql(client: Any, headers: dict[str, str], query: str, **variables: Any) -> Any:
    """The data of a successful operation (a failed one fails the test)."""
    response = await client.http.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def all_panels(client: Any, headers: dict[str, str], first: int) -> list[dict[str, Any]]:
    """Every panel the caller's clinic shows, page after page."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await gql(client, headers, PANELS, first=first, after=after)
        [clinic] = data["clinics"]
        page = clinic["panels"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a.replace("Z", "+00:00")) == datetime.fromisoformat(
        b.replace("Z", "+00:00")
    )


async def assert_agrees_with_rest(client: Any, headers: dict[str, str]) -> int:
    """GraphQL's panels and results are REST's, in REST's order; returns how many."""
    rest = (await client.http.get("/v1/panels?limit=100", headers=headers)).json()
    nodes = await all_panels(client, headers, first=2)
    assert [n["id"] for n in nodes] == [p["id"] for p in rest]
    for node, panel in zip(nodes, rest, strict=True):
        assert (node["patientId"], node["practitionerId"], node["sampledOn"]) == (
            panel["patient_id"], panel["practitioner_id"], panel["sampled_on"]
        )  # fmt: skip
        assert (node["status"].lower(), node["unit"]) == (panel["status"], panel["unit"])
        assert {m["symbol"]: m["value"] for m in node["minerals"]} == panel["minerals"]
        assert same_instant(node["createdAt"], panel["created_at"])
        result = await client.http.get(f"/v1/panels/{panel['id']}/result", headers=headers)
        if result.status_code == 409:
            assert node["result"] is None
            continue
        assert result.status_code == 200, result.text
        expected = result.json()
        got = node["result"]
        assert got["panelId"] == expected["panel_id"] == panel["id"]
        assert got["referenceVersion"] == expected["reference_version"]
        assert got["deficient"] == expected["deficient"]
        assert got["ratios"] == expected["analysis"]["ratios"]
        assert got["minerals"] == expected["analysis"]["minerals"]
        assert same_instant(got["computedAt"], expected["computed_at"])
    return len(nodes)


async def add_patient(client: Any, clinic: Any, name: str) -> tuple[str, dict[str, str]]:
    created = await client.http.post(
        "/v1/users",
        headers=clinic.admin,
        json={"email": f"{name}@{clinic.id}.example", "password": "correct horse battery staple",
              "display_name": name.title(), "role": "patient"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return created.json()["id"], await client.bearer(f"{name}@{clinic.id}.example")


async def test_graphql_and_rest_agree_for_every_role(client: Any) -> None:
    a = await client.clinic("alpha")
    other_id, other = await add_patient(client, a, "olive")
    for _ in range(3):
        assert (await client.submit_panel(a)).status_code == 202
    for _ in range(2):
        submitted = await client.http.post(
            "/v1/panels",
            headers=a.practitioner,
            json={"patient_id": other_id, "sampled_on": "2026-11-21",
                  "minerals": {"Ca": 40, "Mg": 6, "Na": 25, "K": 10, "P": 16, "Zn": 16,
                               "Cu": 2.5, "Fe": 2.2}},
        )  # fmt: skip
        assert submitted.status_code == 202, submitted.text
    assert await assert_agrees_with_rest(client, a.practitioner) == 5
    assert await assert_agrees_with_rest(client, a.admin) == 5
    # patients: their own panels only, in both APIs
    assert await assert_agrees_with_rest(client, a.patient) == 3
    assert await assert_agrees_with_rest(client, other) == 2
    data = await gql(client, other, PANELS, first=10)
    assert {e["node"]["patientId"] for e in data["clinics"][0]["panels"]["edges"]} == {other_id}


async def test_a_pending_panel_has_no_result_in_either_api(
    database_url: str, make_client: Any
) -> None:
    await MIGRATIONS.upgrade(database_url)
    # worker mode with no worker running: the panel stays pending
    async with make_client(database_url=database_url, compute_mode="worker") as client:
        a = await client.clinic("alpha")
        assert (await client.submit_panel(a)).status_code == 202
        assert await assert_agrees_with_rest(client, a.practitioner) == 1
        [node] = await all_panels(client, a.practitioner, first=5)
        assert (node["status"], node["result"]) == ("PENDING", None)


async def test_pages_follow_the_cursor(client: Any) -> None:
    a = await client.clinic("alpha")
    ids = [(await client.submit_panel(a)).json()["id"] for _ in range(5)]
    one = await gql(client, a.practitioner, PANELS, first=5)
    page = one["clinics"][0]["panels"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[::-1]
    assert page["pageInfo"] == {"hasNextPage": False, "endCursor": page["edges"][-1]["cursor"]}
    middle = page["edges"][1]["cursor"]
    rest = await gql(client, a.practitioner, PANELS, first=2, after=middle)
    assert [e["node"]["id"] for e in rest["clinics"][0]["panels"]["edges"]] == ids[::-1][2:4]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"first": 5, "after": "nope"}, "after"),
     ({"first": 5, "after": base64.urlsafe_b64encode(b"2026-01-01T00:00:00|x").decode()}, "after")],
)  # fmt: skip
async def test_bad_arguments_are_refused_as_rest_refuses_them(
    client: Any, variables: dict[str, Any], field: str
) -> None:
    a = await client.clinic("alpha")
    response = await client.http.post(
        "/graphql", headers=a.practitioner, json={"query": PANELS, "variables": variables}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "ops.validation_failed"
    assert field in error["message"]
    rest = await client.http.get("/v1/panels?limit=101", headers=a.practitioner)
    assert rest.json()["code"] == "ops.validation_failed"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_anonymous_is_refused_as_rest_refuses_it(
    client: Any, headers: dict[str, str]
) -> None:
    await client.clinic("alpha")
    rest = await client.http.get("/v1/panels", headers=headers)
    graphql = await client.http.post("/graphql", headers=headers, json={"query": PANELS})
    assert rest.status_code == graphql.status_code == 401
    assert graphql.json()["code"] == rest.json()["code"]
    assert graphql.json()["code"].startswith("auth.")
    assert "alpha" not in graphql.text


async def test_get_is_not_served(client: Any) -> None:
    a = await client.clinic("alpha")
    response = await client.http.get(
        "/graphql", headers=a.practitioner, params={"query": "{ clinics { id } }"}
    )
    assert response.status_code in {404, 405}
