"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from htma import migrate
from htma.db import engine_for
from htma.models import Base
from sqlalchemy import Column, Connection, Integer, MetaData, inspect

APP_TABLES = {"clinics", "users", "panels", "results", "messages"}


def _diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _tables(url: str) -> set[str]:
    async with engine_for(url) as engine, engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_and_downgrade_round_trip(database_url: str) -> None:
    assert await migrate.current_revision(database_url) is None
    await migrate.upgrade(database_url)
    assert await migrate.current_revision(database_url) == migrate.head_revision()
    tables = await _tables(database_url)
    assert tables >= APP_TABLES | {"auth_sessions", "auth_refresh_tokens"}
    await migrate.downgrade(database_url)
    assert await migrate.current_revision(database_url) is None
    assert await _tables(database_url) <= {"alembic_version"}
    await migrate.upgrade(database_url)
    assert await _tables(database_url) == tables


async def test_models_match_migrations(database_url: str) -> None:
    await migrate.upgrade(database_url)
    async with engine_for(database_url) as engine, engine.connect() as connection:
        diff = await connection.run_sync(_diff, Base.metadata)
    assert diff == []


async def test_the_comparison_detects_a_divergence(database_url: str) -> None:
    """The check above is not vacuous: a column missing from the migrations is reported."""
    await migrate.upgrade(database_url)
    diverged = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(diverged)
    diverged.tables["panels"].append_column(Column("lead_mg_pct", Integer))
    async with engine_for(database_url) as engine, engine.connect() as connection:
        diff = await connection.run_sync(_diff, diverged)
    assert [entry[0] for entry in diff] == ["add_column"]
    assert diff[0][3].name == "lead_mg_pct"


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_heads() == [migrate.head_revision()]
    assert [r.revision for r in script.walk_revisions()][::-1] == ["0001", "0002", "0003", "0004"]
