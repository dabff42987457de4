"""Pooled PostgreSQL connections: the pool keeps as many open as an async worker's
concurrent requests use, and pings them only after sitting idle: a connection killed
while idle is replaced before use, one in steady use is not pinged (its next statement
finds the death and the pool recovers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from spaps_ops.db import Database
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

pytestmark = pytest.mark.postgres

TERMINATION_WAIT_MS = 60_000  # a bound for a loaded box, not a speed check


@asynccontextmanager
async def _database(url: str, **options: Any) -> AsyncIterator[Database]:
    """A :class:`Database` on ``url``, closed on the way out."""
    database = Database(url, **options)
    try:
        yield database
    finally:
        await database.aclose()


async def _backend_pid(database: Database) -> int:
    """The server process of the connection the pool hands out next."""
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _backends_held_at_once(database: Database, count: int) -> set[int]:
    """Check out ``count`` connections at the same time, then return them all; the
    server processes they ran in."""
    async with AsyncExitStack() as stack:
        connections = [
            await stack.enter_async_context(database.engine.connect()) for _ in range(count)
        ]
        return {
            int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            for conn in connections
        }


async def test_the_default_pool_keeps_twenty_connections_open(postgres_url: str) -> None:
    # SQLAlchemy's default pool (5, plus 10 overflow connections closed on return) would
    # make the second round connect anew, or time out waiting for a 16th connection.
    async with _database(postgres_url, pool_timeout=2) as database:
        first = await _backends_held_at_once(database, 20)
        again = await _backends_held_at_once(database, 20)
    assert len(first) == 20
    assert again == first


async def test_overflow_connections_are_closed_when_returned_to_a_full_pool(
    postgres_url: str,
) -> None:
    async with _database(postgres_url, pool_size=2, max_overflow=1, pool_timeout=1) as database:
        first = await _backends_held_at_once(database, 3)
        again = await _backends_held_at_once(database, 3)
        assert len(first) == len(again) == 3
        assert len(again & first) == 2  # the pool's two; the overflow one is new
        with pytest.raises(PoolTimeoutError):  # no fourth connection: the request waits, then fails
            await _backends_held_at_once(database, 4)


async def _kill_pooled_backend(database: Database) -> int:
    """Use a connection (it returns to the pool), then terminate its server process from
    another connection; the backend's pid, proven gone."""
    pid = await _backend_pid(database)
    async with _database(database.url) as killer, killer.engine.connect() as conn:
        # With a timeout, pg_terminate_backend waits until the process has exited and
        # says whether it did (a loaded box may take a while: the bound is generous).
        terminated = await conn.scalar(
            text("SELECT pg_terminate_backend(:pid, :wait_ms)"),
            {"pid": pid, "wait_ms": TERMINATION_WAIT_MS},
        )
        # pg_stat_activity is a per-transaction snapshot: clear it before looking.
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        listed = await conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    if not terminated or listed:
        pytest.fail(f"backend {pid} was not terminated")
    return pid


async def test_a_connection_killed_while_idle_is_pinged_and_replaced(postgres_url: str) -> None:
    async with _database(postgres_url, ping_idle_after=0.05) as database:
        killed = await _kill_pooled_backend(database)
        await asyncio.sleep(0.1)  # sleep-ok: the connection must idle past ping_idle_after
        # The dead connection failed its ping and was replaced.
        assert await _backend_pid(database) != killed


async def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str) -> None:
    async with _database(postgres_url, ping_idle_after=3600) as database:
        killed = await _kill_pooled_backend(database)
        # Not idle long enough to be pinged: the statement meets the dead connection...
        with pytest.raises(DBAPIError) as raised:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert raised.value.connection_invalidated
        # ...and the pool, invalidated by that disconnect, hands out a new one.
        assert await _backend_pid(database) != killed


async def test_zero_pings_at_every_checkout(postgres_url: str) -> None:
    async with _database(postgres_url, ping_idle_after=0) as database:
        killed = await _kill_pooled_backend(database)
        # SQLAlchemy's pre-ping replaced it.
        assert await _backend_pid(database) != killed
