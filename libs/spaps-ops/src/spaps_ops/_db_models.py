"""Naming conventions, optimistic locking and soft delete for SQLAlchemy models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

from ._errors import StaleWriteError

#: Constraint names Alembic can diff and drop on every backend.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Execution option that lets a query see soft-deleted rows.
INCLUDE_DELETED = "include_deleted"


def new_metadata(schema: str | None = None) -> MetaData:
    """A ``MetaData`` with :data:`NAMING_CONVENTION`. Give each service its own::

        class Base(DeclarativeBase):
            metadata = new_metadata()

    Args:
        schema: default schema.
    """
    return MetaData(naming_convention=NAMING_CONVENTION, schema=schema)


class VersionedMixin:
    """Optimistic locking: ``version_id`` is checked and bumped on every UPDATE.

    A write based on a stale read raises SQLAlchemy's ``StaleDataError``, which
    ``use_database`` answers with a 409 problem (``ops.stale_write``).
    """

    version_id: Mapped[int] = mapped_column(nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version_id}

    def expect_version(self, version: int) -> None:
        """Refuse a client write based on another version (e.g. from ``If-Match``).

        Args:
            version: the version the client read.

        Raises:
            StaleWriteError: the row is at another version.
        """
        if self.version_id != version:
            raise StaleWriteError(
                f"version {version} is stale; the resource is at version {self.version_id}"
            )


class SoftDeleteMixin:
    """Soft delete: rows get ``deleted_at`` instead of disappearing.

    Sessions from :class:`spaps_ops.db.Database` hide soft-deleted rows from every ORM
    query (relationships included); pass ``execution_options(include_deleted=True)`` to
    see them.
    """

    deleted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, index=True
    )

    @property
    def is_deleted(self) -> bool:
        """Whether the row is soft-deleted."""
        return self.deleted_at is not None

    def soft_delete(self, *, now: datetime | None = None) -> None:
        """Mark deleted (flushes as an UPDATE).

        Args:
            now: timestamp (default: the current UTC time).
        """
        self.deleted_at = now or datetime.now(UTC)

    def restore(self) -> None:
        """Undo :meth:`soft_delete`."""
        self.deleted_at = None


class OpsSession(Session):
    """The sync session class behind spaps-ops async sessions (soft-delete filter)."""


@event.listens_for(OpsSession, "do_orm_execute")
def _hide_soft_deleted(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_DELETED, False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True
            )
        )
