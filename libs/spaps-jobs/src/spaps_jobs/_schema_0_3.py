"""The schema changes of spaps-jobs 0.3 as two steps for a service's Alembic migration.

A service whose outbox table predates ``Outbox(confirmations=True)`` calls
:func:`upgrade_to_0_3` and :func:`downgrade_from_0_3` with Alembic's ``op``. This module
never imports Alembic (it is not a dependency of this library): ``op`` is anything with
the few operations :class:`MigrationOps` names, which ``alembic.op`` and
``alembic.operations.Operations`` have.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem

__all__ = ["BatchOps", "MigrationOps", "downgrade_from_0_3", "upgrade_to_0_3"]

#: The confirmation columns of ``Outbox(confirmations=True)``, in the order they are added.
_CONFIRMATION_COLUMNS = ("confirmed_at", "redeliver_at", "publishes", "dead_lettered_at")


class BatchOps(Protocol):
    """The operations of Alembic's ``batch_alter_table`` context these steps use.

    .. versionadded:: 0.4.0
    """

    def add_column(self, column: sa.Column[Any]) -> None: ...

    def drop_column(self, column_name: str) -> None: ...

    def create_index(self, index_name: str, columns: Sequence[str], **kw: Any) -> None: ...

    def drop_index(self, index_name: str) -> None: ...

    def f(self, name: str) -> str: ...


class MigrationOps(Protocol):
    """The operations of Alembic's ``op`` these steps use (``alembic.op`` has them).

    .. versionadded:: 0.4.0
    """

    def batch_alter_table(self, table_name: str) -> AbstractContextManager[BatchOps]: ...

    def create_table(self, table_name: str, *columns: SchemaItem) -> object: ...

    def drop_table(self, table_name: str) -> None: ...

    def f(self, name: str) -> str: ...


def _redeliver_index(outbox: str) -> str:
    return f"ix_{outbox}_redeliver"


def upgrade_to_0_3(
    op: MigrationOps,
    *,
    outbox: str = "spaps_outbox",
    dead_letters: str | None = "spaps_dead_letters",
) -> None:
    """Bring an outbox table created for spaps-jobs 0.2 to ``Outbox(confirmations=True)``.

    1. Adds ``confirmed_at``, ``redeliver_at``, ``publishes`` (``0``) and
       ``dead_lettered_at`` to ``outbox``, and the partial index
       ``ix_<outbox>_redeliver`` the relay scans. Rows sent before the upgrade keep
       ``redeliver_at`` NULL: they are never published again.
    2. Creates the :class:`~spaps_jobs.DeadLetterStore` table ``dead_letters`` (with its
       ``task_name`` index), so the worker's database role needs no ``CREATE``: the store
       finds the table and creates nothing. ``None`` skips it (a separate store).

    Args:
        op: Alembic's ``op`` (any :class:`MigrationOps`).
        outbox: Name of the outbox table (``Outbox(table_name=...)``).
        dead_letters: Name of the dead-letter table to create, or ``None``.

    .. versionadded:: 0.4.0
    """
    with op.batch_alter_table(outbox) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("redeliver_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("publishes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            _redeliver_index(outbox),
            ["redeliver_at"],
            unique=False,
            postgresql_where=sa.text("redeliver_at IS NOT NULL"),
            sqlite_where=sa.text("redeliver_at IS NOT NULL"),
        )
    if dead_letters is None:
        return
    op.create_table(
        dead_letters,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.String(length=255), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requeued_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{dead_letters}")),
    )
    with op.batch_alter_table(dead_letters) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{dead_letters}_task_name"), ["task_name"])


def downgrade_from_0_3(
    op: MigrationOps,
    *,
    outbox: str = "spaps_outbox",
    dead_letters: str | None = "spaps_dead_letters",
) -> None:
    """Undo :func:`upgrade_to_0_3`, inside an Alembic ``downgrade``: drops the dead-letter
    table and the confirmation columns (the dead letters and the confirmation state are
    lost). Arguments as for :func:`upgrade_to_0_3`.

    .. versionadded:: 0.4.0
    """
    if dead_letters is not None:
        with op.batch_alter_table(dead_letters) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{dead_letters}_task_name"))
        op.drop_table(dead_letters)
    with op.batch_alter_table(outbox) as batch_op:
        batch_op.drop_index(_redeliver_index(outbox))
        for column in reversed(_CONFIRMATION_COLUMNS):
            batch_op.drop_column(column)
