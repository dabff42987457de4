"""Sessions with rotating refresh tokens, reuse detection and per-user listing."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
)
from ._revocation import RevocationList
from ._tables import sessions
from ._tokens import TokenIssuer

__all__ = ["SessionInfo", "SessionManager", "TokenPair"]


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh returns to the client."""

    access_token: str
    refresh_token: str
    session_id: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True)
class SessionInfo:
    """A session (device) as shown to its owner."""

    id: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str


class SessionManager:
    """Starts sessions, rotates refresh tokens, lists and revokes sessions.

    Each session is a refresh-token *family*: every refresh marks the presented token
    used (a conditional ``UPDATE ... WHERE used = false``, so of two concurrent refreshes
    exactly one wins) and returns a new one. Presenting a used token again means it was
    stolen or replayed: the whole session is revoked and the event audited.

    Args:
        engine: Async engine holding the spaps-auth tables.
        issuer: Signs the access tokens.
        refresh_ttl: Lifetime of each refresh token (sliding).
        session_ttl: Absolute lifetime of a session.
        revocation: When given, revoking a session also revokes its access tokens.
        audit: When given, reuse and revocations are audited.
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
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
    ) -> None:
        if refresh_ttl <= timedelta(0) or session_ttl < refresh_ttl:
            raise ValueError("refresh_ttl must be positive and session_ttl >= refresh_ttl")
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
        self, conn: AsyncConnection, session_id: str, now: datetime, session_expires: datetime
    ) -> str:
        expires_at = min(now + self._refresh_ttl, session_expires)
        return await add_refresh_token(conn, session_id, now=now, expires_at=expires_at)

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
            RefreshTokenReusedError: The token was already used; the session is revoked.
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
            if row.used:
                reused = (row.user_id, row.session_id)
            elif row.expires_at <= now:
                raise TokenExpiredError("refresh token expired")
            elif not await consume_refresh_token(conn, row.id, now):
                reused = (row.user_id, row.session_id)  # lost a race with a concurrent refresh
            else:
                values: dict[str, Any] = {"last_seen_at": now}
                if user_agent is not None:
                    values["user_agent"] = user_agent[:512]
                if ip is not None:
                    values["ip"] = ip[:64]
                await conn.execute(
                    update(sessions).where(sessions.c.id == row.session_id).values(**values)
                )
                new = await self._new_refresh(conn, row.session_id, now, row.session_expires)
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

    async def _revoke(self, session_id: str, *, reason: str) -> bool:
        now = self._clock()
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
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(sessions)
                    .where(
                        sessions.c.user_id == user_id,
                        sessions.c.revoked_at.is_(None),
                        sessions.c.expires_at > self._clock(),
                    )
                    .order_by(sessions.c.last_seen_at.desc())
                )
            ).all()
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
        async with self._engine.connect() as conn:
            owner = (
                await conn.execute(
                    select(sessions.c.user_id).where(
                        sessions.c.id == session_id, sessions.c.revoked_at.is_(None)
                    )
                )
            ).scalar_one_or_none()
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
