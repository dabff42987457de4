"""Audit retention: old entries move to the archive with a checkpoint, the live log
verifies from the checkpoint, the archive and the live log verify as one chain, and
tampering with either (or with a checkpoint) is named; on both back ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from spaps_auth import AuditLog, AuditRetention
from spaps_auth._tables import audit_archive, audit_checkpoints, audit_log
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


class Clock:
    """A clock that moves only when the test sets it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> AsyncEngine:
    """An engine with the spaps-auth tables, on SQLite and on a fresh PostgreSQL database."""
    engine: AsyncEngine = request.getfixturevalue(
        "engine" if request.param == "sqlite" else "pg_engine"
    )
    return engine


async def filled(engine: AsyncEngine, clock: Clock, days: list[int]) -> AuditLog:
    """A log with one entry appended on each of ``days`` (offsets from T0)."""
    log = AuditLog(engine, clock=clock)
    for i, day in enumerate(days):
        clock.now = T0 + day * DAY
        await log.append("login", actor=f"user-{i}", target="s", data={"i": i})
    return log


async def archive(engine: AsyncEngine, target: AuditRetention, cutoff: datetime, limit: int) -> int:
    async with engine.begin() as connection:
        return await target.purge_batch(connection, cutoff=cutoff, limit=limit)


async def expired(engine: AsyncEngine, target: AuditRetention, cutoff: datetime) -> int:
    async with engine.connect() as connection:
        return await target.count_expired(connection, cutoff=cutoff)


async def rows(engine: AsyncEngine, table: object) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(table).order_by(table.c.seq))  # type: ignore[attr-defined]
        return [tuple(r) for r in result]


async def test_archiving_moves_entries_writes_checkpoints_and_keeps_the_chain(
    db: AsyncEngine,
) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3, 4, 5])
    before = await rows(db, audit_log)
    head = (await log.verify()).head_hash
    clock.now = T0 + 400 * DAY
    target = AuditRetention(clock=clock)
    cutoff = T0 + 3 * DAY

    assert await expired(db, target, cutoff) == 3
    assert [await archive(db, target, cutoff, 2) for _ in range(3)] == [2, 1, 0]
    assert await expired(db, target, cutoff) == 0

    assert await rows(db, audit_archive) == before[:3]  # moved unchanged
    assert await rows(db, audit_log) == before[3:]
    checkpoints = await rows(db, audit_checkpoints)
    assert [(c[0], c[1], c[2], c[3]) for c in checkpoints] == [
        (2, before[1][-1], 2, clock.now),
        (3, before[2][-1], 1, clock.now),
    ]

    live = await log.verify(batch=2)
    assert (live.ok, live.checked, live.checkpoint_seq, live.head_hash) == (True, 3, 3, head)
    whole = await log.verify(batch=2, include_archive=True)
    assert (whole.ok, whole.checked, whole.checkpoint_seq, whole.head_hash) == (True, 6, 0, head)


async def test_append_after_an_archive_that_emptied_the_log_continues_the_chain(
    db: AsyncEngine,
) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2])
    last = (await log.entries())[-1]
    target = AuditRetention(clock=clock)
    assert await archive(db, target, T0 + 10 * DAY, 100) == 3
    assert await log.count() == 0
    assert (await log.verify()).ok

    entry = await log.append("logout", actor="user-0")
    assert (entry.seq, entry.prev_hash) == (4, last.hash)
    live = await log.verify()
    assert (live.ok, live.checked, live.checkpoint_seq, live.head_hash) == (True, 1, 3, entry.hash)
    assert (await log.verify(include_archive=True)).checked == 4
    # A second round archives the new entry after the first checkpoint.
    clock.now = T0 + 20 * DAY
    assert await archive(db, target, T0 + 30 * DAY, 100) == 1
    assert (await log.append("login")).seq == 5
    whole = await log.verify(include_archive=True)
    assert (whole.ok, whole.checked) == (True, 5)


async def test_only_the_unbroken_run_of_old_entries_is_archived(db: AsyncEngine) -> None:
    """A clock that went backwards (entry 3 older than entry 2) leaves a run: entries
    after the first one that is kept stay, so the archive is a prefix of the chain."""
    clock = Clock()
    log = await filled(db, clock, [0, 10, 1])
    target = AuditRetention(clock=clock)
    cutoff = T0 + 5 * DAY
    assert await expired(db, target, cutoff) == 1
    assert await archive(db, target, cutoff, 100) == 1
    assert [e.seq for e in await log.entries()] == [2, 3]
    assert (await log.verify()).ok


async def test_tampering_with_the_archive_is_named_when_it_is_verified(db: AsyncEngine) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3])
    assert await archive(db, AuditRetention(clock=clock), T0 + 3 * DAY, 100) == 3
    async with db.begin() as connection:
        await connection.execute(
            update(audit_archive).where(audit_archive.c.seq == 2).values(actor="mallory")
        )
    assert (await log.verify()).ok  # the live log still continues from the checkpoint
    result = await log.verify(include_archive=True)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "changed" in (result.reason or "")


