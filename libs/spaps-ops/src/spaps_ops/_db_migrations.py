"""Alembic migration status (current vs head revision) as a health check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
