"""A clinic's GraphQL callers read nothing of another clinic: by id, alias, fragment or
forged cursor, the other clinic's rows (which exist) never appear in an answer."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import pytest

NODE = "id patientId practitionerId minerals { value } result { panelId ratios { name flag } }"


async def post(client: Any, headers: dict[str, str], query: str, **variables: Any) -> Any:
    response = await client.http.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    return response


def forged_cursor(panel: dict[str, Any]) -> str:
    """A cursor positioned just before ``panel`` (as if it came from its own clinic)."""
    moment = datetime.fromisoformat(panel["created_at"].replace("Z", "+00:00"))
    raw = f"{moment.isoformat()}|{'0' * 31}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.fixture
async def clinics(client: Any) -> tuple[Any, Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Alpha with one panel, bravo with two; bravo's rows are there to be read by bravo."""
    a = await client.clinic("alpha")
    b = await client.clinic("bravo")
    mine = [(await client.submit_panel(a)).json()]
    theirs = [(await client.submit_panel(b, Ca=50.0 + i)).json() for i in range(2)]
    seen = await post(
        client, b.practitioner, f"{{ clinics {{ id panels {{ nodes {{ {NODE} }} }} }} }}"
    )
    [bravo] = seen.json()["data"]["clinics"]
    assert bravo["id"] == "bravo"
    assert {n["id"] for n in bravo["panels"]["nodes"]} == {p["id"] for p in theirs}
    assert all(n["result"]["ratios"] for n in bravo["panels"]["nodes"])
    return a, b, mine, theirs


def assert_nothing_of(response: Any, clinic: Any, panels: list[dict[str, Any]]) -> None:
    text = response.text
    for secret in (*(p["id"] for p in panels), clinic.patient_id, clinic.practitioner_id):
        assert secret not in text
    assert "Bravo" not in text


@pytest.mark.parametrize("role", ["practitioner", "admin", "patient"])
async def test_by_id(client: Any, clinics: Any, role: str) -> None:
    a, b, _mine, theirs = clinics
    headers = getattr(a, role)
    query = f"""query($clinic: ID!, $panel: ID!) {{
      clinic(id: $clinic) {{ id name panels {{ nodes {{ {NODE} }} }} }}
      panel(id: $panel) {{ {NODE} }}
    }}"""
    for panel in theirs:
        response = await post(client, headers, query, clinic="bravo", panel=panel["id"])
        assert response.json()["data"] == {"clinic": None, "panel": None}
        assert_nothing_of(response, b, theirs)
        rest = await client.http.get(f"/v1/panels/{panel['id']}", headers=headers)
        assert rest.status_code == 404


async def test_by_alias(client: Any, clinics: Any) -> None:
    a, b, mine, theirs = clinics
    aliases = " ".join(
        f'p{i}: panel(id: "{p["id"]}") {{ {NODE} }}' for i, p in enumerate([*theirs, *mine])
    )
    query = f"""{{
      own: clinics {{ id panels {{ nodes {{ id }} }} }}
      other: clinic(id: "bravo") {{ id }}
      again: clinic(id: "BRAVO") {{ id }}
      {aliases}
    }}"""
    response = await post(client, a.practitioner, query)
    data = response.json()["data"]
    assert [c["id"] for c in data["own"]] == ["alpha"]
    assert [n["id"] for n in data["own"][0]["panels"]["nodes"]] == [mine[0]["id"]]
    assert data["other"] is data["again"] is data["p0"] is data["p1"] is None
    assert data["p2"]["id"] == mine[0]["id"]
    assert_nothing_of(response, b, theirs)


async def test_by_fragment(client: Any, clinics: Any) -> None:
    a, b, _mine, theirs = clinics
    query = f"""
    query {{ ...Root }}
    fragment Root on Query {{
      clinic(id: "bravo") {{ ...C }}
      clinics {{ ...C }}
      panel(id: "{theirs[0]["id"]}") {{ ...P }}
    }}
    fragment C on Clinic {{ id panels(first: 20) {{ nodes {{ ...P clinic {{ id }} }} }} }}
    fragment P on Panel {{ {NODE} }}
    """
    response = await post(client, a.practitioner, query)
    data = response.json()["data"]
    assert data["clinic"] is None
    assert data["panel"] is None
    assert {n["clinic"]["id"] for n in data["clinics"][0]["panels"]["nodes"]} == {"alpha"}
    assert_nothing_of(response, b, theirs)


async def test_by_forged_cursor(client: Any, clinics: Any) -> None:
    a, b, mine, theirs = clinics
    query = f"""query($after: String) {{
      clinics {{ panels(first: 100, after: $after) {{ nodes {{ {NODE} }} }} }}
    }}"""
    for panel in theirs:
        response = await post(client, a.practitioner, query, after=forged_cursor(panel))
        nodes = response.json()["data"]["clinics"][0]["panels"]["nodes"]
        assert {n["id"] for n in nodes} <= {mine[0]["id"]}
        assert_nothing_of(response, b, theirs)


async def test_a_patient_reads_no_other_patient(client: Any, clinics: Any) -> None:
    a, _b, mine, _theirs = clinics
    created = await client.http.post(
        "/v1/users",
        headers=a.admin,
        json={"email": "olive@alpha.example", "password": "correct horse battery staple",
              "display_name": "Olive", "role": "patient"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    olive = await client.bearer("olive@alpha.example")
    query = f"""{{ panel(id: "{mine[0]["id"]}") {{ id }}
                  clinics {{ panels {{ nodes {{ {NODE} }} }} }} }}"""
    response = await post(client, olive, query)
    assert response.json()["data"] == {"panel": None, "clinics": [{"panels": {"nodes": []}}]}
    assert mine[0]["id"] not in response.text
    rest = await client.http.get(f"/v1/panels/{mine[0]['id']}/result", headers=olive)
    assert rest.status_code == 404
