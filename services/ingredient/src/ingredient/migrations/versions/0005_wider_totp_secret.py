"""``auth_totp.secret`` wide enough for sealed TOTP secrets (spaps-auth).

spaps-auth seals TOTP secrets at rest (``s1:<key id>:<base64>``), longer than the 64
characters revision 0002 gave the column; its table now declares 255. The downgrade
narrows the column back and refuses while a stored value is longer than 64 characters
(a sealed secret): open them with spaps-auth first, as nothing here holds its keys.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "auth_totp"
NARROW = 64
WIDE = 255


def _resize(old: int, new: int) -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )


def upgrade() -> None:
    _resize(NARROW, WIDE)


def downgrade() -> None:
    totp = sa.table(TABLE, sa.column("secret", sa.String()))
    too_long = (
        op.get_bind()
        .execute(sa.select(sa.func.count()).where(sa.func.length(totp.c.secret) > NARROW))
        .scalar_one()
    )
    if too_long:
        raise RuntimeError(
            f"{too_long} {TABLE}.secret values are longer than {NARROW} characters (sealed):"
            " open them with spaps-auth before downgrading past revision 0005"
        )
    _resize(WIDE, NARROW)
