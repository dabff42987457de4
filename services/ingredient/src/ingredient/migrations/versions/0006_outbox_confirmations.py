"""End-to-end acknowledgement on the outbox (spaps-jobs 0.3) and the dead-letter table.

``spaps_outbox`` gets the confirmation columns of ``Outbox(confirmations=True)``:
``confirmed_at``, ``redeliver_at`` (when the relay publishes an unconfirmed message
again), ``publishes`` and ``dead_lettered_at``, with the partial index the relay scans.
Rows sent before this revision have ``redeliver_at`` NULL: they are never re-sent.

``spaps_dead_letters`` (spaps-jobs' ``DeadLetterStore``) is created here, so the worker's
database role needs no ``CREATE``: the store finds the table and creates nothing.

The downgrade drops both (the confirmation state and the dead letters are lost).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OUTBOX = "spaps_outbox"
DEAD_LETTERS = "spaps_dead_letters"
REDELIVER_INDEX = f"ix_{OUTBOX}_redeliver"


def upgrade() -> None:
    with op.batch_alter_table(OUTBOX, schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("redeliver_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("publishes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            REDELIVER_INDEX,
            ["redeliver_at"],
            unique=False,
            postgresql_where=sa.text("redeliver_at IS NOT NULL"),
            sqlite_where=sa.text("redeliver_at IS NOT NULL"),
        )

    op.create_table(
        DEAD_LETTERS,
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
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{DEAD_LETTERS}")),
    )
    with op.batch_alter_table(DEAD_LETTERS, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{DEAD_LETTERS}_task_name"), ["task_name"])


def downgrade() -> None:
    with op.batch_alter_table(DEAD_LETTERS, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{DEAD_LETTERS}_task_name"))
    op.drop_table(DEAD_LETTERS)

    with op.batch_alter_table(OUTBOX, schema=None) as batch_op:
        batch_op.drop_index(REDELIVER_INDEX)
        batch_op.drop_column("dead_lettered_at")
        batch_op.drop_column("publishes")
        batch_op.drop_column("redeliver_at")
        batch_op.drop_column("confirmed_at")
