"""PostgreSQL row-level security on the clinic-owned tables: a second wall behind the
ORM tenant filter, for any role that does not own the tables (the application's role).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op
from spaps_tenancy import disable_rls, enable_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("panels", "results", "messages")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        # Not FORCEd: the owner (migrations, maintenance CLIs under bypass) is not filtered;
        # the service should connect as a non-owner role, which is.
        enable_rls(op, table, force=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        disable_rls(op, table)
