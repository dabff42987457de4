"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from htma.migrate import MIGRATIONS
from htma.models import Base
from spaps_ops.db import open_engine
from sqlalchemy import inspect, text

APP_TABLES = {"clinics", "users", "panels", "results", "messages"}


async def test_upgrade_and_downgrade_round_trip(database_url: str, table_names: Any) -> None:
    assert await MIGRATIONS.current_revision(database_url) is None
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()
    tables = await table_names(database_url)
    assert tables >= APP_TABLES | {"auth_sessions", "auth_refresh_tokens"}
    await MIGRATIONS.downgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) is None
    assert await table_names(database_url) <= {"alembic_version"}
    await MIGRATIONS.upgrade(database_url)
    assert await table_names(database_url) == tables


async def test_models_match_migrations(database_url: str, models_match: Any) -> None:
    await MIGRATIONS.upgrade(database_url)
    await models_match(database_url, Base.metadata, probe_table="panels")


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(MIGRATIONS.alembic_config("sqlite://"))
    assert script.get_heads() == [MIGRATIONS.head_revision()]
    history = [r.revision for r in script.walk_revisions()][::-1]
    # 0005 seals TOTP secrets; later revisions chain on it.
    assert history[:5] == ["0001", "0002", "0003", "0004", "0005"]


CONFIRMATION_COLUMNS = {"confirmed_at", "redeliver_at", "publishes", "dead_lettered_at"}


async def test_outbox_confirmations_and_dead_letters_up_and_down(database_url: str) -> None:
    """0007 adds the outbox's confirmation columns, its redelivery index and the
    dead-letter table; its downgrade removes them and keeps the outbox's rows."""

    def shape(connection: Any) -> tuple[set[str], set[str], set[str]]:
        found = inspect(connection)
        return (
            {c["name"] for c in found.get_columns("spaps_outbox")},
            {i["name"] for i in found.get_indexes("spaps_outbox")},
            set(found.get_table_names()),
        )

    await MIGRATIONS.upgrade(database_url, "0006")
    async with open_engine(database_url) as engine, engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO spaps_outbox (message_id, topic, payload, headers, created_at,"
                " attempts) VALUES ('m1', 't', '{}', '{}', CURRENT_TIMESTAMP, 0)"
            )
        )
    await MIGRATIONS.upgrade(database_url)
    async with open_engine(database_url) as engine:
        async with engine.connect() as connection:
            columns, indexes, tables = await connection.run_sync(shape)
            publishes = await connection.scalar(text("SELECT publishes FROM spaps_outbox"))
        assert columns >= CONFIRMATION_COLUMNS
        assert "ix_spaps_outbox_redeliver" in indexes
        assert "spaps_dead_letters" in tables
        assert publishes == 0  # existing rows: never published under confirmations
    await MIGRATIONS.downgrade(database_url, "0006")
    async with open_engine(database_url) as engine, engine.connect() as connection:
        columns, indexes, tables = await connection.run_sync(shape)
        kept = await connection.scalar(text("SELECT count(*) FROM spaps_outbox"))
    assert not columns & CONFIRMATION_COLUMNS
    assert "ix_spaps_outbox_redeliver" not in indexes
    assert "spaps_dead_letters" not in tables
    assert kept == 1
