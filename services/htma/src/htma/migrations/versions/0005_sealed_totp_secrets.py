"""TOTP secrets sealed at rest: ``auth_totp.secret`` widened to 255 characters, and every
plaintext secret sealed (AES-GCM, bound to its user) with the primary TOTP key.

The keys come from the settings, as in the app: ``HTMA_TOTP_KEYS`` (or, in development
only, the key derived from ``HTMA_SECRET_KEY``), from the environment or ``.env``. Run
the migration with the same settings as the service, or the service cannot open the
secrets. The downgrade opens them again (it needs a key that sealed them) and narrows
the column back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from htma.settings import Settings
from spaps_auth import SecretSealer, totp_secret_aad

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TOTP = sa.table(
    "auth_totp", sa.column("user_id", sa.String), sa.column("secret", sa.String)
)  # fmt: skip


def _rows() -> list[tuple[str, str]]:
    rows = op.get_bind().execute(sa.select(_TOTP.c.user_id, _TOTP.c.secret)).all()
    return [(str(r.user_id), str(r.secret)) for r in rows]


def _write(user_id: str, secret: str) -> None:
    op.get_bind().execute(sa.update(_TOTP).where(_TOTP.c.user_id == user_id).values(secret=secret))


def upgrade() -> None:
    with op.batch_alter_table("auth_totp") as batch:
        batch.alter_column(
            "secret", existing_type=sa.String(64), type_=sa.String(255), existing_nullable=False
        )
    rows = [(u, s) for u, s in _rows() if not SecretSealer.is_sealed(s)]
    if not rows:
        return
    sealer = Settings().totp_sealer()
    for user_id, secret in rows:
        _write(user_id, sealer.seal(secret, aad=totp_secret_aad(user_id)))


def downgrade() -> None:
    rows = [(u, s) for u, s in _rows() if SecretSealer.is_sealed(s)]
    if rows:
        sealer = Settings().totp_sealer()
        for user_id, secret in rows:
            _write(user_id, sealer.open(secret, aad=totp_secret_aad(user_id)))
    with op.batch_alter_table("auth_totp") as batch:
        batch.alter_column(
            "secret", existing_type=sa.String(255), type_=sa.String(64), existing_nullable=False
        )
