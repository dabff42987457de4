"""A service's Alembic scripts as one object: run them on a database given by URL (its
CLI, its tests, a demo), and run its ``env.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from ._db_engine import Database
from ._db_migrations import (
    MigrationStatus,
    downgrade_database,
    migration_status,
    upgrade_database,
)

#: Opens an engine on a database URL for the duration of an ``async with`` block.
EngineFactory = Callable[[str], AbstractAsyncContextManager[AsyncEngine]]


@asynccontextmanager
async def open_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield the engine of a :class:`Database` on ``database_url``, then dispose of it.

    For code running outside an app (a CLI command, a migration, a test): the engine is
    configured like the app's (async driver, SQLite pragmas, pre-ping).

    Args:
        database_url: database URL (sync scheme accepted, see :func:`async_url`).

    .. versionadded:: 0.2.0
    """
    database = Database(database_url)
    try:
        yield database.engine
    finally:
        await database.aclose()


class Migrations:
    """The Alembic scripts of a service, run on databases given by URL.

    One instance per service replaces the per-service glue around
    :func:`upgrade_database`, :func:`downgrade_database` and :func:`migration_status`::

        MIGRATIONS = Migrations(Path(__file__).parent / "migrations")

        await MIGRATIONS.upgrade("sqlite:///.data/app.db")

    The scripts' ``env.py`` calls :meth:`run_env`.

    Args:
        script_location: the Alembic scripts directory (holding ``env.py`` and ``versions/``).
        engine_factory: opens an engine on a URL (default: :func:`open_engine`).

    .. versionadded:: 0.2.0
    """

    def __init__(
        self, script_location: str | Path, *, engine_factory: EngineFactory = open_engine
    ) -> None:
        if not callable(engine_factory):
            raise TypeError(f"engine_factory must be callable, got {engine_factory!r}")
        self.script_location = Path(script_location)
        self.engine_factory = engine_factory

    def alembic_config(self, database_url: str) -> Config:
        """An Alembic configuration of the scripts with ``sqlalchemy.url`` set (for
        ``ScriptDirectory.from_config`` or Alembic's own commands)."""
        config = Config()
        config.set_main_option("script_location", str(self.script_location))
        # Config values are interpolated: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        return config

    def head_revision(self) -> str:
        """The newest revision of the scripts.

        Raises:
            RuntimeError: the scripts have no revision, or more than one head.
        """
        head = ScriptDirectory(str(self.script_location)).get_current_head()
        if head is None:
            raise RuntimeError(f"no migration scripts in {self.script_location}")
        return head

    async def upgrade(self, database_url: str, revision: str = "head") -> MigrationStatus:
        """Upgrade the database to ``revision`` (one transaction); returns the new status."""
        async with self.engine_factory(database_url) as engine:
            return await upgrade_database(engine, self.script_location, revision)

    async def downgrade(self, database_url: str, revision: str = "base") -> MigrationStatus:
        """Downgrade the database to ``revision`` (``"base"``: undo every migration)."""
        async with self.engine_factory(database_url) as engine:
            return await downgrade_database(engine, self.script_location, revision)

    async def status(self, database_url: str) -> MigrationStatus:
        """Where the database is against the scripts."""
        async with self.engine_factory(database_url) as engine:
            return await migration_status(engine, self.script_location)

    async def current_revision(self, database_url: str) -> str | None:
        """The revision the database is at (``None`` when never migrated)."""
        current = (await self.status(database_url)).current
        return current[0] if current else None

    def run_env(self, target_metadata: MetaData | None, **options: Any) -> None:
        """The body of the scripts' ``env.py``.

        Runs the migrations on the connection :func:`upgrade_database` hands over in
        ``config.attributes["connection"]``, or else on an engine from
        ``engine_factory`` for the configuration's ``sqlalchemy.url`` (the ``alembic``
        command line). SQLite gets batch mode (``ALTER TABLE`` by table copy) and
        column types are compared by autogenerate.

        Args:
            target_metadata: the models' metadata (what autogenerate compares).
            options: more ``context.configure`` options (e.g. ``include_object``).
        """
        connection = context.config.attributes.get("connection")
        if connection is not None:
            _run_on(connection, target_metadata, options)
            return
        url = context.config.get_main_option("sqlalchemy.url") or ""

        async def online() -> None:
            async with self.engine_factory(url) as engine, engine.begin() as conn:
                await conn.run_sync(_run_on, target_metadata, options)

        asyncio.run(online())


def _run_on(connection: Connection, metadata: MetaData | None, options: dict[str, Any]) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
