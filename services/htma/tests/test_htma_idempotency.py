"""Idempotency-Key on creating POSTs: a retry replays, never creates twice."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"
#: What the middleware answers, by status (spaps-jobs' codes).
ANSWERS = {
    "400": "jobs.idempotency_key_invalid",
    "409": "jobs.idempotency_key_in_use",
    "413": "jobs.idempotency_body_too_large",
    "422": "jobs.idempotency_key_mismatch",
}


def _panel(patient_id: str) -> dict[str, Any]:
    return {
        "patient_id": patient_id, "sampled_on": "2026-11-20",
        "minerals": {"Ca": 40, "Mg": 6, "Na": 25, "K": 10, "P": 16, "Zn": 16, "Cu": 2.5, "Fe": 2.2},
    }  # fmt: skip


def _documented(operation: dict[str, Any], status: str, code: str) -> dict[str, Any]:
    body: dict[str, Any] = operation["responses"][status]["content"][PROBLEM]["examples"][code]
    return body["value"]


async def test_a_retried_panel_submission_creates_one_panel(client: Any) -> None:
    clinic = await client.clinic("northside")
    body = _panel(clinic.patient_id)
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
    assert changed.headers["content-type"] == PROBLEM
    documented = _documented(
        client.app.openapi()["paths"]["/v1/panels"]["post"], "422", ANSWERS["422"]
    )
    assert changed.json()["code"] == documented["code"]


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


async def test_every_post_documents_the_header_and_what_the_middleware_answers(
    client: Any,
) -> None:
    spec = client.app.openapi()
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = [
                p for p in operation.get("parameters", [])
                if p["in"] == "header" and p["name"] == "Idempotency-Key"
            ]  # fmt: skip
            if method != "post":  # the middleware covers POSTs only
                assert not headers, (method, path)
                continue
            assert len(headers) == 1, path
            assert headers[0]["schema"]["maxLength"] == 255
            for status, code in ANSWERS.items():
                assert _documented(operation, status, code)["code"] == code, (path, status)
            ok = next(r for s, r in operation["responses"].items() if s.startswith("2"))
            assert {"Idempotent-Replayed", "Idempotency-Expires"} <= set(ok["headers"])
            checked += 1
    assert checked >= 15
    submit = spec["paths"]["/v1/panels"]["post"]
    # The stack's and the route's own entries stay beside the middleware's.
    assert {"ops.bad_request", ANSWERS["400"]} <= set(
        submit["responses"]["400"]["content"][PROBLEM]["examples"]
    )
    assert "ops.validation_failed" in submit["responses"]["422"]["content"][PROBLEM]["examples"]

    # The longest documented key is accepted; one character more is the documented 400.
    clinic = await client.clinic("northside")
    longest = {**clinic.practitioner, "Idempotency-Key": "k" * 255}
    accepted = await client.http.post("/v1/panels", headers=longest, json=_panel(clinic.patient_id))
    assert accepted.status_code == 202
    assert accepted.headers["idempotency-expires"]
    too_long = {**clinic.practitioner, "Idempotency-Key": "k" * 256}
    refused = await client.http.post("/v1/panels", headers=too_long, json=_panel(clinic.patient_id))
    assert refused.status_code == 400
    documented = _documented(submit, "400", ANSWERS["400"])
    answered = refused.json()
    assert {k: answered[k] for k in ("type", "title", "status", "code")} == {
        k: documented[k] for k in ("type", "title", "status", "code")
    }


def test_the_document_is_completed_once(make_app: Any) -> None:
    app = make_app()
    spec = app.openapi()
    submit = spec["paths"]["/v1/panels"]["post"]
    assert [p for p in submit["parameters"] if p["name"] == "Idempotency-Key"]
    # FastAPI hands the cached document back; a second walk would add the header again.
    submit["parameters"] = [p for p in submit["parameters"] if p["name"] != "Idempotency-Key"]
    again = app.openapi()
    assert again is spec
    assert not [p for p in again["paths"]["/v1/panels"]["post"]["parameters"]
                if p["name"] == "Idempotency-Key"]  # fmt: skip
