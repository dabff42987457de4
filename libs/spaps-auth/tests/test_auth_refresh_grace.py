"""The refresh-reuse grace window: a just-rotated token presented again gets the same
successor; later reuse, or reuse of an older generation, still revokes the family."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from spaps_auth import (
    AuditLog,
    RefreshTokenReusedError,
    SessionManager,
    TokenIssuer,
    TokenRevokedError,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

GRACE = timedelta(seconds=10)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> AsyncEngine:
    name = "engine" if request.param == "sqlite" else "pg_engine"
    engine: AsyncEngine = request.getfixturevalue(name)
    return engine


def _manager(
    engine: AsyncEngine, issuer: TokenIssuer, clock: Clock, **kw: object
) -> SessionManager:
    return SessionManager(
        engine,
        issuer=issuer,
        audit=AuditLog(engine),
        clock=clock,
        refresh_reuse_grace=kw.pop("grace", GRACE),  # type: ignore[arg-type]
    )


async def _audited(engine: AsyncEngine) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.actor, e.target) for e in await AuditLog(engine).entries()]


async def test_replay_within_the_window_gets_the_same_successor(
    db: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = _manager(db, issuer, clock)
    pair = await manager.start("alice")
    first = await manager.refresh(pair.refresh_token)
    clock.now += GRACE - timedelta(milliseconds=1)
    second = await manager.refresh(pair.refresh_token)
    assert second.refresh_token == first.refresh_token
    assert second.session_id == first.session_id == pair.session_id
    assert second.access_token != first.access_token
    # The family is alive: the shared successor rotates normally, nothing was audited.
    third = await manager.refresh(first.refresh_token)
    assert third.session_id == pair.session_id
    assert [s.id for s in await manager.list_sessions("alice")] == [pair.session_id]
    assert await _audited(db) == []


async def test_replay_after_the_window_revokes_the_family_and_is_audited(
    db: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = _manager(db, issuer, clock)
    pair = await manager.start("alice")
    rotated = await manager.refresh(pair.refresh_token)
    clock.now += GRACE
    with pytest.raises(RefreshTokenReusedError):
        await manager.refresh(pair.refresh_token)
    with pytest.raises(TokenRevokedError):
        await manager.refresh(rotated.refresh_token)
    assert await manager.list_sessions("alice") == []
    assert await _audited(db) == [("refresh_token.reused", "alice", pair.session_id)]


async def test_replay_of_an_older_generation_revokes_within_the_window(
    db: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = _manager(db, issuer, clock)
    pair = await manager.start("alice")
    clock.now += timedelta(seconds=1)
    second = await manager.refresh(pair.refresh_token)
    clock.now += timedelta(seconds=1)
    third = await manager.refresh(second.refresh_token)
    clock.now += timedelta(seconds=1)  # still within the window of the first rotation
    with pytest.raises(RefreshTokenReusedError):
        await manager.refresh(pair.refresh_token)  # its successor was rotated already
    with pytest.raises(TokenRevokedError):
        await manager.refresh(third.refresh_token)
    assert await _audited(db) == [("refresh_token.reused", "alice", pair.session_id)]


async def test_zero_grace_disables_the_window(db: AsyncEngine, issuer: TokenIssuer) -> None:
    clock = Clock()
    manager = _manager(db, issuer, clock, grace=timedelta(0))
    pair = await manager.start("alice")
    rotated = await manager.refresh(pair.refresh_token)
    with pytest.raises(RefreshTokenReusedError):
        await manager.refresh(pair.refresh_token)  # same instant, no window
    with pytest.raises(TokenRevokedError):
        await manager.refresh(rotated.refresh_token)
    assert await _audited(db) == [("refresh_token.reused", "alice", pair.session_id)]


def test_negative_grace_is_rejected(engine: AsyncEngine, issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="refresh_reuse_grace"):
        SessionManager(engine, issuer=issuer, refresh_reuse_grace=timedelta(seconds=-1))


async def _lock_waiters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


@pytest.mark.postgres
async def test_two_concurrent_refreshes_both_succeed_on_postgres(
    pg_engine: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = _manager(pg_engine, issuer, clock)
    pair = await manager.start("alice")
    # Hold the token's row lock so both refreshes queue on their conditional UPDATE, then
    # let them go at once: they race for the row like two tabs refreshing together.
    async with pg_engine.connect() as blocker:
        await blocker.execute(
            text("SELECT id FROM auth_refresh_tokens WHERE session_id = :s FOR UPDATE"),
            {"s": pair.session_id},
        )
        racing = asyncio.gather(
            manager.refresh(pair.refresh_token), manager.refresh(pair.refresh_token)
        )
        task = asyncio.ensure_future(racing)
        deadline = time.monotonic() + 30  # only fails a hung test
        while await _lock_waiters(pg_engine) < 2:
            if task.done() or time.monotonic() > deadline:
                raise AssertionError(f"the refreshes did not queue on the row lock: {task}")
            await asyncio.sleep(0.01)  # sleep-ok: poll interval while waiting for pg_locks
        await blocker.rollback()
    first, second = await task
    assert first.refresh_token == second.refresh_token
    assert first.session_id == second.session_id == pair.session_id
    following = await manager.refresh(first.refresh_token)
    assert following.session_id == pair.session_id
    assert [s.id for s in await manager.list_sessions("alice")] == [pair.session_id]
    assert await _audited(pg_engine) == []
