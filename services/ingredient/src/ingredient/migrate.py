"""Alembic migrations, run from code (the CLI, the tests, the demo).

The migration scripts live in the package's ``migrations/`` directory (so they ship in the
wheel); spaps-ops runs them on the service's own engine configuration.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from spaps_ops.db import downgrade_database, migration_status, upgrade_database

from ingredient.db import engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration for ``database_url`` (async URL) and the service's scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts found")
    return head


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database at ``database_url`` to ``revision``."""
    async with engine_for(database_url) as engine:
        await upgrade_database(engine, MIGRATIONS_DIR, revision)


async def downgrade(database_url: str, revision: str = "base") -> None:
    """Downgrade the database at ``database_url`` to ``revision``."""
    async with engine_for(database_url) as engine:
        await downgrade_database(engine, MIGRATIONS_DIR, revision)


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    async with engine_for(database_url) as engine:
        current = (await migration_status(engine, MIGRATIONS_DIR)).current
    return current[0] if current else None
