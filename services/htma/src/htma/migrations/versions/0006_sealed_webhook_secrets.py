"""Webhook endpoint signing secrets sealed at rest, and the rest of spaps-webhooks 0.3's
schema: ``upgrade_to_0_3``/``downgrade_from_0_3`` (docs/spaps-webhooks.md, "Migrating a 0.2
schema to 0.3"). The keys are htma's ``webhook_sealing_keys`` setting
(``HTMA_WEBHOOK_SEALING_KEYS``), else ``SPAPS_WEBHOOKS_SEALING_KEYS``; without
keys the secrets stay unsealed (a warning; ``python -m spaps_webhooks rotate-secrets``
seals them later) and the downgrade needs the keys while a value is sealed.

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
