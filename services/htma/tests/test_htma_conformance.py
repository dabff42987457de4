"""Protocol conformance of htma's answers: every timestamp carries a UTC offset (issue 15),
and request models refuse non-finite numbers with 422 problem+json (issue 25)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from htma.accounts.router import router as users
from htma.clinics.invitations import router as invitations
from htma.erasure.router import router as erasure
from htma.identity.credentials_router import router as credentials
from htma.identity.router import router as identity
from htma.messaging.router import router as messages
from htma.panels.router import router as panels
from pydantic import BaseModel

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _timestamps(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _timestamps(item)
    elif isinstance(value, list):
        for item in value:
            yield from _timestamps(item)
    elif isinstance(value, str) and ISO.match(value):
        yield value


async def test_every_timestamp_in_the_responses_has_an_offset(client: Any) -> None:
    clinic = await client.clinic("northside")
    panel = (await client.submit_panel(clinic)).json()
    await client.send_message(clinic.practitioner, clinic.patient_id, "Hello")
    invited = await client.http.post(
        "/v1/clinic/invitations", headers=clinic.admin,
        json={"email": "new@northside.example", "role": "patient"},
    )  # fmt: skip
    bodies = [panel, invited.json()]
    for path, headers in [
        ("/v1/panels", clinic.practitioner), (f"/v1/panels/{panel['id']}", clinic.practitioner),
        (f"/v1/panels/{panel['id']}/result", clinic.practitioner),
        ("/v1/messages", clinic.patient), ("/v1/auth/sessions", clinic.patient),
    ]:  # fmt: skip
        response = await client.http.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        bodies.append(response.json())
    stamps = [s for body in bodies for s in _timestamps(body)]
    assert len(stamps) >= 8  # panels, result, message, invitation, sessions
    for stamp in stamps:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert parsed.utcoffset() is not None, stamp


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
async def test_non_finite_minerals_are_refused(client: Any, number: str) -> None:
    clinic = await client.clinic("northside")
    body = (
        (
            '{"patient_id": "PATIENT", "sampled_on": "2026-11-20", "minerals": {"Ca": NUMBER, '
            '"Mg": 3.1, "Na": 24.0, "K": 9.5, "P": 15.0, "Zn": 11.0, "Cu": 2.6, "Fe": 2.0}}'
        )
        .replace("PATIENT", clinic.patient_id)
        .replace("NUMBER", number)
    )
    response = await client.http.post(
        "/v1/panels", headers={**clinic.practitioner, "content-type": "application/json"},
        content=body,
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.http.get("/v1/panels", headers=clinic.practitioner)).json() == []


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation)
    for arg in getattr(annotation, "__args__", ()):
        yield from _models(arg)


def _has_float(model: type[BaseModel]) -> bool:
    return any("float" in repr(f.annotation) for f in model.model_fields.values())


def test_every_request_model_with_floats_refuses_non_finite_numbers(make_app: Any) -> None:
    """Every htma router's request bodies; the spec's writing operations are all covered."""
    routers = [identity, credentials, invitations, users, panels, messages, erasure]
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    models = {
        model
        for route in routes
        if route.body_field is not None
        for model in _models(route.body_field.field_info.annotation)
    }
    assert any(m.__name__ == "PanelIn" for m in models)  # the walk finds the body models
    with_floats = [m for m in models if _has_float(m)]
    assert with_floats
    for model in with_floats:
        assert model.model_config.get("allow_inf_nan") is False, model.__name__
    covered = {(m, r.path) for r in routes for m in r.methods}
    spec = make_app().openapi()
    writing = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    # The rest come from spaps-auth (refresh) and spaps-webhooks (endpoints), not htma.
    foreign = {p for _, p in writing if p in {"/v1/auth/refresh"} or p.startswith("/v1/webhooks")}
    assert {(m, p) for m, p in writing if p not in foreign} <= covered
