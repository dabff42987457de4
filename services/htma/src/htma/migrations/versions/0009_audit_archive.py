"""The audit log's archive and checkpoints (spaps-auth 0.5), for audit retention.

The steps are spaps-auth's ``upgrade_audit_archive``/``downgrade_audit_archive``:
``auth_audit_archive`` holds entries moved out of the live log by ``AuditRetention``,
unchanged, and ``auth_audit_checkpoints`` one row per archiving batch (the last entry
moved, how many, when, and a digest chained over the previous checkpoint), so the live
log's hash chain stays verifiable from the latest checkpoint. The downgrade moves
archived entries back into the live log before dropping both tables.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op
from spaps_auth import downgrade_audit_archive, upgrade_audit_archive

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_audit_archive(op)


def downgrade() -> None:
    downgrade_audit_archive(op)
