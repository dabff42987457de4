"""Database outages over real HTTP: a private PostgreSQL killed or frozen answers 503."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import OpsSettings, create_app
from spaps_ops.db import Database, DatabaseOutageMiddleware, SessionDep, use_database
from spaps_ops.testing import DEADLINE, PostgresServer, private_postgres, serve_app
from sqlalchemy import text
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with private_postgres() as server:
        yield server


def _app(url: str) -> FastAPI:
    app = create_app(OpsSettings(_env_file=None))  # type: ignore[call-arg]
    database = Database(url, connect_timeout=1, statement_timeout=1, pool_timeout=1)
    use_database(app, database)

    @app.get("/value")
    async def value(session: SessionDep) -> dict[str, int]:
        return {"value": (await session.execute(text("SELECT 1"))).scalar_one()}

    return app


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_app(app))


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "ops.database_unavailable"
    assert int(response.headers["retry-after"]) >= 1


def test_killed_database_answers_503_and_keeps_the_connection(
    postgres: PostgresServer, serve: Callable[[FastAPI], str]
) -> None:
    base = serve(_app(postgres.url))
    connections: list[object] = []
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        client.event_hooks["response"] = [
            lambda r: connections.append(r.extensions["network_stream"])
        ]
        assert client.get("/value").json() == {"value": 1}
        postgres.kill()
        assert postgres.process.returncode == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(postgres.process.pid, 0)
        for _ in range(3):
            _assert_unavailable(client.get("/value"))
    assert len({id(c) for c in connections}) == 1  # one keep-alive connection, never dropped


def test_frozen_database_answers_503_then_recovers(
    postgres: PostgresServer, serve: Callable[[FastAPI], str]
) -> None:
    base = serve(_app(postgres.url))
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        assert client.get("/value").status_code == 200
        postgres.freeze()
        stopped = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                   for pid in postgres.pids()]  # fmt: skip
        assert set(stopped) == {"T"}  # every PostgreSQL process is stopped
        try:
            _assert_unavailable(client.get("/value"))
        finally:
            postgres.thaw()
        assert client.get("/value").json() == {"value": 1}


class _SessionCheck:
    """A layer that reads the database before routing, as a token's session check does."""

    def __init__(self, app: ASGIApp, *, database: Database) -> None:
        self.app, self.database = app, database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            async with self.database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        await self.app(scope, receive, send)


@pytest.mark.parametrize("guarded", [False, True])
def test_an_outage_met_by_a_middleware_is_503_behind_the_outage_layer(
    postgres: PostgresServer, serve: Callable[[FastAPI], str], guarded: bool
) -> None:
    database = Database(postgres.url, connect_timeout=1, statement_timeout=1, pool_timeout=1)
    layers = [Middleware(_SessionCheck, database=database)]
    if guarded:
        layers.insert(0, Middleware(DatabaseOutageMiddleware))
    app = create_app(OpsSettings(_env_file=None), middleware=layers)  # type: ignore[call-arg]
    use_database(app, database)
    app.get("/ping")(lambda: {"ok": True})
    base = serve(app)
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        assert client.get("/ping").json() == {"ok": True}
        postgres.kill()
        assert postgres.process.returncode == -signal.SIGKILL  # the fault happened
        answer = client.get("/ping")
    if not guarded:  # routes' outage handling does not reach the layers outside them
        assert answer.status_code == 500, answer.text
        return
    _assert_unavailable(answer)
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
