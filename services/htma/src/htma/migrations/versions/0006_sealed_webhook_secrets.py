"""Webhook endpoint signing secrets sealed at rest (spaps-webhooks 0.3).

Widens ``webhook_endpoints.secret``/``previous_secret`` for sealed values and seals the
stored plaintext secrets with htma's ``webhook_sealing_keys`` setting
(``HTMA_WEBHOOK_SEALING_KEYS``, or ``SPAPS_WEBHOOKS_SEALING_KEYS`` when that is unset; the
first key seals). Without keys the rows stay as they are and a warning is logged;
``python -m spaps_webhooks rotate-secrets`` seals them once keys are configured. The
downgrade unseals (it needs the keys when a value is sealed) and narrows the columns.

Also adds ``webhook_messages.fanned_out_at``: ``publish`` now stores the message row in
the producer's transaction and the sweeper fans out messages left NULL, so no event exists
only inside a broker. Messages already stored were fanned out: they get their
``created_at``. And ``webhook_receipts``, where a receiver records what it answered
(``SqlReceiptLog``: accepted, duplicate, rejected).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from htma.settings import Settings
from spaps_webhooks import SecretSealer, seal_existing_secrets, unseal_secrets

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "webhook_endpoints"
MESSAGES = "webhook_messages"


def _resize(old: int, new: int) -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "previous_secret", existing_type=sa.String(length=old),
            type_=sa.String(length=new), existing_nullable=True,
        )  # fmt: skip


def _sealer() -> SecretSealer | None:
    """The service's sealing keys; ``SPAPS_WEBHOOKS_SEALING_KEYS`` when it has none."""
    return Settings().webhook_sealer() or SecretSealer.from_env()


def upgrade() -> None:
    _resize(128, 512)
    seal_existing_secrets(op.get_bind(), _sealer(), table_name=TABLE)
    with op.batch_alter_table(MESSAGES, schema=None) as batch_op:
        batch_op.add_column(sa.Column("fanned_out_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_webhook_messages_fanned_out_at"), ["fanned_out_at"], unique=False
        )
    messages = sa.table(MESSAGES, sa.column("created_at"), sa.column("fanned_out_at"))
    op.execute(sa.update(messages).values(fanned_out_at=messages.c.created_at))
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=256), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
    )
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_receipts_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_receipts_received_at"))
    op.drop_table("webhook_receipts")
    with op.batch_alter_table(MESSAGES, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_messages_fanned_out_at"))
        batch_op.drop_column("fanned_out_at")
    unseal_secrets(op.get_bind(), _sealer(), table_name=TABLE)
    _resize(512, 128)
