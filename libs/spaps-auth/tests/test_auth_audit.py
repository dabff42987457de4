"""Hash-chained audit log: appends, and the verifier naming the first bad entry."""

from __future__ import annotations

import asyncio

import pytest
from spaps_auth import AuditLog
from spaps_auth._audit import _digest
from spaps_auth._tables import audit_log
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine


async def _filled(engine: AsyncEngine, n: int = 5) -> AuditLog:
    log = AuditLog(engine)
    for i in range(n):
        await log.append("login", actor=f"user-{i}", target="s", data={"i": i})
    return log


async def test_intact_chain_verifies(engine: AsyncEngine) -> None:
    log = await _filled(engine)
    result = await log.verify(batch=2)
    assert (result.ok, result.checked, result.first_bad_seq) == (True, 5, None)
    entries = await log.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev_hash == entries[0].hash
    assert result.head_hash == entries[-1].hash


async def test_changed_entry_is_named(engine: AsyncEngine) -> None:
    log = await _filled(engine)
    async with engine.begin() as conn:
        await conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="mallory"))
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "changed" in (result.reason or "")


async def test_deleted_entry_is_detected(engine: AsyncEngine) -> None:
    log = await _filled(engine)
    async with engine.begin() as conn:
        await conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "missing" in (result.reason or "")


async def test_inserted_entry_is_named(engine: AsyncEngine) -> None:
    log = await _filled(engine, 3)
    entries = await log.entries()
    async with engine.begin() as conn:
        # Shift 3 to 4 and slip a forged entry in at 3, copying a plausible prev_hash.
        await conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=4))
        forged = entries[2]
        await conn.execute(
            audit_log.insert().values(
                seq=3,
                at=forged.at,
                actor="mallory",
                action="grant",
                target="x",
                data="{}",
                prev_hash=entries[1].hash,
                hash=forged.hash,
            )
        )
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_reordered_entries_are_named(engine: AsyncEngine) -> None:
    log = await _filled(engine, 4)
    async with engine.begin() as conn:
        await conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        await conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=2))
        await conn.execute(update(audit_log).where(audit_log.c.seq == -2).values(seq=3))
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


async def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(
    engine: AsyncEngine,
) -> None:
    log = await _filled(engine, 4)
    e = (await log.entries())[1]
    new_hash = _digest(e.seq, e.at, "mallory", e.action, e.target, '{"i":1}', e.prev_hash)
    async with engine.begin() as conn:
        await conn.execute(
            update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory", hash=new_hash)
        )
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


@pytest.mark.postgres
async def test_concurrent_appends_keep_one_chain_on_postgres(pg_engine: AsyncEngine) -> None:
    log = AuditLog(pg_engine)
    await asyncio.gather(*(log.append("evt", data={"i": i}) for i in range(12)))
    assert await log.count() == 12
    assert (await log.verify()).ok


def test_append_validates(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AuditLog(engine, max_retries=0)
