"""A bounded, briefly cached view of whether sessions are revoked, for token verification."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now
from ._tables import sessions

__all__ = ["SessionStatus"]


class SessionStatus:
    """Answers "is this session revoked?" from the sessions table, caching each answer.

    A "live" answer is reused for ``ttl`` (so a revocation made by another process is
    seen at most ``ttl`` late); a "revoked" answer is final and kept until evicted. At
    most ``size`` sessions are remembered, the oldest entry is evicted first. A session
    that does not exist or has expired counts as revoked.
    """

    def __init__(self, engine: AsyncEngine, *, ttl: timedelta, size: int, clock: Now) -> None:
        if ttl < timedelta(0) or size < 1:
            raise ValueError("revocation_cache_ttl must be >= 0 and revocation_cache_size >= 1")
        self._engine = engine
        self._ttl = ttl
        self._size = size
        self._clock = clock
        # session id -> (revoked, live answer valid until); insertion-ordered for eviction.
        self._entries: dict[str, tuple[bool, datetime]] = {}
        self._lock = threading.Lock()

    def _store(self, session_id: str, revoked: bool, until: datetime) -> None:
        with self._lock:
            self._entries.pop(session_id, None)
            while len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
            self._entries[session_id] = (revoked, until)

    def mark_revoked(self, session_id: str) -> None:
        """Record a revocation made by this process (seen at once, not after ``ttl``)."""
        self._store(session_id, True, self._clock())

    async def is_revoked(self, session_id: str) -> bool:
        now = self._clock()
        entry = self._entries.get(session_id)
        if entry is not None and (entry[0] or now < entry[1]):
            return entry[0]
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions.c.revoked_at, sessions.c.expires_at).where(
                        sessions.c.id == session_id
                    )
                )
            ).first()
        revoked = row is None or row.revoked_at is not None or row.expires_at <= now
        self._store(session_id, revoked, now + self._ttl)
        return revoked
