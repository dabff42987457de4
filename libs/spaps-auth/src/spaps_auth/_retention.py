"""Retention of finished sessions and invitations, as targets of a retention runner.

Each target satisfies spaps-jobs' ``RetentionTarget`` protocol structurally (this library
does not import spaps-jobs): a stable ``name``, a ``default_keep``, and two coroutines
that run inside the runner's transaction, one batch each, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ._tables import invitations, refresh_tokens, sessions

__all__ = [
    "InvitationRetention",
    "SessionRetention",
    "check_batch",
    "check_keep",
    "skip_locked",
]


def check_keep(keep: timedelta) -> timedelta:
    """``keep`` if it is positive; raises ``ValueError`` otherwise."""
    if keep <= timedelta(0):
        raise ValueError("keep must be a positive timedelta")
    return keep


def check_batch(cutoff: datetime, limit: int | None = None) -> None:
    """Refuse a naive ``cutoff`` and a ``limit`` below 1 before any SQL runs."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be an aware UTC datetime")
    if limit is not None and limit < 1:
        raise ValueError("limit must be >= 1")


def skip_locked(connection: AsyncConnection, query: Select[Any]) -> Select[Any]:
    """``query`` locking its rows ``SKIP LOCKED`` on PostgreSQL, so two purges at once
    share the rows instead of waiting for each other (SQLite has one writer anyway)."""
    if connection.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _earlier(first: ColumnElement[Any], then: ColumnElement[Any]) -> ColumnElement[Any]:
    """``first`` when it is set and earlier than ``then``, else ``then`` (both backends;
    SQLite has no ``LEAST``)."""
    return case((first < then, first), else_=then)


# A session is over when it expired or was revoked, whichever came first.
_session_ended = _earlier(sessions.c.revoked_at, sessions.c.expires_at)
# An invitation is over when it was accepted, revoked (a resend revokes the previous
# one) or expired, whichever came first.
_invitation_ended = _earlier(
    func.coalesce(invitations.c.accepted_at, invitations.c.revoked_at), invitations.c.expires_at
)


class SessionRetention:
    """Deletes sessions that expired or were revoked before the cutoff, with their
    refresh tokens (first, in the same transaction): ``"auth.sessions"``.

    Active sessions are never touched, however old. Register it with a retention
    runner, e.g. ``spaps_jobs.Retention(engine).register(SessionRetention())``.

    Args:
        keep: How long a finished session stays (default 30 days: long enough to look
            into a revoked or stolen session, and its refresh-token reuse, afterwards).

    .. versionadded:: 0.5.0
    """

    def __init__(self, *, keep: timedelta = timedelta(days=30)) -> None:
        self._keep = check_keep(keep)

    @property
    def name(self) -> str:
        """``"auth.sessions"``."""
        return "auth.sessions"

    @property
    def default_keep(self) -> timedelta:
        """How long a session is kept after it ended."""
        return self._keep

    @staticmethod
    def _expired(cutoff: datetime) -> ColumnElement[bool]:
        return or_(sessions.c.expires_at < cutoff, sessions.c.revoked_at < cutoff)

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many sessions :meth:`purge_batch` would delete in total (reads only).

        Args:
            connection: A connection of the database holding the spaps-auth tables.
            cutoff: Sessions that ended before this aware UTC datetime are expired.
        """
        check_batch(cutoff)
        query = select(func.count()).select_from(sessions).where(self._expired(cutoff))
        return int((await connection.execute(query)).scalar_one())

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete at most ``limit`` expired sessions (those that ended first) and their
        refresh tokens, in the caller's transaction; returns how many sessions.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Sessions that ended before this aware UTC datetime are deleted.
            limit: At most this many sessions.
        """
        check_batch(cutoff, limit)
        query = (
            select(sessions.c.id)
            .where(self._expired(cutoff))
            .order_by(_session_ended, sessions.c.id)
            .limit(limit)
        )
        ids = list((await connection.execute(skip_locked(connection, query))).scalars())
        if ids:
            await connection.execute(
                delete(refresh_tokens).where(refresh_tokens.c.session_id.in_(ids))
            )
            await connection.execute(delete(sessions).where(sessions.c.id.in_(ids)))
        return len(ids)


class InvitationRetention:
    """Deletes organisation and team invitations that expired, were accepted or were
    revoked before the cutoff: ``"auth.invitations"``.

    Pending invitations are never touched. The memberships accepted invitations created
    stay: they are not invitations.

    Args:
        keep: How long a finished invitation stays (default 30 days).

    .. versionadded:: 0.5.0
    """

    def __init__(self, *, keep: timedelta = timedelta(days=30)) -> None:
        self._keep = check_keep(keep)

    @property
    def name(self) -> str:
        """``"auth.invitations"``."""
        return "auth.invitations"

    @property
    def default_keep(self) -> timedelta:
        """How long an invitation is kept after it was accepted, revoked or expired."""
        return self._keep

    @staticmethod
    def _expired(cutoff: datetime) -> ColumnElement[bool]:
        return or_(
            invitations.c.expires_at < cutoff,
            invitations.c.accepted_at < cutoff,
            invitations.c.revoked_at < cutoff,
        )

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many invitations :meth:`purge_batch` would delete in total (reads only).

        Args:
            connection: A connection of the database holding the spaps-auth tables.
            cutoff: Invitations that ended before this aware UTC datetime are expired.
        """
        check_batch(cutoff)
        query = select(func.count()).select_from(invitations).where(self._expired(cutoff))
        return int((await connection.execute(query)).scalar_one())

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete at most ``limit`` expired invitations (those that ended first) in the
        caller's transaction; returns how many.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Invitations that ended before this aware UTC datetime are deleted.
            limit: At most this many invitations.
        """
        check_batch(cutoff, limit)
        query = (
            select(invitations.c.id)
            .where(self._expired(cutoff))
            .order_by(_invitation_ended, invitations.c.id)
            .limit(limit)
        )
        ids = list((await connection.execute(skip_locked(connection, query))).scalars())
        if ids:
            await connection.execute(delete(invitations).where(invitations.c.id.in_(ids)))
        return len(ids)
