"""The spaps-jobs dedupe table behind Idempotency-Key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spaps_dedupe",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_spaps_dedupe")),
    )
    with op.batch_alter_table("spaps_dedupe", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spaps_dedupe_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("spaps_dedupe", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spaps_dedupe_expires_at"))

    op.drop_table("spaps_dedupe")
