"""The schema changes of spaps-webhooks 0.3 as two steps for a service's Alembic migration.

A service's migration calls :func:`upgrade_to_0_3` and :func:`downgrade_from_0_3` with
Alembic's ``op``. This module never imports Alembic (it is not a dependency of this
library): ``op`` is anything with the few operations :class:`MigrationOps` names, which
``alembic.op`` and ``alembic.operations.Operations`` have.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.schema import SchemaItem
from sqlalchemy.types import TypeEngine

from ._reseal import seal_existing_secrets, unseal_secrets
from ._sealing import SecretSealer

_PLAIN, _SEALED = 128, 512  # lengths of webhook_endpoints.secret/previous_secret: 0.2, 0.3


class BatchOps(Protocol):
    """The operations of Alembic's ``batch_alter_table`` context these steps use."""

    def alter_column(
        self,
        column_name: str,
        *,
        type_: TypeEngine[Any] | None = None,
        existing_type: TypeEngine[Any] | None = None,
        existing_nullable: bool | None = None,
    ) -> None: ...

    def add_column(self, column: sa.Column[Any]) -> None: ...

    def drop_column(self, column_name: str) -> None: ...

    def create_index(self, index_name: str, columns: Sequence[str], *, unique: bool) -> None: ...

    def drop_index(self, index_name: str) -> None: ...

    def f(self, name: str) -> str: ...


class MigrationOps(Protocol):
    """The operations of Alembic's ``op`` these steps use (``alembic.op`` has them).

    .. versionadded:: 0.4.0
    """

    def get_bind(self) -> Connection: ...

    def batch_alter_table(self, table_name: str) -> AbstractContextManager[BatchOps]: ...

    def execute(self, sqltext: Executable) -> None: ...

    def create_table(self, table_name: str, *columns: SchemaItem) -> object: ...

    def drop_table(self, table_name: str) -> None: ...

    def f(self, name: str) -> str: ...


def _resize(op: MigrationOps, table: str, old: int, new: int) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "previous_secret",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=True,
        )


def upgrade_to_0_3(
    op: MigrationOps,
    sealer: SecretSealer | None,
    *,
    endpoints: str = "webhook_endpoints",
    messages: str = "webhook_messages",
    receipts: str = "webhook_receipts",
) -> None:
    """Bring tables created for spaps-webhooks 0.2 to 0.3, inside an Alembic ``upgrade``.

    1. Widens ``secret``/``previous_secret`` of ``endpoints`` to ``String(512)`` and seals
       the stored plaintext secrets with ``sealer`` (:func:`seal_existing_secrets`; with
       ``None`` the rows stay as they are and a warning is logged, ``python -m
       spaps_webhooks rotate-secrets`` seals them once keys are configured).
    2. Adds the indexed ``fanned_out_at`` column to ``messages``; rows already stored were
       fanned out, so they get their ``created_at``.
    3. Creates ``receipts`` (:class:`SqlReceiptLog`) with its ``received_at`` index.

    Args:
        op: Alembic's ``op`` (any :class:`MigrationOps`).
        sealer: The keys that seal; ``None`` leaves the secrets unsealed.
        endpoints: Name of the endpoints table.
        messages: Name of the messages table.
        receipts: Name of the receipts table to create.

    .. versionadded:: 0.4.0
    """
    _resize(op, endpoints, _PLAIN, _SEALED)
    seal_existing_secrets(op.get_bind(), sealer, table_name=endpoints)
    with op.batch_alter_table(messages) as batch_op:
        batch_op.add_column(sa.Column("fanned_out_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f(f"ix_{messages}_fanned_out_at"), ["fanned_out_at"], unique=False
        )
    stored = sa.table(messages, sa.column("created_at"), sa.column("fanned_out_at"))
    op.execute(sa.update(stored).values(fanned_out_at=stored.c.created_at))
    op.create_table(
        receipts,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=256), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{receipts}")),
    )
    with op.batch_alter_table(receipts) as batch_op:
        batch_op.create_index(
            batch_op.f(f"ix_{receipts}_received_at"), ["received_at"], unique=False
        )


def downgrade_from_0_3(
    op: MigrationOps,
    sealer: SecretSealer | None,
    *,
    endpoints: str = "webhook_endpoints",
    messages: str = "webhook_messages",
    receipts: str = "webhook_receipts",
) -> None:
    """Undo :func:`upgrade_to_0_3`, inside an Alembic ``downgrade``.

    Drops ``receipts`` and ``messages.fanned_out_at``, unseals the endpoint secrets
    (:func:`unseal_secrets`: it raises :class:`SecretSealingError` while a value is sealed
    and ``sealer`` is ``None`` or lacks its key) and narrows the columns back to
    ``String(128)``. Arguments as for :func:`upgrade_to_0_3`.

    .. versionadded:: 0.4.0
    """
    with op.batch_alter_table(receipts) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{receipts}_received_at"))
    op.drop_table(receipts)
    with op.batch_alter_table(messages) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{messages}_fanned_out_at"))
        batch_op.drop_column("fanned_out_at")
    unseal_secrets(op.get_bind(), sealer, table_name=endpoints)
    _resize(op, endpoints, _SEALED, _PLAIN)
