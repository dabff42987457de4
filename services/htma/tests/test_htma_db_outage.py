"""htma's authenticated read over real HTTP while its private PostgreSQL is killed: 503."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from htma.migrate import MIGRATIONS
from spaps_ops.testing import DEADLINE, private_postgres, serve_app


async def test_panels_answer_503_when_postgres_is_killed(
    make_app: Callable[..., FastAPI],
) -> None:
    with private_postgres() as postgres:
        url = postgres.url.replace("postgresql://", "postgresql+asyncpg://", 1)
        await MIGRATIONS.upgrade(url)
        with serve_app(make_app(database_url=url)) as base:
            await _read_through_the_outage(base, postgres.process)


async def _read_through_the_outage(base: str, process: subprocess.Popen[bytes]) -> None:
    streams: list[object] = []

    async def remember(response: httpx.Response) -> None:
        streams.append(response.extensions["network_stream"])

    async with httpx.AsyncClient(
        base_url=base, timeout=DEADLINE, event_hooks={"response": [remember]}
    ) as http:
        signup = await http.post(
            "/v1/auth/signup",
            json={
                "clinic_id": "northside", "clinic_name": "Northside",
                "email": "admin@northside.example", "password": "correct horse battery staple",
                "display_name": "Admin",
            },
        )  # fmt: skip
        assert signup.status_code == 201, signup.text
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        assert (await http.get("/v1/panels", headers=admin)).status_code == 200
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)
        for _ in range(3):
            response = await http.get("/v1/panels", headers=admin)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "ops.database_unavailable"
            assert int(response.headers["retry-after"]) >= 1
    assert len({id(s) for s in streams}) == 1  # one keep-alive connection, never dropped
