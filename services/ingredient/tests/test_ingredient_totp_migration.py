"""Revision 0005 widens ``auth_totp.secret`` for sealed TOTP secrets, up and down, on both
back ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ingredient.migrate import MIGRATIONS
from spaps_ops.db import sync_url
from sqlalchemy import create_engine, inspect, text

REVISION = "0005"
BEFORE = "0004"
# As long as a sealed value (``s1:<kid>:<base64 of nonce, ciphertext and tag>``).
SEALED_LIKE = "s1:k1:" + "A" * 100
PLAIN_LIKE = "B" * 32


def secret_length(database_url: str) -> int | None:
    """The declared length of ``auth_totp.secret``, read from the database."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        column = {c["name"]: c for c in inspect(conn).get_columns("auth_totp")}["secret"]
    engine.dispose()
    length = getattr(column["type"], "length", None)
    return length if isinstance(length, int) else None


def insert_totp(database_url: str, user_id: str, secret: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO auth_totp (user_id, secret, confirmed, created_at)"
                " VALUES (:user_id, :secret, false, :now)"
            ),
            {"user_id": user_id, "secret": secret, "now": datetime.now(UTC)},
        )
    engine.dispose()


def stored(database_url: str) -> dict[str, str]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_id, secret FROM auth_totp"))
        found = {r.user_id: r.secret for r in rows}
    engine.dispose()
    return found


async def test_upgrade_widens_and_downgrade_narrows(database_url: str) -> None:
    await MIGRATIONS.upgrade(database_url, BEFORE)
    assert secret_length(database_url) == 64
    insert_totp(database_url, "u_plain", PLAIN_LIKE)
    await MIGRATIONS.upgrade(database_url, REVISION)
    assert secret_length(database_url) == 255
    insert_totp(database_url, "u_sealed", SEALED_LIKE)
    assert stored(database_url) == {"u_plain": PLAIN_LIKE, "u_sealed": SEALED_LIKE}
    # Clear the long value, then the downgrade narrows the column and keeps the short one.
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auth_totp WHERE user_id = 'u_sealed'"))
    engine.dispose()
    await MIGRATIONS.downgrade(database_url, BEFORE)
    assert secret_length(database_url) == 64
    assert stored(database_url) == {"u_plain": PLAIN_LIKE}
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()


async def test_downgrade_refuses_while_a_sealed_secret_is_stored(database_url: str) -> None:
    await MIGRATIONS.upgrade(database_url, REVISION)
    insert_totp(database_url, "u_sealed", SEALED_LIKE)
    with pytest.raises(RuntimeError, match="longer than 64"):
        await MIGRATIONS.downgrade(database_url, BEFORE)
    # Nothing was lost or truncated, and the revision stayed.
    assert await MIGRATIONS.current_revision(database_url) == REVISION
    assert secret_length(database_url) == 255
    assert stored(database_url) == {"u_sealed": SEALED_LIKE}
