"""The audit archive's tables as two steps for a service's Alembic migration.

Services create spaps-auth's tables in their own migrations. One that adopts audit
retention (:class:`AuditRetention`) calls :func:`upgrade_audit_archive` and
:func:`downgrade_audit_archive` with Alembic's ``op``. This module never imports
Alembic (it is not a dependency of this library): ``op`` is anything with the few
operations :class:`MigrationOps` names, which ``alembic.op`` and
``alembic.operations.Operations`` have. The tables are written out here, frozen, as a
migration's are: a later change to them gets steps of its own.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem

__all__ = ["MigrationOps", "downgrade_audit_archive", "upgrade_audit_archive"]

_ENTRY_COLUMNS = "seq, at, actor, action, target, data, prev_hash, hash"


class MigrationOps(Protocol):
    """The operations of Alembic's ``op`` these steps use (``alembic.op`` has them).

    .. versionadded:: 0.5.0
    """

    def create_table(self, table_name: str, *columns: SchemaItem) -> object: ...

    def drop_table(self, table_name: str) -> None: ...

    def execute(self, sqltext: str) -> object: ...

    def f(self, name: str) -> str: ...


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=False,
        nullable=False,
    )


def upgrade_audit_archive(op: MigrationOps) -> None:
    """Create ``auth_audit_archive`` (the columns of ``auth_audit_log``) and
    ``auth_audit_checkpoints``, the tables :class:`AuditRetention` moves entries to.

    Args:
        op: Alembic's ``op`` (any :class:`MigrationOps`).

    .. versionadded:: 0.5.0
    """
    op.create_table(
        "auth_audit_archive",
        _seq(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_auth_audit_archive")),
    )
    op.create_table(
        "auth_audit_checkpoints",
        _seq(),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_auth_audit_checkpoints")),
    )


def downgrade_audit_archive(op: MigrationOps) -> None:
    """Undo :func:`upgrade_audit_archive`, inside an Alembic ``downgrade``: the archived
    entries move back into ``auth_audit_log`` first, so the whole chain verifies again
    from its first entry (as a spaps-auth without retention verifies it); then both
    tables are dropped (the checkpoints are not needed without an archive).

    Args:
        op: Alembic's ``op`` (any :class:`MigrationOps`).

    .. versionadded:: 0.5.0
    """
    op.execute(
        f"INSERT INTO auth_audit_log ({_ENTRY_COLUMNS}) "  # noqa: S608 - constant names only
        f"SELECT {_ENTRY_COLUMNS} FROM auth_audit_archive"
    )
    op.drop_table("auth_audit_checkpoints")
    op.drop_table("auth_audit_archive")
