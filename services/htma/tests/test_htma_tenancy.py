"""Clinic A can never see clinic B's data over HTTP: one test per resource."""

from __future__ import annotations

from typing import Any

import pytest
from htma.db import create_sessionmaker
from htma.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from spaps_tenancy import tenant_context
from sqlalchemy import text


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
    sent = await client.send_message(a.patient, a.practitioner_id, "alpha secret")
    assert sent.status_code == 201
    for headers in (b.practitioner, b.patient):
        bodies = [
            m["body"] for m in (await client.http.get("/v1/messages", headers=headers)).json()
        ]
        assert "alpha secret" not in bodies
    cross = await client.send_message(b.patient, a.practitioner_id, "hello from bravo")
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


@pytest.mark.postgres
async def test_row_level_security_is_a_second_wall(pg_url: str, unique_name: str) -> None:
    """Raw SQL as the application role (not the owner) only sees the current clinic."""
    await MIGRATIONS.upgrade(pg_url)
    async with open_engine(pg_url) as owner, owner.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO clinics (id, name, plan, created_at) VALUES "
                "('alpha', 'A', 'standard', now()), ('bravo', 'B', 'standard', now())"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO users (id, clinic_id, email, display_name, role, created_at) VALUES "
                "('ua', 'alpha', 'a@x.example', 'A', 'patient', now()), "
                "('ub', 'bravo', 'b@x.example', 'B', 'patient', now())"
            )
        )
        for tenant, user in (("alpha", "ua"), ("bravo", "ub")):
            await conn.execute(
                text(
                    "INSERT INTO panels (id, tenant_id, patient_id, practitioner_id, sampled_on,"
                    " status, calcium_mg_pct, magnesium_mg_pct, sodium_mg_pct, potassium_mg_pct,"
                    " phosphorus_mg_pct, zinc_mg_pct, copper_mg_pct, iron_mg_pct, created_at)"
                    " VALUES (:id, :tenant, :user, :user, '2026-11-20', 'pending',"
                    " 40, 6, 25, 10, 16, 16, 2.5, 2.2, now())"
                ),
                {"id": f"p-{tenant}", "tenant": tenant, "user": user},
            )
        role = unique_name
        await conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        await conn.execute(text(f"GRANT SELECT ON panels, results, messages TO {role}"))
    app_url = pg_url.replace("postgres@", f"{role}@", 1)
    try:
        async with open_engine(app_url) as engine:
            sessions = create_sessionmaker(engine)
            with tenant_context("alpha"):
                async with sessions() as session:
                    rows = (await session.execute(text("SELECT id FROM panels"))).scalars().all()
            assert rows == ["p-alpha"]
            async with sessions() as session:  # no clinic set: nothing at all
                assert (await session.execute(text("SELECT id FROM panels"))).all() == []
    finally:
        async with open_engine(pg_url) as owner, owner.begin() as conn:
            await conn.execute(text(f"REVOKE ALL ON panels, results, messages FROM {role}"))
            await conn.execute(text(f"DROP ROLE {role}"))
