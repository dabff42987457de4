"""A bounded view of whether sessions are revoked, for token verification, kept fresh by
re-reading every remembered session together instead of one at a time."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._clock import Now
from ._tables import sessions

__all__ = ["SessionStatus"]

#: Session ids per statement of a batch re-read (below every backend's parameter limit);
#: PostgreSQL takes them all as one array parameter in one statement.
CHUNK = 500
#: The PostgreSQL re-read: one statement, prepared once, whatever the number of ids.
_LIVE_ANY = select(sessions.c.id).where(
    sessions.c.id == any_(bindparam("ids", type_=ARRAY(sessions.c.id.type))),
    sessions.c.revoked_at.is_(None),
    sessions.c.expires_at > bindparam("now"),
)


@dataclass(frozen=True, slots=True)
class _Entry:
    revoked: bool
    expires_at: datetime | None  # the session's absolute end (None when revoked)
    checked_at: datetime  # when the sessions table gave this answer


class SessionStatus:
    """Answers "is this session revoked?" from the sessions table.

    Each answer is remembered with the time it was read. A "live" answer is trusted for
    ``ttl`` (so a revocation, expiry or deletion made by another process is seen at most
    ``ttl`` late); a "revoked" answer is final. Once a remembered answer is older than
    half of ``ttl``, one background pass (:meth:`refresh`) re-reads every remembered live
    session in a few statements; under steady traffic answers thus stay fresh and a
    request for a known session costs no query. An answer older than ``ttl`` (no traffic
    refreshed it) is read again for that request. A session that does not exist or has
    expired counts as revoked. At most ``size`` sessions are remembered; the oldest entry
    is evicted first.
    """

    def __init__(self, engine: AsyncEngine, *, ttl: timedelta, size: int, clock: Now) -> None:
        if ttl < timedelta(0) or size < 1:
            raise ValueError("revocation_cache_ttl must be >= 0 and revocation_cache_size >= 1")
        self._engine = engine
        self._ttl = ttl
        self._size = size
        self._clock = clock
        # session id -> answer; insertion-ordered for eviction.
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._refreshing: asyncio.Task[int] | None = None

    def _store(self, session_id: str, entry: _Entry) -> None:
        with self._lock:
            self._entries.pop(session_id, None)
            while len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
            self._entries[session_id] = entry

    def mark_revoked(self, session_id: str) -> None:
        """Record a revocation made by this process (seen at once, not after ``ttl``)."""
        self._store(session_id, _Entry(True, None, self._clock()))

    @staticmethod
    def _answer(row: Any, now: datetime) -> _Entry:
        """The entry for a row of ``revoked_at``, ``expires_at`` (``None``: no session)."""
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return _Entry(True, None, now)
        return _Entry(False, row.expires_at, now)

    async def is_revoked(self, session_id: str) -> bool:
        now = self._clock()
        entry = self._entries.get(session_id)
        if entry is not None:
            if entry.revoked:
                return True
            if entry.expires_at is not None and entry.expires_at <= now:
                self._store(session_id, _Entry(True, None, now))
                return True
            age = now - entry.checked_at
            if age < self._ttl:
                if age * 2 >= self._ttl:
                    self._refresh_soon()
                return False
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions.c.revoked_at, sessions.c.expires_at).where(
                        sessions.c.id == session_id
                    )
                )
            ).first()
        answer = self._answer(row, now)
        self._store(session_id, answer)
        return answer.revoked

    def _refresh_soon(self) -> None:
        """Start :meth:`refresh` in the background unless one is running on this loop.

        A pass left unfinished on another event loop (one that was closed without
        cancelling it, say) never completes, so it must not hold back this loop's.
        """
        loop = asyncio.get_running_loop()
        running = self._refreshing
        if running is not None and not running.done() and running.get_loop() is loop:
            return
        task = loop.create_task(self.refresh())
        task.add_done_callback(_retrieve)
        self._refreshing = task

    async def refresh(self) -> int:
        """Re-read every remembered live session now; returns how many were read.

        Runs by itself in the background under traffic; call it to refresh on a schedule.
        Only the ids of the sessions still live come back (a session's end is fixed, kept
        from its first read); every other one was revoked, has ended or was deleted.
        """
        now = self._clock()
        with self._lock:
            remembered = [sid for sid, entry in self._entries.items() if not entry.revoked]
        if not remembered:
            return 0
        async with self._engine.connect() as conn:
            live = await _live(conn, remembered, now)
        with self._lock:
            for session_id in remembered:
                current = self._entries.get(session_id)
                # A revocation is final, even one recorded while this pass read.
                if current is not None and not current.revoked:
                    still = session_id in live
                    expires_at = current.expires_at if still else None
                    self._entries[session_id] = _Entry(not still, expires_at, now)
        return len(remembered)


def _retrieve(task: asyncio.Task[int]) -> None:
    """A failed background pass (the database is down) leaves the answers to age: once
    older than ``ttl`` each is read again by its own request, which reports the failure."""
    if not task.cancelled():
        task.exception()


async def _live(conn: AsyncConnection, ids: list[str], now: datetime) -> set[str]:
    """Which of the sessions ``ids`` exist, are not revoked and have not ended at ``now``."""
    if conn.dialect.name == "postgresql":
        return set((await conn.execute(_LIVE_ANY, {"ids": ids, "now": now})).scalars())
    live: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        query = select(sessions.c.id).where(
            sessions.c.id.in_(ids[start : start + CHUNK]),
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
        )
        live.update((await conn.execute(query)).scalars())
    return live
