"""Database resources (needs the ``db`` extra: ``spaps-ops[db]``).

Not imported by the package root, so the core works without SQLAlchemy.
"""

from ._db_engine import (
    Database,
    SessionDep,
    async_url,
    get_database,
    get_session,
    session_scope,
    use_database,
)
from ._db_migrations import (
    MigrationsPendingError,
    MigrationStatus,
    downgrade_database,
    migration_check,
    migration_status,
    upgrade_database,
)
from ._db_models import (
    INCLUDE_DELETED,
    NAMING_CONVENTION,
    OpsSession,
    SoftDeleteMixin,
    VersionedMixin,
    new_metadata,
)
from ._db_outage import DatabaseOutageMiddleware, DatabaseUnavailableError, is_database_outage
from ._migration_commands import CommandErrors
from ._migrations import Migrations, open_engine

_SYNC_DRIVERS = (
    ("sqlite+aiosqlite://", "sqlite://"),
    ("postgresql+asyncpg://", "postgresql+psycopg://"),
)


def sync_url(database_url: str) -> str:
    """The synchronous-driver URL of the same database, for code that needs a sync
    engine (Celery tasks, an outbox relay): the inverse of :func:`async_url`.

    Args:
        database_url: a ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URL.

    Returns:
        The ``sqlite://`` (pysqlite) or ``postgresql+psycopg://`` (psycopg 3) URL.

    Raises:
        ValueError: no synchronous driver is known for the URL's.

    .. versionadded:: 0.2.0
    """
    for prefix, replacement in _SYNC_DRIVERS:
        if database_url.startswith(prefix):
            return replacement + database_url[len(prefix) :]
    raise ValueError(f"no synchronous driver for {database_url!r}")


__all__ = [
    "CommandErrors",
    "Database",
    "DatabaseOutageMiddleware",
    "DatabaseUnavailableError",
    "INCLUDE_DELETED",
    "MigrationStatus",
    "Migrations",
    "MigrationsPendingError",
    "NAMING_CONVENTION",
    "OpsSession",
    "SessionDep",
    "SoftDeleteMixin",
    "VersionedMixin",
    "async_url",
    "downgrade_database",
    "get_database",
    "get_session",
    "is_database_outage",
    "migration_check",
    "migration_status",
    "new_metadata",
    "open_engine",
    "session_scope",
    "sync_url",
    "upgrade_database",
    "use_database",
]
