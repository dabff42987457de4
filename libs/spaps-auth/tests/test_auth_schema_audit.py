"""``upgrade_audit_archive``/``downgrade_audit_archive``: the archive and checkpoint
tables created through Alembic's real ``Operations`` next to an existing audit log, on
both back ends, are the ones spaps-auth declares; retention works on them, and the
downgrade moves the archived entries back so the whole chain verifies from its start."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from spaps_auth import (
    AuditLog,
    AuditRetention,
    MigrationOps,
    downgrade_audit_archive,
    upgrade_audit_archive,
)
from spaps_auth._audit import GENESIS_HASH, _digest
from spaps_auth._tables import audit_archive, audit_checkpoints, audit_log
from sqlalchemy import Connection, MetaData, Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# Alembic is the service's dependency, not this library's: the helpers take its ``op``.
alembic_migration = pytest.importorskip(
    "alembic.migration",
    reason="not applicable: Alembic is not installed (spaps-auth does not depend on it; "
    "a service's migration passes its op)",
)
alembic_operations = importlib.import_module("alembic.operations")  # installed with it

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database holding only the audit log, as services created it before retention."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    else:
        pg: str = request.getfixturevalue("postgres_url")
        url = pg.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(audit_log.metadata.create_all, tables=[audit_log])
    yield engine  # the PostgreSQL database is the test's own and dropped after it
    await engine.dispose()


def operations(conn: Connection) -> MigrationOps:
    """Alembic's ``op`` on ``conn``, as a migration's ``upgrade()`` sees it."""
    ops: MigrationOps = alembic_operations.Operations(
        alembic_migration.MigrationContext.configure(conn)
    )
    return ops


def shape(conn: Connection, table: str) -> dict[str, tuple[str, bool]]:
    return {
        c["name"]: (type(c["type"]).__name__, bool(c["nullable"]))
        for c in inspect(conn).get_columns(table)
    }


def declared(conn: Connection, table: Table) -> dict[str, tuple[str, bool]]:
    """The columns ``table`` declares, as the database reflects them once created."""
    scratch = MetaData()
    copy = table.to_metadata(scratch, name=f"{table.name}_declared")
    copy.primary_key.name = f"pk_{copy.name}"  # constraint names are unique in PostgreSQL
    scratch.create_all(conn)
    try:
        return shape(conn, copy.name)
    finally:
        scratch.drop_all(conn)


def primary_key(conn: Connection, table: str) -> tuple[str | None, list[str]]:
    constraint = inspect(conn).get_pk_constraint(table)
    return constraint["name"], list(constraint["constrained_columns"])


def upgrade(conn: Connection) -> None:
    upgrade_audit_archive(operations(conn))


def downgrade(conn: Connection) -> None:
    downgrade_audit_archive(operations(conn))


def check_upgraded(conn: Connection) -> None:
    for table in (audit_archive, audit_checkpoints):
        assert shape(conn, table.name) == declared(conn, table)
        assert primary_key(conn, table.name) == (f"pk_{table.name}", ["seq"])


def check_downgraded(conn: Connection) -> None:
    assert not inspect(conn).has_table(audit_archive.name)
    assert not inspect(conn).has_table(audit_checkpoints.name)


async def test_upgrade_creates_the_declared_tables_and_downgrade_restores_the_log(
    db: AsyncEngine,
) -> None:
    # The first entry as an earlier spaps-auth wrote it; appends to a log that has
    # entries continue from its newest one, before the migration as after it.
    first = _digest(1, T0, "user-0", "login", None, "{}", GENESIS_HASH)
    async with db.begin() as connection:
        await connection.execute(
            insert(audit_log).values(
                seq=1, at=T0, actor="user-0", action="login", target=None, data="{}",
                prev_hash=GENESIS_HASH, hash=first,
            )
        )  # fmt: skip
    clock = iter(T0 + timedelta(days=day) for day in range(1, 100))
    log = AuditLog(db, clock=lambda: next(clock))
    for i in range(1, 5):
        await log.append("login", actor=f"user-{i}")
    head = (await log.entries())[-1].hash
    async with db.begin() as connection:
        await connection.run_sync(upgrade)
    async with db.connect() as connection:
        await connection.run_sync(check_upgraded)

    async with db.begin() as connection:
        cutoff = T0 + timedelta(days=3)
        assert await AuditRetention().purge_batch(connection, cutoff=cutoff, limit=10) == 3
    assert await log.count() == 2
    assert (await log.verify(include_archive=True)).ok

    async with db.begin() as connection:
        await connection.run_sync(downgrade)
    async with db.connect() as connection:
        await connection.run_sync(check_downgraded)
    entries = await log.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert (entries[0].hash, entries[-1].hash) == (first, head)
    # The whole chain verifies from its first entry, as without an archive.
    async with db.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        verified = await connection.run_sync(verify_from_genesis)
    assert names == [audit_log.name]
    assert verified == (5, head)


def verify_from_genesis(conn: Connection) -> tuple[int, str]:
    """Walk the live log from the first entry (the checkpoint table is gone)."""
    prev = GENESIS_HASH
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    for expected, row in enumerate(rows, start=1):
        assert (row.seq, row.prev_hash) == (expected, prev)
        data = (row.seq, row.at, row.actor, row.action, row.target, row.data, row.prev_hash)
        assert _digest(*data) == row.hash
        prev = row.hash
    return len(rows), prev
