"""Panels and results over HTTP: submit, compute, read; roles and validation."""

from __future__ import annotations

from typing import Any


async def test_practitioner_submits_and_the_result_is_computed(client: Any) -> None:
    clinic = await client.clinic("northside")
    submitted = await client.submit_panel(clinic)
    assert submitted.status_code == 202
    panel = submitted.json()
    assert panel["unit"] == "mg%"
    assert panel["practitioner_id"] == clinic.practitioner_id
    result = await client.http.get(f"/v1/panels/{panel['id']}/result", headers=clinic.practitioner)
    assert result.status_code == 200
    body = result.json()
    ratios = {r["name"]: r for r in body["analysis"]["ratios"]}
    assert set(ratios) == {"Ca/Mg", "Na/K", "Ca/P", "Zn/Cu", "Fe/Cu", "Ca/K"}
    assert ratios["Ca/Mg"]["value"] == round(42.0 / 3.1, 3)
    assert ratios["Ca/Mg"]["flag"] == "high"
    assert body["deficient"] == ["Mg", "Zn"]
    assert body["reference_version"] == "htma-ref-2026.1"
    again = await client.http.get(f"/v1/panels/{panel['id']}", headers=clinic.practitioner)
    assert again.json()["status"] == "ready"


async def test_patients_see_their_own_panels_only(client: Any) -> None:
    clinic = await client.clinic("northside")
    panel = (await client.submit_panel(clinic)).json()
    mine = await client.http.get("/v1/panels", headers=clinic.patient)
    assert [p["id"] for p in mine.json()] == [panel["id"]]
    result = await client.http.get(f"/v1/panels/{panel['id']}/result", headers=clinic.patient)
    assert result.status_code == 200
    # a second patient of the same clinic sees nothing of the first one's
    await client.http.post(
        "/v1/users",
        headers=clinic.admin,
        json={"email": "other@northside.example", "password": "correct horse battery staple",
              "display_name": "Other", "role": "patient"},
    )  # fmt: skip
    other = await client.bearer("other@northside.example")
    assert (await client.http.get("/v1/panels", headers=other)).json() == []
    hidden = await client.http.get(f"/v1/panels/{panel['id']}", headers=other)
    assert hidden.status_code == 404


async def test_only_practitioners_submit(client: Any) -> None:
    clinic = await client.clinic("northside")
    for headers in (clinic.patient, clinic.admin):
        response = await client.http.post(
            "/v1/panels",
            headers=headers,
            json={"patient_id": clinic.patient_id, "sampled_on": "2026-11-20",
                  "minerals": {"Ca": 1}},
        )  # fmt: skip
        assert response.status_code == 403


async def test_invalid_panels_are_422_problems(client: Any) -> None:
    clinic = await client.clinic("northside")
    response = await client.submit_panel(clinic, Cu=0.0)
    assert response.status_code == 422
    assert response.json()["code"] == "htma.invalid_panel"
    assert "Cu must be > 0" in response.json()["detail"]
    unknown = await client.submit_panel(clinic, Pb=1.0)
    assert "unknown minerals: Pb" in unknown.json()["detail"]


async def test_panels_for_non_patients_are_refused(client: Any) -> None:
    clinic = await client.clinic("northside")
    response = await client.http.post(
        "/v1/panels",
        headers=clinic.practitioner,
        json={"patient_id": clinic.practitioner_id, "sampled_on": "2026-11-20",
              "minerals": {"Ca": 1}},
    )  # fmt: skip
    assert response.status_code == 404
    assert response.json()["code"] == "htma.not_found"
