"""The platform permission to edit the catalog, its audit, and the record of edits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
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
        "catalog_editors",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("granted_by", sa.String(length=255), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_catalog_editors")),
    )
    op.create_table(
        "catalog_editor_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_editor_events")),
    )
    op.create_index(op.f("ix_catalog_editor_events_subject"), "catalog_editor_events", ["subject"])
    op.create_table(
        "catalog_edits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reverts", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_edits")),
    )
    op.create_index(op.f("ix_catalog_edits_code"), "catalog_edits", ["code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_edits_code"), table_name="catalog_edits")
    op.drop_table("catalog_edits")
    op.drop_index(op.f("ix_catalog_editor_events_subject"), table_name="catalog_editor_events")
    op.drop_table("catalog_editor_events")
    op.drop_table("catalog_editors")
