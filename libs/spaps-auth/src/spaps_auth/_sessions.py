"""Sessions with rotating refresh tokens, reuse detection and per-user listing."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._audit import AuditLog
from ._clock import Now, utcnow
from ._errors import (
    InvalidTokenError,
    NotFoundError,
    RefreshTokenReusedError,
    TokenExpiredError,
    TokenRevokedError,
)
from ._refresh_tokens import (
    REFRESH_PREFIX,
    add_refresh_token,
    consume_refresh_token,
    find_refresh_token,
    replayed_successor,
    successor_token,
)
from ._revocation import RevocationList
from ._session_status import SessionStatus
from ._session_types import SessionInfo, TokenPair
from ._tables import sessions
from ._tokens import TokenIssuer

__all__ = ["SessionInfo", "SessionManager", "TokenPair"]


class SessionManager:
    """Starts sessions, rotates refresh tokens, lists and revokes sessions.

    Each session is a refresh-token *family*: every refresh marks the presented token
    used (a conditional ``UPDATE ... WHERE used = false``, so of two concurrent refreshes
    exactly one rotates) and returns its successor. Presenting the newest rotated token
    again within ``refresh_reuse_grace`` of its rotation (two tabs, a retried request)
    returns the *same* successor; any other presentation of a used token means it was
    stolen or replayed: the whole session is revoked and the event audited.

    It is also a revocation checker (``TokenVerifier(revocation=manager)``): :meth:`is_revoked`.

    Args:
        engine: Async engine holding the spaps-auth tables.
        issuer: Signs the access tokens.
        refresh_ttl: Lifetime of each refresh token (sliding).
        session_ttl: Absolute lifetime of a session.
        revocation: When given, revoking a session also revokes its access tokens there,
            and :meth:`is_revoked` consults it for revoked ``jti``.
        audit: When given, reuse and revocations are audited.
        clock: Returns the current aware UTC datetime.
        refresh_reuse_grace: How long a rotated token may be presented again (0 disables).
        revocation_cache_ttl: How long :meth:`is_revoked` trusts a "live" answer.
        revocation_cache_size: How many sessions :meth:`is_revoked` remembers.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.3.0 ``refresh_reuse_grace``, ``revocation_cache_*``.
    .. versionchanged:: 0.6.1 sessions re-read together (:meth:`refresh_revocations`).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        issuer: TokenIssuer,
        refresh_ttl: timedelta = timedelta(days=14),
        session_ttl: timedelta = timedelta(days=90),
        revocation: RevocationList | None = None,
        audit: AuditLog | None = None,
        clock: Now = utcnow,
        refresh_reuse_grace: timedelta = timedelta(seconds=10),
        revocation_cache_ttl: timedelta = timedelta(seconds=5),
        revocation_cache_size: int = 10_000,
    ) -> None:
        if refresh_ttl <= timedelta(0) or session_ttl < refresh_ttl:
            raise ValueError("refresh_ttl must be positive and session_ttl >= refresh_ttl")
        if refresh_reuse_grace < timedelta(0):
            raise ValueError("refresh_reuse_grace must be >= 0 (0 disables it)")
        self._grace = refresh_reuse_grace
        self._status = SessionStatus(
            engine, ttl=revocation_cache_ttl, size=revocation_cache_size, clock=clock
        )
        self._engine = engine
        self._issuer = issuer
        self._refresh_ttl = refresh_ttl
        self._session_ttl = session_ttl
        self._revocation = revocation
        self._audit = audit
        self._clock = clock

    def _access(self, user_id: str, session_id: str, claims: Mapping[str, Any]) -> str:
        return self._issuer.issue(
            user_id,
            roles=claims.get("roles", ()),
            permissions=claims.get("permissions", ()),
            session_id=session_id,
            extra=claims.get("extra") or None,
        )

    async def _new_refresh(
        self,
        conn: AsyncConnection,
        session_id: str,
        now: datetime,
        session_expires: datetime,
        token: str | None = None,
    ) -> str:
        expires_at = min(now + self._refresh_ttl, session_expires)
        return await add_refresh_token(
            conn, session_id, now=now, expires_at=expires_at, token=token
        )

    async def start(
        self,
        user_id: str,
        *,
        roles: Iterable[str] = (),
        permissions: Iterable[str] = (),
        extra: Mapping[str, Any] | None = None,
        user_agent: str = "",
        ip: str = "",
    ) -> TokenPair:
        """Open a session after a successful login and return its first token pair.

        Args:
            user_id: The authenticated user.
            roles: Roles put in every access token of this session.
            permissions: Direct permissions put in every access token.
            extra: Extra access-token claims.
            user_agent: Client user agent (shown in the device list).
            ip: Client IP address.
        """
        now = self._clock()
        session_id = secrets.token_urlsafe(16)
        claims = {
            "roles": sorted(set(roles)),
            "permissions": sorted(set(permissions)),
            "extra": dict(extra or {}),
        }
        expires = now + self._session_ttl
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(sessions).values(
                    id=session_id,
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                    user_agent=user_agent[:512],
                    ip=ip[:64],
                    claims=claims,
                )
            )
            refresh = await self._new_refresh(conn, session_id, now, expires)
        return TokenPair(
            self._access(user_id, session_id, claims),
            refresh,
            session_id,
            int(self._issuer.access_ttl),
        )

    async def refresh(
        self, refresh_token: str, *, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair:
        """Rotate: consume ``refresh_token`` and return a new pair for the same session.

        Raises:
            RefreshTokenReusedError: The token was used before (outside the grace window,
                or it is not the newest rotated token); the session is revoked.
            TokenRevokedError: The session was revoked.
            TokenExpiredError: The refresh token or session expired.
            InvalidTokenError: Unknown token.
        """
        if not isinstance(refresh_token, str) or not refresh_token.startswith(REFRESH_PREFIX):
            raise InvalidTokenError("malformed refresh token")
        now = self._clock()
        reused: tuple[str, str] | None = None
        async with self._engine.begin() as conn:
            row = await find_refresh_token(conn, refresh_token)
            if row is None:
                raise InvalidTokenError("unknown refresh token")
            if row.revoked_at is not None:
                raise TokenRevokedError("session revoked")
            if not row.used and row.expires_at <= now:
                raise TokenExpiredError("refresh token expired")
            if not row.used and await consume_refresh_token(conn, row.id, now):
                values: dict[str, Any] = {"last_seen_at": now}
                values |= {} if user_agent is None else {"user_agent": user_agent[:512]}
                values |= {} if ip is None else {"ip": ip[:64]}
                await conn.execute(
                    update(sessions).where(sessions.c.id == row.session_id).values(**values)
                )
                successor = successor_token(refresh_token, row.id)
                new = await self._new_refresh(
                    conn, row.session_id, now, row.session_expires, successor
                )
            else:  # used before, or by a concurrent refresh that won the UPDATE
                replay = None
                if self._grace:
                    replay = await replayed_successor(conn, refresh_token, now - self._grace)
                if replay is None:
                    reused = (row.user_id, row.session_id)
                new = replay or ""  # unused when reused
        if reused is not None:
            await self._revoke(reused[1], reason="refresh_token_reused")
            if self._audit is not None:
                await self._audit.append(
                    "refresh_token.reused",
                    actor=reused[0],
                    target=reused[1],
                    data={"ip": ip or "", "user_agent": user_agent or ""},
                )
            raise RefreshTokenReusedError("refresh token reused; the session has been revoked")
        return TokenPair(
            self._access(row.user_id, row.session_id, row.claims),
            new,
            row.session_id,
            int(self._issuer.access_ttl),
        )

    async def is_revoked(self, jti: str, session_id: str | None) -> bool:
        """Whether an access token is revoked: its session is revoked, expired or unknown
        (seen at most ``revocation_cache_ttl`` late), or its ``jti`` is on ``revocation``.
        A known session costs no query (:meth:`refresh_revocations` runs in the background).
        """
        if session_id is not None and await self._status.is_revoked(session_id):
            return True
        return self._revocation is not None and await self._revocation.is_revoked(jti, None)

    async def refresh_revocations(self) -> int:
        """Re-read every session :meth:`is_revoked` remembers as live (one statement on
        PostgreSQL, else 500 a statement; also on a schedule); how many. *New in 0.6.1.*"""
        return await self._status.refresh()

    async def _revoke(self, session_id: str, *, reason: str) -> bool:
        now = self._clock()
        self._status.mark_revoked(session_id)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(sessions)
                .where(and_(sessions.c.id == session_id, sessions.c.revoked_at.is_(None)))
                .values(revoked_at=now, revoked_reason=reason)
            )
        if self._revocation is not None:
            await self._revocation.revoke_session(
                session_id, expires_at=now + timedelta(seconds=self._issuer.access_ttl)
            )
        return bool(result.rowcount)

    async def list_sessions(self, user_id: str) -> list[SessionInfo]:
        """Active (not revoked, not expired) sessions of ``user_id``, newest first."""
        query = (
            select(sessions)
            .where(
                sessions.c.user_id == user_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > self._clock(),
            )
            .order_by(sessions.c.last_seen_at.desc())
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            SessionInfo(r.id, r.user_id, r.created_at, r.last_seen_at, r.user_agent, r.ip)
            for r in rows
        ]

    async def revoke(self, user_id: str, session_id: str, *, reason: str = "user") -> None:
        """Revoke one of ``user_id``'s sessions (its refresh token stops working).

        Raises:
            NotFoundError: No such active session *of this user* (another user's session
                is indistinguishable from a missing one).
        """
        query = select(sessions.c.user_id).where(
            sessions.c.id == session_id, sessions.c.revoked_at.is_(None)
        )
        async with self._engine.connect() as conn:
            owner = (await conn.execute(query)).scalar_one_or_none()
        if owner != user_id:
            raise NotFoundError("no such session")
        await self._revoke(session_id, reason=reason)
        if self._audit is not None:
            await self._audit.append("session.revoked", actor=user_id, target=session_id)

    async def revoke_all(self, user_id: str, *, except_session: str | None = None) -> int:
        """Revoke every active session of ``user_id`` (e.g. after a password change)."""
        count = 0
        for info in await self.list_sessions(user_id):
            if info.id != except_session and await self._revoke(info.id, reason="revoke_all"):
                count += 1
        return count
