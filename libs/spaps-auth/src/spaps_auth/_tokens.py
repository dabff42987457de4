"""Access tokens: the claims record, the key and revocation protocols, and issuing.

Verification lives in ``_verifier`` (with ``_jose`` and ``_token_claims``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import jwt

from ._jose import ACCESS_TOKEN_TYPE
from ._keys import JsonWebKey, KeySet

__all__ = [
    "DEFAULT_REQUIRED_CLAIMS",
    "Clock",
    "KeyResolver",
    "RevocationChecker",
    "TokenClaims",
    "TokenIssuer",
]

Clock = Callable[[], float]
RESERVED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles", "permissions"}
)
DEFAULT_REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti")


class KeyResolver(Protocol):
    """Where a verifier finds keys by ``kid`` (a :class:`KeySet` or a JWKS client)."""

    def cached_key(self, kid: str) -> JsonWebKey | None:
        """A key known without I/O, or ``None``."""

    async def fetch_key(self, kid: str) -> JsonWebKey:
        """Find a key, possibly over the network; raise ``InvalidTokenError`` if unknown."""


class RevocationChecker(Protocol):
    """Answers whether a token id or session id has been revoked."""

    def is_revoked(self, jti: str, session_id: str | None) -> Awaitable[bool]:
        """Whether the token or its session is revoked."""


class TokenClaims(NamedTuple):
    """The verified claims of an access token (immutable; a named tuple because one is
    built per request and that is the cheapest immutable record).

    Args:
        subject: ``sub`` -- the user (or service) id.
        issuer: ``iss``.
        audience: ``aud`` as a tuple.
        token_id: ``jti``.
        issued_at: ``iat`` (epoch seconds).
        expires_at: ``exp`` (epoch seconds).
        session_id: ``sid`` when the token belongs to a session.
        roles: ``roles`` claim.
        permissions: ``permissions`` claim.
        raw: Every claim as decoded.
    """

    subject: str
    issuer: str
    audience: tuple[str, ...]
    token_id: str
    issued_at: int
    expires_at: int
    session_id: str | None = None
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    raw: Mapping[str, Any] = MappingProxyType({})


class TokenIssuer:
    """Signs access tokens with the key set's signing key.

    Tokens are JWTs with ``typ: at+jwt`` in the header (RFC 9068), the type
    :class:`TokenVerifier` requires.

    Args:
        keys: Key set; its signing key signs and its ``kid`` goes into the header.
        issuer: ``iss`` of every token.
        audience: Default ``aud``.
        access_ttl: Lifetime of access tokens in seconds (default 900).
        clock: Returns the current epoch time (inject in tests).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        keys: KeySet,
        issuer: str,
        audience: str | Sequence[str],
        access_ttl: float = 900,
        clock: Clock = time.time,
    ) -> None:
        if not isinstance(keys, KeySet):
            raise TypeError("keys must be a KeySet")
        keys.signing_key  # noqa: B018 - fail at construction when the set cannot sign
        if not issuer:
            raise ValueError("issuer must be non-empty")
        if not audience:
            raise ValueError("audience must be non-empty")
        if access_ttl <= 0:
            raise ValueError("access_ttl must be positive")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self._clock = clock

    def issue(
        self,
        subject: str,
        *,
        roles: Iterable[str] = (),
        permissions: Iterable[str] = (),
        session_id: str | None = None,
        audience: str | Sequence[str] | None = None,
        ttl: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign an access token for ``subject``.

        Args:
            subject: The user or service id (``sub``).
            roles: Role names (``roles``).
            permissions: Permission names granted directly (``permissions``).
            session_id: Session id (``sid``), so revoking the session revokes the token.
            audience: Override the default audience.
            ttl: Override the default lifetime (seconds).
            extra: Additional claims; reserved names are refused.
        """
        if not subject:
            raise ValueError("subject must be non-empty")
        extra = dict(extra or {})
        clash = RESERVED_CLAIMS.intersection(extra)
        if clash:
            raise ValueError(f"extra claims may not set reserved claims {sorted(clash)}")
        now = int(self._clock())
        aud = self.audience if audience is None else audience
        payload: dict[str, Any] = {
            **extra,
            "iss": self.issuer,
            "sub": subject,
            "aud": aud if isinstance(aud, str) else list(aud),
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl if ttl is not None else self.access_ttl),
            "jti": secrets.token_urlsafe(16),
        }
        if session_id is not None:
            payload["sid"] = session_id
        roles, permissions = sorted(set(roles)), sorted(set(permissions))
        if roles:
            payload["roles"] = roles
        if permissions:
            payload["permissions"] = permissions
        key = self.keys.signing_key
        return jwt.encode(
            payload,
            key.signing_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE},
        )
