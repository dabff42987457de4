"""Access tokens: issuing and verifying JWTs with an explicit algorithm allowlist."""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import jwt
from jwt.algorithms import HMACAlgorithm

from ._errors import InvalidTokenError, TokenExpiredError, TokenRevokedError
from ._keys import SUPPORTED_ALGORITHMS, JsonWebKey, KeySet, valid_kid

__all__ = ["KeyResolver", "TokenClaims", "TokenIssuer", "TokenVerifier"]

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
            headers={"kid": key.kid, "typ": "at+jwt"},
        )


class _ValidatedHMAC(HMACAlgorithm):
    """HS256 whose secret was validated once, when its :class:`JsonWebKey` was built.

    PyJWT's stock ``prepare_key`` re-parses the secret as PEM, SSH and three DER forms on
    every verification; a verifier only ever hands it secrets bound to HS256 keys, whose
    constructor already ran that very check.
    """

    def prepare_key(self, key: str | bytes) -> bytes:
        if not isinstance(key, bytes):
            raise jwt.InvalidKeyError("HS256 keys are bytes")
        return key


def _decoder(required_claims: Sequence[str]) -> jwt.PyJWT:
    # sub and jti types are checked by ``_claims``; PyJWT need not check them again.
    decoder = jwt.PyJWT(
        options={"require": list(required_claims), "verify_sub": False, "verify_jti": False}
    )
    # PyJWT keeps its signature layer in ``_jws``; swap only the HS256 implementation
    # through its public register/unregister API, and keep stock PyJWT if that changes.
    jws = getattr(decoder, "_jws", None)
    if isinstance(jws, jwt.PyJWS):
        jws.unregister_algorithm("HS256")
        jws.register_algorithm("HS256", _ValidatedHMAC(HMACAlgorithm.SHA256))
    return decoder


_HEADER_CACHE_SIZE = 256


def _bad(detail: str) -> InvalidTokenError:
    return InvalidTokenError(detail)


class _Verified(NamedTuple):
    """A cache entry: a token that passed every check, and the key that verified it."""

    claims: TokenClaims
    key: JsonWebKey
    # The time-dependent checks PyJWT made, kept as numbers so a hit re-runs them with
    # two comparisons: ``iat``/``nbf`` (the later of the two) and ``exp``; a claim the
    # token does not carry was not checked and is stored as -inf / +inf.
    valid_from: float
    expires: float


def _cache_entry(claims: TokenClaims, key: JsonWebKey) -> _Verified:
    raw = claims.raw
    # PyJWT compares int(claim); these int() calls succeeded once already.
    starts = [int(raw[name]) for name in ("iat", "nbf") if name in raw]
    return _Verified(
        claims,
        key,
        max(starts) if starts else -math.inf,
        int(raw["exp"]) if "exp" in raw else math.inf,
    )


