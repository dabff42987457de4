"""Alembic migrations: upgrade, downgrade, and agreement with the models, on both back ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alembic.script import ScriptDirectory
from htma.migrate import MIGRATIONS
from htma.models import Base

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


async def test_outbox_confirmations_and_dead_letters_up_and_down(
    database_url: str, confirmations_migration: Callable[..., Awaitable[None]]
) -> None:
    """0007 adds the outbox's confirmation columns, its redelivery index and the
    dead-letter table; its downgrade removes them and keeps the outbox's rows."""
    await confirmations_migration(MIGRATIONS, database_url, "0006")


async def test_erasure_requests_up_and_down(database_url: str, table_names: Any) -> None:
    """0008 adds the erasure requests; its downgrade removes them and nothing else."""
    await MIGRATIONS.upgrade(database_url, "0007")
    before = await table_names(database_url)
    assert "erasure_requests" not in before
    await MIGRATIONS.upgrade(database_url, "0008")
    assert await table_names(database_url) == before | {"erasure_requests"}
    await MIGRATIONS.downgrade(database_url, "0007")
    assert await table_names(database_url) == before


async def test_audit_archive_up_and_down(
    database_url: str, audit_archive_migration: Callable[..., Awaitable[None]]
) -> None:
    """0009 adds the audit archive and its checkpoints; its downgrade moves archived
    entries back into the live log."""
    await audit_archive_migration(MIGRATIONS, database_url, "0008")
