"""Refresh-token rows: opaque secrets stored as SHA-256, one row per token of a session.

A session's refresh tokens form its *family*: each refresh consumes one row and adds the
next. The next token is derived from the presented one and the consumed row's id (a
random value that never leaves the database), so a second presentation of a just-rotated
token can be answered with the very same successor, and a client that does not hold the
token cannot compute it. These helpers run inside the caller's transaction;
:class:`SessionManager` decides what a used, expired or revoked token means.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
    "replayed_successor",
    "successor_token",
]

REFRESH_PREFIX = "rt_"


class RefreshTokenRecord(NamedTuple):
    """A stored refresh token with what its session says about it."""

    id: str
    used: bool
    used_at: datetime | None
    expires_at: datetime
    session_id: str
    user_id: str
    revoked_at: datetime | None
    claims: dict[str, Any]
    session_expires: datetime


def successor_token(token: str, row_id: str) -> str:
    """The token that replaces ``token`` (stored as row ``row_id``) when it is rotated."""
    mac = hmac.new(token.encode(), b"successor:" + row_id.encode(), hashlib.sha256).digest()
    return REFRESH_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def add_refresh_token(
    conn: AsyncConnection,
    session_id: str,
    *,
    now: datetime,
    expires_at: datetime,
    token: str | None = None,
) -> str:
    """Store a refresh token of ``session_id`` (a random one by default), return it."""
    token = token or REFRESH_PREFIX + secrets.token_urlsafe(32)
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
                refresh_tokens.c.used_at,
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


async def replayed_successor(conn: AsyncConnection, token: str, since: datetime) -> str | None:
    """The successor of ``token`` when ``token`` was rotated after ``since`` and its
    successor is still unused (``token`` is the newest rotated one); else ``None``.

    Runs after the caller lost the conditional UPDATE or found the token used, so the
    row is read again: under READ COMMITTED this statement sees the winner's commit.
    """
    row = await find_refresh_token(conn, token)
    if row is None or row.revoked_at is not None or row.used_at is None:
        return None
    if row.used_at <= since:
        return None
    successor = successor_token(token, row.id)
    used = (
        await conn.execute(
            select(refresh_tokens.c.used).where(
                refresh_tokens.c.token_hash == sha256_hex(successor),
                refresh_tokens.c.session_id == row.session_id,
            )
        )
    ).scalar_one_or_none()
    return successor if used is False else None
