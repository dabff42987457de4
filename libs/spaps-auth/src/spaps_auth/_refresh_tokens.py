"""Refresh-token rows: opaque secrets stored as SHA-256, one row per token of a session.

A session's refresh tokens form its *family*: each refresh consumes one row and adds the
next. These helpers run inside the caller's transaction; :class:`SessionManager` decides
what a used, expired or revoked token means.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ._clock import sha256_hex
from ._tables import refresh_tokens, sessions

__all__ = [
    "REFRESH_PREFIX",
    "RefreshTokenRecord",
    "add_refresh_token",
    "consume_refresh_token",
    "find_refresh_token",
]

REFRESH_PREFIX = "rt_"


class RefreshTokenRecord(NamedTuple):
    """A stored refresh token with what its session says about it."""

    id: str
    used: bool
    expires_at: datetime
    session_id: str
    user_id: str
    revoked_at: datetime | None
    claims: dict[str, Any]
    session_expires: datetime


async def add_refresh_token(
    conn: AsyncConnection, session_id: str, *, now: datetime, expires_at: datetime
) -> str:
    """Store a new refresh token of ``session_id`` and return it (shown once)."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    await conn.execute(
        insert(refresh_tokens).values(
            id=secrets.token_hex(16),
            session_id=session_id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=expires_at,
            used=False,
        )
    )
    return token


async def find_refresh_token(conn: AsyncConnection, token: str) -> RefreshTokenRecord | None:
    """The record of ``token`` joined with its session, or ``None`` for an unknown token."""
    row = (
        await conn.execute(
            select(
                refresh_tokens.c.id,
                refresh_tokens.c.used,
                refresh_tokens.c.expires_at,
                sessions.c.id.label("session_id"),
                sessions.c.user_id,
                sessions.c.revoked_at,
                sessions.c.claims,
                sessions.c.expires_at.label("session_expires"),
            )
            .join(sessions, sessions.c.id == refresh_tokens.c.session_id)
            .where(refresh_tokens.c.token_hash == sha256_hex(token))
        )
    ).first()
    return None if row is None else RefreshTokenRecord(*row)


async def consume_refresh_token(conn: AsyncConnection, token_id: str, now: datetime) -> bool:
    """Mark the token used; ``False`` when another transaction already did.

    The conditional UPDATE is the arbiter between concurrent refreshes: the row lock
    makes the loser re-check ``used`` and match nothing.
    """
    result = await conn.execute(
        update(refresh_tokens)
        .where(and_(refresh_tokens.c.id == token_id, refresh_tokens.c.used.is_(False)))
        .values(used=True, used_at=now)
    )
    return result.rowcount == 1
