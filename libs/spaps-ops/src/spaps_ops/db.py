"""Database resources (needs the ``db`` extra: ``spaps-ops[db]``).

Not imported by the package root, so the core works without SQLAlchemy.
"""

from ._db_engine import Database, SessionDep, async_url, get_database, get_session, use_database
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

__all__ = [
    "Database",
    "INCLUDE_DELETED",
    "MigrationStatus",
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
    "migration_check",
    "migration_status",
    "new_metadata",
    "upgrade_database",
    "use_database",
]
