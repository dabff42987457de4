"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alembic.script import ScriptDirectory
from ingredient.catalog.search import not_a_search_object, search_statement
from ingredient.db import Base
from ingredient.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from sqlalchemy import text


async def test_upgrade_and_downgrade_round_trip(database_url: str, table_names: Any) -> None:
    assert await MIGRATIONS.current_revision(database_url) is None
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()
    assert "ingredients" in await table_names(database_url)
    await MIGRATIONS.downgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) is None
    assert await table_names(database_url) <= {"alembic_version"}
    # And once more: the downgrade left nothing behind that breaks a new upgrade.
    await MIGRATIONS.upgrade(database_url)
    assert "ingredients" in await table_names(database_url)


async def test_models_match_migrations(database_url: str, models_match: Any) -> None:
    """The dialect-specific search objects the migration creates on purpose (and the
    models omit) are left out, as ``env.py`` leaves them out of autogenerate."""
    await MIGRATIONS.upgrade(database_url)
    await models_match(
        database_url, Base.metadata, probe_table="ingredients", include_object=not_a_search_object
    )


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
    assert [r.revision for r in script.walk_revisions()][::-1] == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
    ]


async def test_outbox_confirmations_and_dead_letters_up_and_down(
    database_url: str, confirmations_migration: Callable[..., Awaitable[None]]
) -> None:
    """0006 adds the outbox's confirmation columns, its redelivery index and the
    dead-letter table; its downgrade removes them and keeps the outbox's rows."""
    await confirmations_migration(MIGRATIONS, database_url, "0005")


async def test_audit_archive_up_and_down(
    database_url: str, audit_archive_migration: Callable[..., Awaitable[None]]
) -> None:
    """0007 adds the audit archive and its checkpoints; its downgrade moves archived
    entries back into the live log."""
    await audit_archive_migration(MIGRATIONS, database_url, "0006")