async def test_archived_entries_that_went_missing_are_named(db: AsyncEngine) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3])
    assert await archive(db, AuditRetention(clock=clock), T0 + 3 * DAY, 100) == 3
    async with db.begin() as connection:
        await connection.execute(delete(audit_archive).where(audit_archive.c.seq == 3))
    result = await log.verify(include_archive=True)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "archive ends at entry 2" in (result.reason or "")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hash": "f" * 64}, "digest"),
        ({"archived_at": T0 + 1000 * DAY}, "digest"),
        ({"archived": 2}, "archived 2 entries"),
    ],
)
async def test_a_changed_checkpoint_is_named(
    db: AsyncEngine, change: dict[str, object], reason: str
) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3, 4])
    target = AuditRetention(clock=clock)
    assert await archive(db, target, T0 + 3 * DAY, 2) == 2
    assert await archive(db, target, T0 + 3 * DAY, 2) == 1
    async with db.begin() as connection:
        await connection.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.seq == 3).values(**change)
        )
    for result in (await log.verify(), await log.verify(include_archive=True)):
        assert (result.ok, result.first_bad_seq) == (False, 3)
        assert reason in (result.reason or "")


async def test_a_missing_checkpoint_is_named(db: AsyncEngine) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3, 4])
    target = AuditRetention(clock=clock)
    assert [await archive(db, target, T0 + 3 * DAY, 1) for _ in range(3)] == [1, 1, 1]
    async with db.begin() as connection:  # a middle one: the next no longer chains
        await connection.execute(delete(audit_checkpoints).where(audit_checkpoints.c.seq == 2))
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "checkpoint is missing" in (result.reason or "")

    async with db.begin() as connection:  # the latest: the live log no longer follows
        await connection.execute(delete(audit_checkpoints).where(audit_checkpoints.c.seq >= 2))
    result = await log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "does not continue from the checkpoint at entry 1" in (result.reason or "")
    result = await log.verify(include_archive=True)
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "archive ends at entry 3" in (result.reason or "")


async def test_a_broken_chain_is_never_archived(db: AsyncEngine) -> None:
    clock = Clock()
    log = await filled(db, clock, [0, 1, 2, 3])
    async with db.begin() as connection:
        await connection.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="x"))
    with pytest.raises(RuntimeError, match="broken at entry 2"):
        await archive(db, AuditRetention(clock=clock), T0 + 3 * DAY, 100)
    assert await rows(db, audit_archive) == []
    assert await rows(db, audit_checkpoints) == []
    assert await log.count() == 4


def test_target_declares_its_name_and_keep() -> None:
    assert (AuditRetention().name, AuditRetention().default_keep) == ("auth.audit", 365 * DAY)
    assert AuditRetention(keep=30 * DAY).default_keep == 30 * DAY
    with pytest.raises(ValueError, match="keep"):
        AuditRetention(keep=-DAY)


async def test_batches_refuse_a_naive_cutoff_and_a_limit_below_one(db: AsyncEngine) -> None:
    async with db.begin() as connection:
        with pytest.raises(ValueError, match="aware"):
            await AuditRetention().count_expired(connection, cutoff=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="limit"):
            await AuditRetention().purge_batch(connection, cutoff=T0, limit=0)


@pytest.mark.postgres
async def test_appends_racing_archive_batches_keep_one_chain_on_postgres(
    pg_engine: AsyncEngine,
) -> None:
    log = await filled(pg_engine, Clock(), [0] * 10)
    target = AuditRetention()
    cutoff = datetime.now(UTC) + DAY  # every entry, including those appended meanwhile

    async def archive_all() -> None:
        while await archive(pg_engine, target, cutoff, 3):
            pass

    await asyncio.gather(archive_all(), *(log.append("evt", data={"i": i}) for i in range(10)))
    await archive_all()
    assert await log.count() == 0
    async with pg_engine.connect() as connection:
        archived = (
            await connection.execute(select(func.count()).select_from(audit_archive))
        ).scalar()
    assert archived == 20
    whole = await log.verify(include_archive=True)
    assert (whole.ok, whole.checked) == (True, 20)


@pytest.mark.postgres
async def test_two_purges_at_once_archive_each_entry_once_on_postgres(
    pg_engine: AsyncEngine,
) -> None:
    log = await filled(pg_engine, Clock(), list(range(12)))
    target = AuditRetention()
    cutoff = T0 + 100 * DAY

    async def archive_all() -> int:
        moved = 0
        while count := await archive(pg_engine, target, cutoff, 2):
            moved += count
        return moved

    assert sum(await asyncio.gather(archive_all(), archive_all())) == 12
    checkpoints = await rows(pg_engine, audit_checkpoints)
    assert sum(c[2] for c in checkpoints) == 12  # type: ignore[misc]
    whole = await log.verify(include_archive=True)
    assert (whole.ok, whole.checked) == (True, 12)
