"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from ingredient.catalog.search import search_statement
from ingredient.db import Base
from ingredient.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from sqlalchemy import Column, Connection, Integer, MetaData, inspect, text

# Dialect-specific search objects the migration creates on purpose and the models omit.
SEARCH_OBJECTS = ("ingredients_fts", "search_vector", "ix_ingredients_search_vector")


def _include(obj: Any, name: str | None, _type: str, _reflected: bool, _compare_to: Any) -> bool:
    return not (name or "").startswith(SEARCH_OBJECTS)


def _diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"include_object": _include, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


async def _tables(url: str) -> set[str]:
    async with open_engine(url) as engine, engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_and_downgrade_round_trip(database_url: str) -> None:
    assert await MIGRATIONS.current_revision(database_url) is None
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()
    assert "ingredients" in await _tables(database_url)
    await MIGRATIONS.downgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) is None
    assert await _tables(database_url) <= {"alembic_version"}
    # And once more: the downgrade left nothing behind that breaks a new upgrade.
    await MIGRATIONS.upgrade(database_url)
    assert "ingredients" in await _tables(database_url)


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
    diverged.tables["ingredients"].append_column(Column("invented", Integer))
    async with open_engine(database_url) as engine, engine.connect() as connection:
        diff = await connection.run_sync(_diff, diverged)
    assert [entry[0] for entry in diff] == ["add_column"]
    assert diff[0][3].name == "invented"


async def test_search_index_follows_inserts_updates_and_deletes(database_url: str) -> None:
    """The FTS5 triggers (SQLite) and the generated column (PostgreSQL) stay in sync."""
    await MIGRATIONS.upgrade(database_url)
    async with open_engine(database_url) as engine:
        dialect = engine.dialect.name

        async def codes(query: str) -> list[str]:
            stmt, _score = search_statement(dialect, query)
            async with engine.connect() as connection:
                return [row.code for row in await connection.execute(stmt)]

        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO ingredients (code, name, source, version, created_at, updated_at)"
                    " VALUES ('X1', 'Quinoa flakes', 'test', 1, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                )
            )
        assert await codes("quinoa") == ["X1"]
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE ingredients SET name = 'Teff grain'"))
        assert await codes("quinoa") == []
        assert await codes("teff") == ["X1"]
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM ingredients"))
        assert await codes("teff") == []


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(MIGRATIONS.alembic_config("sqlite://"))
    assert script.get_heads() == [MIGRATIONS.head_revision()]
    assert [r.revision for r in script.walk_revisions()][::-1] == ["0001", "0002"]
