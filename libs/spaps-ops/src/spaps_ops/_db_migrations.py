"""Alembic from code: migration status (current vs head) as a health check, and running
upgrades and downgrades on an async engine (CLIs, tests, start-up)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ._errors import SpapsOpsError
from ._health import HealthCheck


class MigrationsPendingError(SpapsOpsError):
    """The database is not at the head revision."""


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where the database is against the migration scripts."""

    current: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at every head."""
        return set(self.current) == set(self.heads)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "current": list(self.current),
            "heads": list(self.heads),
            "up_to_date": self.up_to_date,
        }


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def migration_status(engine: AsyncEngine, script_location: str | Path) -> MigrationStatus:
    """Compare the database's revision with the head(s) of the migration scripts.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory (holding ``versions/``).
    """
    heads = tuple(ScriptDirectory(str(script_location)).get_heads())
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    return MigrationStatus(current=current, heads=heads)


def migration_check(engine: AsyncEngine, script_location: str | Path) -> HealthCheck:
    """A readiness check failing while migrations are pending; ``/health`` shows the
    revisions. Register it with ``get_ops(app).add_check("migrations", ...)``.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory.
    """

    async def check() -> Mapping[str, Any]:
        status = await migration_status(engine, script_location)
        if not status.up_to_date:
            raise MigrationsPendingError(
                f"database at {list(status.current)}, scripts at {list(status.heads)}"
            )
        return status.as_dict()

    return check


def _config(script_location: str | Path, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    return config


async def upgrade_database(
    engine: AsyncEngine, script_location: str | Path, revision: str = "head"
) -> MigrationStatus:
    """Run ``alembic upgrade`` to ``revision`` in one transaction on ``engine``.

    The scripts' ``env.py`` must run on the connection handed over in
    ``context.config.attributes["connection"]`` (the Alembic cookbook's "sharing a
    connection" recipe); Alembic runs synchronously, so it runs inside ``run_sync``.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory (holding ``env.py`` and ``versions/``).
        revision: target revision.

    Returns:
        The status afterwards.
    """
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(_config(script_location, sync), revision))
    return await migration_status(engine, script_location)


async def downgrade_database(
    engine: AsyncEngine, script_location: str | Path, revision: str = "base"
) -> MigrationStatus:
    """Run ``alembic downgrade`` to ``revision``; see :func:`upgrade_database`.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory.
        revision: target revision (``"base"``: undo every migration).

    Returns:
        The status afterwards.
    """
    async with engine.begin() as conn:
        await conn.run_sync(
            lambda sync: command.downgrade(_config(script_location, sync), revision)
        )
    return await migration_status(engine, script_location)
