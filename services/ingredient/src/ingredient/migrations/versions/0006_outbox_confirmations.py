"""End-to-end acknowledgement on the outbox (spaps-jobs 0.3) and the dead-letter table.

The steps are spaps-jobs' ``upgrade_to_0_3``/``downgrade_from_0_3``: ``spaps_outbox``
gets the confirmation columns of ``Outbox(confirmations=True)`` (``confirmed_at``,
``redeliver_at``, ``publishes``, ``dead_lettered_at``) with the partial index the relay
scans; rows sent before this revision have ``redeliver_at`` NULL and are never re-sent.
``spaps_dead_letters`` (spaps-jobs' ``DeadLetterStore``) is created here, so the worker's
database role needs no ``CREATE``. The downgrade drops both (the confirmation state and
the dead letters are lost).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op
from spaps_jobs import downgrade_from_0_3, upgrade_to_0_3

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_to_0_3(op)


def downgrade() -> None:
    downgrade_from_0_3(op)
