"""The catalog's read routes use read sessions: no transaction around their statements,
so a one-statement read is one round trip to PostgreSQL, and a read session cannot write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from asyncpg.connection import LoggedQuery
from fastapi import FastAPI
from ingredient.catalog.models import Ingredient
from ingredient.db import ReadOnlySessionError, create_read_sessionmaker, create_sessionmaker
from spaps_ops.db import get_database, open_engine
from sqlalchemy import event, select, text, update


@pytest.mark.postgres
async def test_a_read_route_sends_its_statement_alone(
    seeded_pg_url: str, make_app: Callable[..., FastAPI], issuer: Any
) -> None:
    app = make_app(database_url=seeded_pg_url)
    control: list[str] = []  # what asyncpg sends as plain queries: BEGIN, ROLLBACK, COMMIT
    statements: list[str] = []  # what SQLAlchemy executes

    def log(query: LoggedQuery) -> None:
        control.append(query.query)

    def watch(dbapi_connection: object, _record: object, _proxy: object) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)  # type: ignore[attr-defined]  # SQLAlchemy's AdaptedConnection

    def execute(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(" ".join(statement.split()))

    engine = get_database(app).engine
    event.listen(engine.sync_engine, "checkout", watch)
    event.listen(engine.sync_engine, "before_cursor_execute", execute)
    headers = {"Authorization": f"Bearer {issuer.token('practitioner')}"}
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://i") as client:
            # The logger sees transactions: a read-write session's statement has its own.
            async with get_database(app).sessions() as session:
                await session.execute(text("SELECT 1"))
            assert control == ["BEGIN;", "ROLLBACK;"], control
            control.clear()
            statements.clear()
            response = await client.get("/v1/ingredients/D063", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["code"] == "D063"
    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT ingredients.id"), statements
    # The read alone: no BEGIN before it, no ROLLBACK after (a checkout may ping the
    # connection first, in a transaction of its own, when it sat idle: not the read's).
    assert _without_pings(control) == [], control


#: A pooled connection's ping, as asyncpg sends it: an empty statement in a transaction.
PING = ["BEGIN;", ";", "ROLLBACK;"]


def _without_pings(queries: list[str]) -> list[str]:
    rest = list(queries)
    for at in range(len(rest) - len(PING), -1, -1):
        if rest[at : at + len(PING)] == PING:
            del rest[at : at + len(PING)]
    return rest


async def test_a_read_session_cannot_write(seeded_url: str) -> None:
    async with open_engine(seeded_url) as engine:
        async with create_read_sessionmaker(engine)() as session:
            spinach = await session.scalar(select(Ingredient).where(Ingredient.code == "D063"))
            assert spinach is not None
            name = spinach.name
            spinach.name = "changed"
            with pytest.raises(ReadOnlySessionError):
                await session.flush()
            await session.rollback()
            with pytest.raises(ReadOnlySessionError):
                await session.execute(
                    update(Ingredient).where(Ingredient.code == "D063").values(name="changed")
                )
        async with create_sessionmaker(engine)() as session:  # nothing was written
            stored = await session.scalar(select(Ingredient.name).where(Ingredient.code == "D063"))
            assert stored == name
