"""htma's authenticated read over real HTTP while its private PostgreSQL is killed or
frozen: 503 problem+json with ``Retry-After``, never a 500 or a dropped connection."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from htma import Settings
from htma.migrate import MIGRATIONS
from spaps_ops.testing import DEADLINE, PostgresServer, private_postgres, serve_app

SIGNUP = {
    "clinic_id": "northside", "clinic_name": "Northside", "email": "admin@northside.example",
    "password": "correct horse battery staple", "display_name": "Admin",
}  # fmt: skip


@asynccontextmanager
async def _signed_in(base: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of ``base`` and a signed-up lab admin's headers, after one good read; on
    leaving, every answer must have come over one keep-alive connection (never dropped)."""
    streams: list[object] = []

    async def remember(response: httpx.Response) -> None:
        streams.append(response.extensions["network_stream"])

    async with httpx.AsyncClient(
        base_url=base, timeout=DEADLINE, event_hooks={"response": [remember]}
    ) as http:
        signup = await http.post("/v1/auth/signup", json=SIGNUP)
        assert signup.status_code == 201, signup.text
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        assert (await http.get("/v1/panels", headers=admin)).status_code == 200
        yield http, admin
    assert len({id(s) for s in streams}) == 1


@pytest.mark.parametrize(
    "session_check_ttl",
    [5.0, 0.0],
    ids=["the route meets the outage", "the token's session check meets it"],
)
async def test_panels_answer_503_when_postgres_is_killed(
    make_app: Callable[..., FastAPI], session_check_ttl: float
) -> None:
    """With no cached "session still live" answer, the authentication layer (before
    routing) is the first to read the dead database: 503 all the same."""
    with private_postgres() as postgres:
        url = postgres.url.replace("postgresql://", "postgresql+asyncpg://", 1)
        await MIGRATIONS.upgrade(url)
        app = make_app(database_url=url, session_check_ttl=session_check_ttl)
        with serve_app(app) as base:
            await _read_through_the_outage(base, postgres.process)


async def _read_through_the_outage(base: str, process: subprocess.Popen[bytes]) -> None:
    async with _signed_in(base) as (http, admin):
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


def _state(pid: int) -> str:
    """The process state letter of ``pid`` (``T``: stopped), from ``/proc``."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def test_panels_answer_503_within_the_bound_when_postgres_is_frozen_then_recover(
    make_app: Callable[..., FastAPI],
) -> None:
    """A frozen PostgreSQL (every process SIGSTOPped: connections open, nothing answers)
    costs a request at most the engine's bounds (connect and statement timeouts, and
    the pool's wait), then 503; once it resumes, the same connection reads again."""
    timeouts = {
        "database_connect_timeout": 2.0,
        "database_statement_timeout": 3.0,
        "database_pool_timeout": 2.0,
    }
    bound = _outage_bound(Settings(**timeouts))
    with private_postgres() as postgres:
        url = postgres.url.replace("postgresql://", "postgresql+asyncpg://", 1)
        await MIGRATIONS.upgrade(url)
        with serve_app(make_app(database_url=url, **timeouts)) as base:
            await _read_through_the_freeze(base, postgres, bound)


def _outage_bound(settings: Settings) -> float:
    """The longest a request may wait on a frozen database: a pooled connection's
    check (statement timeout), a new connection (connect timeout), or the pool's wait;
    twice that, plus slack for a loaded machine: only a hang fails."""
    db = settings
    worst = db.database_statement_timeout + db.database_connect_timeout + db.database_pool_timeout
    return 2 * worst + 10


async def _read_through_the_freeze(base: str, postgres: PostgresServer, bound: float) -> None:
    async with _signed_in(base) as (http, admin):
        postgres.freeze()
        frozen = postgres.pids()
        assert {pid: _state(pid) for pid in frozen} == dict.fromkeys(frozen, "T")
        try:
            # The bound is the client's own timeout: a request held longer raises.
            response = await http.get("/v1/panels", headers=admin, timeout=bound)
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "ops.database_unavailable"
            assert int(response.headers["retry-after"]) >= 1
            assert all(_state(pid) == "T" for pid in frozen)  # frozen all along
        finally:
            postgres.thaw()
        recovered: httpx.Response | None = None
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            recovered = await http.get("/v1/panels", headers=admin)
            if recovered.status_code == 200:
                break
            assert recovered.status_code == 503, recovered.text  # never a 500
            await asyncio.sleep(0.05)  # sleep-ok: polling interval of a recovery poll
        assert recovered is not None
        assert recovered.status_code == 200, recovered.text
