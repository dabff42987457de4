"""Probes: live without checks, ready with concurrent timed checks, details."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import get_ops

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


async def ok_check() -> Mapping[str, Any]:
    return {"pool": 3}


async def hanging_check() -> None:
    """A check that never finishes: only the probe's timeout ends it."""
    await asyncio.Event().wait()  # nothing sets it


async def failing_check() -> None:
    raise ConnectionRefusedError("redis at 127.0.0.1:1 refused")


async def test_live_runs_no_checks(make_app: Callable[..., FastAPI], make_client: Client) -> None:
    calls: list[int] = []

    async def counting() -> None:
        calls.append(1)
        raise RuntimeError("down")

    app = make_app()
    get_ops(app).add_check("db", counting)
    client = await make_client(app)
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert calls == []


async def test_ready_ok(make_app: Callable[..., FastAPI], make_client: Client) -> None:
    app = make_app()
    get_ops(app).add_check("db", ok_check)
    client = await make_client(app)
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ["db"]}


async def test_ready_names_failing_checks_and_runs_them_concurrently(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    # Each of these two checks waits until the other one has started: run one after the
    # other, the first would time out; run concurrently, both pass.
    first_started, second_started = asyncio.Event(), asyncio.Event()

    def rendezvous(mine: asyncio.Event, other: asyncio.Event) -> Callable[[], Any]:
        async def check() -> None:
            mine.set()
            await other.wait()

        return check

    app = make_app()
    ops = get_ops(app)
    ops.add_check("db", ok_check)
    ops.add_check("redis", failing_check)
    ops.add_check("slow_a", hanging_check, timeout=0.1)
    ops.add_check("slow_b", hanging_check, timeout=0.1)
    ops.add_check("meet_a", rendezvous(first_started, second_started), timeout=5)
    ops.add_check("meet_b", rendezvous(second_started, first_started), timeout=5)
    client = await make_client(app)
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "ops.not_ready"
    assert body["failing_checks"] == ["redis", "slow_a", "slow_b"]
    assert "redis" in body["detail"]
    assert "127.0.0.1" not in response.text  # error messages stay on /health


async def test_details(
    make_app: Callable[..., FastAPI], make_client: Client, settings_factory: Any
) -> None:
    app = make_app(settings_factory(service_name="htma", service_version="1.2.3"))
    ops = get_ops(app)
    ops.add_check("db", ok_check)
    ops.add_check("redis", failing_check)
    ops.add_check("slow", hanging_check, timeout=0.05)
    client = await make_client(app)
    response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["service"] == "htma"
    assert body["version"] == "1.2.3"
    assert body["status"] == "failing"
    assert body["checks"]["db"]["status"] == "ok"
    assert body["checks"]["db"]["details"] == {"pool": 3}
    assert (
        body["checks"]["redis"]["error"] == "ConnectionRefusedError: redis at 127.0.0.1:1 refused"
    )
    assert body["checks"]["slow"]["error"] == "timed out after 0.05 s"


async def test_details_ok(make_app: Callable[..., FastAPI], make_client: Client) -> None:
    client = await make_client(make_app())
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {}


def test_check_registration_is_validated(make_app: Callable[..., FastAPI]) -> None:
    ops = get_ops(make_app())
    ops.add_check("db", ok_check)
    with pytest.raises(ValueError, match="already registered"):
        ops.add_check("db", ok_check)
    with pytest.raises(ValueError, match="timeout"):
        ops.add_check("x", ok_check, timeout=0)
    with pytest.raises(TypeError):
        ops.add_check("y", "not callable")  # type: ignore[arg-type]
    assert ops.health.names == ("db",)