class TokenVerifier:
    """Verifies access tokens: signature, algorithm, ``kid`` and every registered claim.

    The header's ``alg`` must be in ``algorithms`` *and* equal the algorithm the key with
    that ``kid`` is bound to, so a token can never make the verifier use an RSA public key
    as an HMAC secret, and ``alg: none`` is never accepted.

    Args:
        keys: A :class:`KeySet` (local keys) or a JWKS client (any :class:`KeyResolver`).
        issuer: Required ``iss``.
        audience: Accepted ``aud`` value(s); a token must name at least one.
        algorithms: Explicit allowlist, a subset of RS256, EdDSA, HS256.
        leeway: Clock skew tolerated on ``exp``/``nbf``/``iat`` (seconds).
        max_token_bytes: Longer tokens are rejected before any parsing.
        required_claims: Claims that must be present.
        revocation: Optional revocation list consulted by :meth:`averify`.
        cache_size: How many verified tokens to remember (0 disables the cache).

    **Verified-token cache.** Clients send the same access token on every request for
    its whole lifetime, and decoding it (base64, JSON, signature, claims) is most of what
    verification costs. After a token passes every check, the verifier remembers it with
    its claims and the key that verified it, at most ``cache_size`` tokens (the oldest
    is evicted first). This is safe because:

    * The cache key is the whole token string, signature included: a token that differs
      in any byte misses the cache and is verified in full. Only tokens that passed
      every check are stored, so forged or garbage tokens cannot fill the cache.
    * Each call still parses the header and looks its ``kid`` up, and a hit is served
      only when that lookup returns the very key object that verified the token: a key
      dropped from the key set, or replaced by a JWKS refresh, invalidates its tokens.
    * ``iat``, ``nbf`` and ``exp`` are re-checked on every hit against the wall clock,
      exactly as PyJWT checks them (an expired token raises ``TokenExpiredError`` and
      leaves the cache), and :meth:`averify` consults ``revocation`` on every call.
    * A lookup is a hash-table probe: strings hash with the interpreter's randomised
      (per-process keyed) hash, and characters are only compared once a full hash
      matches, so response timing does not reveal which tokens are cached.

    A hit returns the same :class:`TokenClaims` each time; its ``raw`` mapping is shared
    and must be treated as read-only.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``cache_size`` added (verified-token cache).
    """

    def __init__(
        self,
        *,
        keys: KeySet | KeyResolver,
        issuer: str,
        audience: str | Sequence[str],
        algorithms: Iterable[str],
        leeway: float = 0,
        max_token_bytes: int = 8192,
        required_claims: Sequence[str] = DEFAULT_REQUIRED_CLAIMS,
        revocation: RevocationChecker | None = None,
        cache_size: int = 4096,
    ) -> None:
        allowed = frozenset(algorithms)
        if not allowed:
            raise ValueError("algorithms must list at least one algorithm")
        unsupported = allowed - SUPPORTED_ALGORITHMS
        if unsupported:
            raise ValueError(f"unsupported algorithms {sorted(unsupported)}")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        if leeway < 0 or max_token_bytes < 64:
            raise ValueError("leeway must be >= 0 and max_token_bytes >= 64")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int):
            raise TypeError("cache_size must be an int")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0 (0 disables the cache)")
        self._local = keys if isinstance(keys, KeySet) else None
        self._resolver: KeyResolver | None = None if isinstance(keys, KeySet) else keys
        self._algorithms = allowed
        self._issuer = issuer
        self._audience = audience if isinstance(audience, str) else list(audience)
        self._leeway = leeway
        self._max = max_token_bytes
        self._decode_jwt = _decoder(required_claims).decode
        # Every token signed by one key has the same header segment, so parsed headers
        # are cached (bounded; only headers that passed the checks are stored).
        self._headers: dict[str, tuple[str, str]] = {}
        self._revocation = revocation
        self._cache_size = cache_size
        # Insertion-ordered, so the first key is the oldest entry. Lookups are lock-free;
        # every change is made under the lock, so eviction never races another change.
        self._cache: dict[str, _Verified] = {}
        self._cache_lock = threading.Lock()

    def _header(self, token: str) -> tuple[str, str]:
        if not isinstance(token, str) or not token:
            raise _bad("missing token")
        if len(token) > self._max:
            raise _bad("token too large")
        head, dot, _ = token.partition(".")
        if not dot:
            raise _bad("malformed token")
        cached = self._headers.get(head)
        if cached is not None:
            return cached
        try:
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _bad("malformed token header") from None
        if not isinstance(header, dict):
            raise _bad("malformed token header")
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise _bad("algorithm not allowed")
        kid = header.get("kid")
        if not valid_kid(kid):
            raise _bad("missing or malformed kid")
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[head] = parsed = (str(alg), str(kid))
        return parsed

    def _decode(self, token: str, alg: str, key: JsonWebKey) -> TokenClaims:
        if key.algorithm != alg:
            raise _bad("algorithm does not match the key")
        try:
            payload = self._decode_jwt(
                token,
                key.verifying_key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpiredError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise _bad("token not yet valid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _bad(f"missing claim {exc.claim}") from None
        except jwt.InvalidAudienceError:
            raise _bad("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise _bad("wrong issuer") from None
        except jwt.PyJWTError:
            raise _bad("invalid token") from None
        return _claims(payload)

    def _check(self, token: str, alg: str, key: JsonWebKey) -> TokenClaims:
        """Verify ``token`` with ``key``, from the cache when it verified it before."""
        entry = self._cache.get(token)
        if entry is not None:
            if entry.key is key:
                now = time.time()  # the clock PyJWT reads (datetime.now(tz=utc).timestamp())
                if entry.valid_from > now + self._leeway:
                    raise _bad("token not yet valid")
                if entry.expires <= now - self._leeway:
                    self._forget(token)
                    raise TokenExpiredError("token expired")
                return entry.claims
            # The key that verified it was removed or replaced: verify in full again.
            self._forget(token)
        claims = self._decode(token, alg, key)
        if self._cache_size:
            self._remember(token, _cache_entry(claims, key))
        return claims

    def _remember(self, token: str, entry: _Verified) -> None:
        cache = self._cache
        with self._cache_lock:
            cache.pop(token, None)
            while len(cache) >= self._cache_size:
                del cache[next(iter(cache))]
            cache[token] = entry

    def _forget(self, token: str) -> None:
        with self._cache_lock:
            self._cache.pop(token, None)

    def verify(self, token: str) -> TokenClaims:
        """Verify with local keys, without I/O (no revocation check).

        Raises:
            InvalidTokenError: Any failure (``TokenExpiredError`` when expired).
        """
        alg, kid = self._header(token)
        key = self._local.get(kid) if self._local is not None else self._resolver.cached_key(kid)  # type: ignore[union-attr]  # exactly one is set
        if key is None:
            raise _bad("unknown kid")
        return self._check(token, alg, key)

    async def averify(self, token: str) -> TokenClaims:
        """Verify, fetching unknown keys from the resolver and checking revocation.

        Raises:
            InvalidTokenError: Any failure (``TokenRevokedError`` when revoked).
            KeysUnavailableError: The JWKS issuer is unreachable and nothing is cached.
        """
        alg, kid = self._header(token)
        if self._local is not None:
            key = self._local.get(kid)
            if key is None:
                raise _bad("unknown kid")
        else:
            resolver: KeyResolver = self._resolver  # type: ignore[assignment]  # set when _local is not
            key = resolver.cached_key(kid) or await resolver.fetch_key(kid)
        claims = self._check(token, alg, key)
        if self._revocation is not None and await self._revocation.is_revoked(
            claims.token_id, claims.session_id
        ):
            raise TokenRevokedError("token revoked")
        return claims


_EMPTY: frozenset[str] = frozenset()


def _strings(value: object, name: str) -> frozenset[str]:
    if value is None:
        return _EMPTY
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"claim {name} must be a list of strings")
    return frozenset(value)


def _claims(payload: dict[str, Any]) -> TokenClaims:
    sub, jti, sid = payload.get("sub"), payload.get("jti"), payload.get("sid")
    if not isinstance(sub, str) or not sub or not isinstance(jti, str) or not jti:
        raise _bad("sub and jti must be non-empty strings")
    if sid is not None and not isinstance(sid, str):
        raise _bad("sid must be a string")
    aud = payload.get("aud")
    return TokenClaims(
        subject=sub,
        issuer=payload.get("iss", ""),
        audience=(aud,) if isinstance(aud, str) else tuple(aud or ()),
        token_id=jti,
        issued_at=int(payload.get("iat", 0)),
        expires_at=int(payload.get("exp", 0)),
        session_id=sid,
        roles=_strings(payload.get("roles"), "roles"),
        permissions=_strings(payload.get("permissions"), "permissions"),
        raw=payload,
    )
