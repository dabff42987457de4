"""Revocation list consulted by access-token verification."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, utcnow
from ._tables import revocations

__all__ = ["RevocationList"]


class RevocationList:
    """Revoked token ids (``jti``) and session ids, kept until the tokens would expire.

    Pass it as ``revocation=`` to :class:`~spaps_auth.TokenVerifier` so revoked access
    tokens stop working before their ``exp``; that costs one indexed lookup per request.

    Args:
        engine: Async engine holding ``auth_revocations``.
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
    """

    def __init__(self, engine: AsyncEngine, *, clock: Now = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    async def _add(self, key: str, expires_at: datetime) -> None:
        async with self._engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(revocations).values(key=key, expires_at=expires_at))
            except IntegrityError:
                await conn.execute(
                    update(revocations)
                    .where(revocations.c.key == key)
                    .values(expires_at=expires_at)
                )

    async def revoke_token(self, jti: str, *, expires_at: datetime) -> None:
        """Revoke one access token until ``expires_at`` (its ``exp``)."""
        await self._add("jti:" + jti, expires_at)

    async def revoke_session(self, session_id: str, *, expires_at: datetime) -> None:
        """Revoke every access token carrying ``sid=session_id`` until ``expires_at``."""
        await self._add("sid:" + session_id, expires_at)

    async def is_revoked(self, jti: str, session_id: str | None) -> bool:
        """Whether the token or its session is revoked (and the entry still current)."""
        keys = ["jti:" + jti] if session_id is None else ["jti:" + jti, "sid:" + session_id]
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(revocations.c.key)
                    .where(
                        or_(*(revocations.c.key == k for k in keys)),
                        revocations.c.expires_at > self._clock(),
                    )
                    .limit(1)
                )
            ).first()
        return row is not None

    async def purge_expired(self) -> int:
        """Delete entries whose tokens have expired anyway; returns how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(revocations).where(revocations.c.expires_at <= self._clock())
            )
        return int(result.rowcount)
