"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from htma.migrate import MIGRATIONS
from htma.models import Base
from spaps_ops.db import open_engine
from sqlalchemy import Column, Connection, Integer, MetaData, inspect

APP_TABLES = {"clinics", "users", "panels", "results", "messages"}


def _diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _tables(url: str) -> set[str]:
    async with open_engine(url) as engine, engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_and_downgrade_round_trip(database_url: str) -> None:
    assert await MIGRATIONS.current_revision(database_url) is None
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()
    tables = await _tables(database_url)
    assert tables >= APP_TABLES | {"auth_sessions", "auth_refresh_tokens"}
    await MIGRATIONS.downgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) is None
    assert await _tables(database_url) <= {"alembic_version"}
    await MIGRATIONS.upgrade(database_url)
    assert await _tables(database_url) == tables


async def test_models_match_migrations(database_url: str) -> None:
    await MIGRATIONS.upgrade(database_url)
    async with open_engine(database_url) as engine, engine.connect() as connection:
        diff = await connection.run_sync(_diff, Base.metadata)
    assert diff == []


async def test_the_comparison_detects_a_divergence(database_url: str) -> None:
    """The check above is not vacuous: a column missing from the migrations is reported."""
    await MIGRATIONS.upgrade(database_url)
    diverged = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(diverged)
    diverged.tables["panels"].append_column(Column("lead_mg_pct", Integer))
    async with open_engine(database_url) as engine, engine.connect() as connection:
        diff = await connection.run_sync(_diff, diverged)
    assert [entry[0] for entry in diff] == ["add_column"]
    assert diff[0][3].name == "lead_mg_pct"


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(MIGRATIONS.alembic_config("sqlite://"))
    assert script.get_heads() == [MIGRATIONS.head_revision()]
    assert [r.revision for r in script.walk_revisions()][::-1] == ["0001", "0002", "0003", "0004"]
