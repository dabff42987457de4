"""Idempotency-Key on creating POSTs: a retry replays, never creates twice."""

from __future__ import annotations

from typing import Any


async def test_a_retried_panel_submission_creates_one_panel(client: Any) -> None:
    clinic = await client.clinic("northside")
    body = {
        "patient_id": clinic.patient_id, "sampled_on": "2026-11-20",
        "minerals": {"Ca": 40, "Mg": 6, "Na": 25, "K": 10, "P": 16, "Zn": 16, "Cu": 2.5, "Fe": 2.2},
    }  # fmt: skip
    headers = {**clinic.practitioner, "Idempotency-Key": "panel-0001"}
    first = await client.http.post("/v1/panels", headers=headers, json=body)
    second = await client.http.post("/v1/panels", headers=headers, json=body)
    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    panels = (await client.http.get("/v1/panels", headers=clinic.practitioner)).json()
    assert len(panels) == 1
    changed = await client.http.post(
        "/v1/panels", headers=headers, json={**body, "sampled_on": "2026-11-21"}
    )
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"


async def test_a_retried_signup_replays_the_first_answer(client: Any) -> None:
    body = {
        "clinic_id": "eastside", "clinic_name": "Eastside", "email": "admin@eastside.example",
        "password": "correct horse battery staple", "display_name": "Eve",
    }  # fmt: skip
    headers = {"Idempotency-Key": "signup-eastside"}
    first = await client.http.post("/v1/auth/signup", headers=headers, json=body)
    again = await client.http.post("/v1/auth/signup", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    without_key = await client.http.post("/v1/auth/signup", json=body)
    assert without_key.status_code == 409  # no key: a plain duplicate
