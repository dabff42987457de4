"""Pooled PostgreSQL connections are pinged only after sitting idle: a connection killed
while idle is replaced before use, one in steady use is not pinged (its next statement
finds the death and the pool recovers)."""

from __future__ import annotations

import asyncio

import pytest
from spaps_ops.db import Database
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.postgres


async def _kill_pooled_backend(database: Database) -> int:
    """Use a connection (it returns to the pool), then terminate its server process from
    another connection; the backend's pid, proven gone."""
    async with database.engine.connect() as conn:
        pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    killer = Database(database.url)
    try:
        async with killer.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(500):  # the termination is asynchronous: poll until it is done
                gone = (
                    await conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": pid},
                    )
                ).scalar_one() == 0
                if gone:
                    return pid
                await conn.execute(text("SELECT pg_sleep(0.01)"))
    finally:
        await killer.aclose()
    pytest.fail(f"backend {pid} was not terminated")


async def test_a_connection_killed_while_idle_is_pinged_and_replaced(postgres_url: str) -> None:
    database = Database(postgres_url, ping_idle_after=0.05)
    try:
        killed = await _kill_pooled_backend(database)
        await asyncio.sleep(0.1)  # sleep-ok: the connection must idle past ping_idle_after
        async with database.engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert pid != killed  # the dead connection failed its ping and was replaced
    finally:
        await database.aclose()


async def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str) -> None:
    database = Database(postgres_url, ping_idle_after=3600)
    try:
        killed = await _kill_pooled_backend(database)
        # Not idle long enough to be pinged: the statement meets the dead connection...
        with pytest.raises(DBAPIError) as raised:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert raised.value.connection_invalidated
        # ...and the pool, invalidated by that disconnect, hands out a new one.
        async with database.engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert pid != killed
    finally:
        await database.aclose()


async def test_zero_pings_at_every_checkout(postgres_url: str) -> None:
    database = Database(postgres_url, ping_idle_after=0)
    try:
        killed = await _kill_pooled_backend(database)
        async with database.engine.connect() as conn:  # SQLAlchemy's pre-ping replaced it
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert pid != killed
    finally:
        await database.aclose()
