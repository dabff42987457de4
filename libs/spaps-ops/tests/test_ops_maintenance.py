"""Maintenance mode: 503 problem with Retry-After, probes and metrics exempt, runtime switch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import MaintenanceMiddleware, MaintenanceSwitch, get_ops

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


async def test_switch_at_runtime(make_app: Callable[..., FastAPI], make_client: Client) -> None:
    app = make_app()

    @app.get("/work")
    async def work() -> dict[str, bool]:
        return {"done": True}

    client = await make_client(app)
    assert (await client.get("/work")).status_code == 200
    get_ops(app).maintenance.enable(retry_after=300, detail="upgrading the database")
    response = await client.get("/work")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "300"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    assert body["code"] == "ops.maintenance"
    assert body["detail"] == "upgrading the database"
    assert body["request_id"] == response.headers["x-request-id"]
    for exempt in ("/health/live", "/health/ready", "/health", "/metrics"):
        assert (await client.get(exempt)).status_code == 200, exempt
    assert (await client.get("/healthcare/records")).status_code == 503  # not a probe
    assert (await client.get("/health")).json()["maintenance"] is True
    get_ops(app).maintenance.disable()
    assert (await client.get("/work")).status_code == 200


async def test_starts_in_maintenance_from_settings(
    make_app: Callable[..., FastAPI], make_client: Client, settings_factory: Any
) -> None:
    app = make_app(settings_factory(maintenance_mode=True, maintenance_retry_after=60))
    client = await make_client(app)
    response = await client.get("/anything")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"


def test_exempt_prefixes_must_be_paths() -> None:
    with pytest.raises(ValueError, match="absolute"):
        MaintenanceMiddleware(FastAPI(), switch=MaintenanceSwitch(), exempt_prefixes=("health",))


def test_switch_validates() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        MaintenanceSwitch(retry_after=0)
    switch = MaintenanceSwitch()
    with pytest.raises(ValueError, match="retry_after"):
        switch.enable(retry_after=-5)
    assert switch.enabled is False
