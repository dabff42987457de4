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

from alembic import op
from htma.settings import Settings
from spaps_webhooks import SecretSealer, downgrade_from_0_3, upgrade_to_0_3

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _sealer() -> SecretSealer | None:
    """The service's sealing keys; ``SPAPS_WEBHOOKS_SEALING_KEYS`` when it has none."""
    return Settings().webhook_sealer() or SecretSealer.from_env()


def upgrade() -> None:
    upgrade_to_0_3(op, _sealer())


def downgrade() -> None:
    downgrade_from_0_3(op, _sealer())
