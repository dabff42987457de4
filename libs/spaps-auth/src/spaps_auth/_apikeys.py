"""API keys: visible prefix, shown once, stored hashed, looked up by id, scoped."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, sha256_hex, utcnow
from ._errors import InvalidApiKeyError, NotFoundError, PermissionDeniedError
from ._tables import api_keys

__all__ = ["ApiKey", "ApiKeyManager", "CreatedApiKey"]

_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_DUMMY_HASH = sha256_hex("spaps-auth dummy api key")


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (never its secret)."""

    id: str
    owner_id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key: ``key`` is the only time the plaintext is available."""

    key: str
    record: ApiKey


class ApiKeyManager:
    """Creates, verifies, lists and revokes API keys.

    A key reads ``<prefix>_<id>_<secret>``: the prefix tells humans and secret scanners
    what it is, the id finds the row, and only the SHA-256 of the 256-bit secret is
    stored (a fast hash is enough for a random secret), compared in constant time.

    Args:
        engine: Async engine holding ``auth_api_keys``.
        prefix: Visible prefix, lowercase letters/digits, e.g. ``"sk"``.
        last_used_interval: ``last_used_at`` is written at most this often per key.
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        prefix: str = "sk",
        last_used_interval: timedelta = timedelta(minutes=1),
        clock: Now = utcnow,
    ) -> None:
        if not _PREFIX_RE.match(prefix):
            raise ValueError(f"prefix must match {_PREFIX_RE.pattern}, got {prefix!r}")
        self._engine = engine
        self._prefix = prefix
        self._interval = last_used_interval
        self._clock = clock

    async def create(
        self,
        owner_id: str,
        *,
        name: str,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
    ) -> CreatedApiKey:
        """Create a key for ``owner_id``; the plaintext is returned once.

        Args:
            owner_id: User or organisation owning the key.
            name: Label shown in listings.
            scopes: Scopes the key grants.
            expires_at: Optional expiry.
        """
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        record = ApiKey(key_id, owner_id, name, self._prefix, frozenset(scopes), now, expires_at)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(api_keys).values(
                    id=key_id,
                    owner_id=owner_id,
                    name=name,
                    prefix=self._prefix,
                    secret_hash=sha256_hex(secret),
                    scopes=sorted(record.scopes),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return CreatedApiKey(f"{self._prefix}_{key_id}_{secret}", record)

    async def verify(self, key: str, *, required_scopes: Iterable[str] = ()) -> ApiKey:
        """Return the key's record if ``key`` is valid and has ``required_scopes``.

        Raises:
            InvalidApiKeyError: Malformed, unknown, wrong secret, revoked or expired.
            PermissionDeniedError: Valid but missing a required scope.
        """
        prefix, _, rest = key.partition("_") if isinstance(key, str) else ("", "", "")
        key_id, _, secret = rest.partition("_")
        if prefix != self._prefix or not _ID_RE.match(key_id) or not secret or len(key) > 200:
            raise InvalidApiKeyError("malformed API key")
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        # Compare even when the id is unknown so both paths cost the same.
        stored = row.secret_hash if row is not None else _DUMMY_HASH
        matches = hmac.compare_digest(stored, sha256_hex(secret))
        now = self._clock()
        if row is None or not matches or row.revoked_at is not None:
            raise InvalidApiKeyError("invalid API key")
        if row.expires_at is not None and row.expires_at <= now:
            raise InvalidApiKeyError("API key expired")
        scopes = frozenset(row.scopes)
        missing = set(required_scopes) - scopes
        if missing:
            raise PermissionDeniedError(f"API key lacks scopes {sorted(missing)}")
        if row.last_used_at is None or now - row.last_used_at >= self._interval:
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(api_keys)
                    .where(
                        and_(
                            api_keys.c.id == key_id,
                            or_(
                                api_keys.c.last_used_at.is_(None),
                                api_keys.c.last_used_at < now - self._interval,
                            ),
                        )
                    )
                    .values(last_used_at=now)
                )
        return ApiKey(
            row.id,
            row.owner_id,
            row.name,
            row.prefix,
            scopes,
            row.created_at,
            row.expires_at,
            now,
            row.revoked_at,
        )

    async def list(self, owner_id: str) -> list[ApiKey]:
        """Keys of ``owner_id`` (including revoked ones), oldest first."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(api_keys)
                    .where(api_keys.c.owner_id == owner_id)
                    .order_by(api_keys.c.created_at)
                )
            ).all()
        return [
            ApiKey(
                r.id,
                r.owner_id,
                r.name,
                r.prefix,
                frozenset(r.scopes),
                r.created_at,
                r.expires_at,
                r.last_used_at,
                r.revoked_at,
            )
            for r in rows
        ]

    async def revoke(self, owner_id: str, key_id: str) -> None:
        """Revoke one of ``owner_id``'s keys.

        Raises:
            NotFoundError: No such active key of this owner.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    api_keys.c.owner_id == owner_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._clock())
            )
        if result.rowcount != 1:
            raise NotFoundError("no such API key")
