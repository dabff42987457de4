"""Alembic migrations, run from code (the CLI, the tests, the demo).

The migration scripts live in the service's ``migrations/`` directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from htma.db import engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration for ``database_url`` (async URL) and the service's scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts found")
    return head


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database at ``database_url`` to ``revision``."""
    await _run(database_url, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(database_url: str, revision: str = "base") -> None:
    """Downgrade the database at ``database_url`` to ``revision``."""
    await _run(database_url, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    async with engine_for(database_url) as engine, engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def _run(database_url: str, action: object) -> None:
    config = alembic_config(database_url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)  # type: ignore[operator] # a callable taking the config

    async with engine_for(database_url) as engine, engine.begin() as connection:
        await connection.run_sync(run)
