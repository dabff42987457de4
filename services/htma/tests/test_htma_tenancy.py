"""Clinic A can never see clinic B's data over HTTP: one test per resource."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
async def two(client: Any) -> tuple[Any, Any]:
    a = await client.clinic("alpha")
    b = await client.clinic("bravo")
    return a, b


async def test_users(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    seen = await client.http.get("/v1/users", headers=b.admin)
    assert {u["clinic_id"] for u in seen.json()} == {"bravo"}
    assert a.patient_id not in {u["id"] for u in seen.json()}
    by_practitioner = await client.http.get("/v1/users?role=patient", headers=b.practitioner)
    assert [u["id"] for u in by_practitioner.json()] == [b.patient_id]


async def test_panels(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    panel = (await client.submit_panel(a)).json()
    for headers in (b.practitioner, b.admin, b.patient):
        assert (await client.http.get("/v1/panels", headers=headers)).json() == []
        hidden = await client.http.get(f"/v1/panels/{panel['id']}", headers=headers)
        assert hidden.status_code == 404
    # and B cannot file a panel against A's patient
    cross = await client.http.post(
        "/v1/panels",
        headers=b.practitioner,
        json={"patient_id": a.patient_id, "sampled_on": "2026-11-20",
              "minerals": {"Ca": 40, "Mg": 6, "Na": 25, "K": 10, "P": 16, "Zn": 16, "Cu": 2.5,
                           "Fe": 2.2}},
    )  # fmt: skip
    assert cross.status_code == 404


async def test_results(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    panel = (await client.submit_panel(a)).json()
    assert (
        await client.http.get(f"/v1/panels/{panel['id']}/result", headers=a.practitioner)
    ).status_code == 200
    for headers in (b.practitioner, b.admin, b.patient):
        hidden = await client.http.get(f"/v1/panels/{panel['id']}/result", headers=headers)
        assert hidden.status_code == 404


async def test_messages(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    sent = await client.http.post(
        "/v1/messages",
        headers=a.patient,
        json={"recipient_id": a.practitioner_id, "body": "alpha secret"},
    )
    assert sent.status_code == 201
    for headers in (b.practitioner, b.patient):
        bodies = [
            m["body"] for m in (await client.http.get("/v1/messages", headers=headers)).json()
        ]
        assert "alpha secret" not in bodies
    cross = await client.http.post(
        "/v1/messages",
        headers=b.patient,
        json={"recipient_id": a.practitioner_id, "body": "hello from bravo"},
    )
    assert cross.status_code == 404
    assert (await client.http.get("/v1/messages", headers=a.practitioner)).json()[0]["body"] == (
        "alpha secret"
    )


async def test_users_me_stays_in_its_clinic(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    me_a = (await client.http.get("/v1/me", headers=a.patient)).json()
    me_b = (await client.http.get("/v1/me", headers=b.patient)).json()
    assert (me_a["clinic_id"], me_b["clinic_id"]) == ("alpha", "bravo")


async def test_webhook_endpoints(client: Any, two: tuple[Any, Any]) -> None:
    a, b = two
    created = await client.http.post(
        "/v1/webhooks/endpoints",
        headers=a.admin,
        json={"url": "https://93.184.215.14/hooks", "event_types": ["result.ready.v1"]},
    )
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["id"]
    assert (await client.http.get("/v1/webhooks/endpoints", headers=b.admin)).json() == []
    hidden = await client.http.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=b.admin)
    assert hidden.status_code == 404
    # and only lab admins manage them
    denied = await client.http.get("/v1/webhooks/endpoints", headers=a.practitioner)
    assert denied.status_code == 403
