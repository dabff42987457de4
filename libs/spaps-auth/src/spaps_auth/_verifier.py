"""Verifying access tokens with an explicit algorithm allowlist, and the verified-token cache."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import jwt

from ._errors import TokenExpiredError, TokenRevokedError
from ._jose import bad, parse_header, signature_verifier
from ._keys import SUPPORTED_ALGORITHMS, JsonWebKey, KeySet
from ._token_claims import ClaimChecks, decode_claims, token_claims
from ._tokens import DEFAULT_REQUIRED_CLAIMS, Clock, KeyResolver, RevocationChecker, TokenClaims

__all__ = ["TokenCacheInfo", "TokenVerifier"]

_HEADER_CACHE_SIZE = 256


class _Verified(NamedTuple):
    """A token that passed every check, the key that verified it, and the bounds of its
    validity (``iat``/``nbf``, the later of the two, and ``exp``; -inf/+inf when absent),
    so a cache hit re-checks time with two comparisons.
    """

    claims: TokenClaims
    key: JsonWebKey
    valid_from: float
    expires: float


class TokenCacheInfo(NamedTuple):
    """Statistics of a :class:`TokenVerifier`'s verified-token cache, from
    :meth:`TokenVerifier.cache_info` (shaped like :func:`functools.lru_cache`'s).

    Attributes:
        hits: Verifications answered from the cache (no decoding, no signature check),
            the re-checks of time on a hit included, whatever their verdict.
        misses: Verifications that decoded the token and checked its signature and
            claims in full, whatever their verdict (every one when ``maxsize`` is 0).
        maxsize: ``cache_size``: how many tokens the cache holds at most.
        currsize: How many tokens it holds now.

    A call refused before the cache is consulted (a malformed or oversized token, an
    unknown ``kid``) counts as neither.

    .. versionadded:: 0.4.0
    """

    hits: int
    misses: int
    maxsize: int
    currsize: int


class TokenVerifier:
    """Verifies access tokens: signature, algorithm, ``kid``, ``typ`` and the claims.

    The header's ``alg`` must be in ``algorithms`` *and* equal the algorithm the key with
    that ``kid`` is bound to, so a token can never make the verifier use an RSA public key
    as an HMAC secret, and ``alg: none`` is never accepted. The header's ``typ`` must be
    ``at+jwt`` (RFC 9068), what :class:`TokenIssuer` writes, so another kind of JWT
    signed with the same key is not taken for an access token. Header and claims are
    JSON objects without duplicate names, and ``exp``/``nbf``/``iat`` are JSON numbers.

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
        clock: Returns the current epoch time, against which ``exp``/``nbf``/``iat`` are
            checked (inject in tests).

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
    * ``iat``, ``nbf`` and ``exp`` are re-checked on every hit against ``clock``, with
      the same comparisons as a full verification (an expired token raises
      ``TokenExpiredError`` and leaves the cache), and :meth:`averify` consults
      ``revocation`` on every call.
    * A lookup is a hash-table probe: strings hash with the interpreter's randomised
      (per-process keyed) hash, and characters are only compared once a full hash
      matches, so response timing does not reveal which tokens are cached.

    A hit returns the same :class:`TokenClaims` each time; its ``raw`` mapping is shared
    and must be treated as read-only. :meth:`cache_info` counts the hits and misses.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``cache_size`` added (verified-token cache); ``clock``
       added; ``typ: at+jwt`` required; duplicate header or claim names and non-numeric
       ``exp``/``nbf``/``iat`` rejected.
    .. versionchanged:: 0.4.0 :meth:`cache_info`.
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
        clock: Clock = time.time,
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
        if not callable(clock):
            raise TypeError("clock must be callable")
        self._local = keys if isinstance(keys, KeySet) else None
        self._resolver: KeyResolver | None = None if isinstance(keys, KeySet) else keys
        self._algorithms = allowed
        self._leeway = leeway
        self._max = max_token_bytes
        self._clock = clock
        self._signatures = signature_verifier(allowed)
        self._claim_checks = ClaimChecks(
            issuer=issuer, audience=audience, leeway=leeway, required=required_claims
        )
        # Every token signed by one key has the same header segment, so parsed headers
        # are cached (bounded; only headers that passed the checks are stored).
        self._headers: dict[str, tuple[str, str]] = {}
        self._revocation = revocation
        self._cache_size = cache_size
        # Insertion-ordered, so the first key is the oldest entry. Lookups are lock-free;
        # every change is made under the lock, so eviction never races another change.
        self._cache: dict[str, _Verified] = {}
        self._cache_lock = threading.Lock()
        # ``verify`` may run in several threads at once: ``next()`` of an itertools.count
        # is one atomic step, so the counters stay exact without a lock on every call.
        # Each cache_info() read takes one value of each, subtracted again (``_reads``).
        self._hits = itertools.count()
        self._misses = itertools.count()
        self._reads = 0
        self._stats_lock = threading.Lock()

    def _header(self, token: str) -> tuple[str, str]:
        if not isinstance(token, str) or not token:
            raise bad("missing token")
        if len(token) > self._max:
            raise bad("token too large")
        head, dot, _ = token.partition(".")
        if not dot:
            raise bad("malformed token")
        cached = self._headers.get(head)
        if cached is not None:
            return cached
        parsed = parse_header(head, self._algorithms)
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[head] = parsed
        return parsed

    def _decode(self, token: str, alg: str, key: JsonWebKey) -> _Verified:
        if key.algorithm != alg:
            raise bad("algorithm does not match the key")
        try:
            # PyJWS checks the segments' encoding, the algorithm and the signature;
            # the claims are checked below, with this verifier's clock.
            decoded = self._signatures.decode_complete(token, key.verifying_key, algorithms=(alg,))
        except jwt.PyJWTError:
            raise bad("invalid token") from None
        claims = decode_claims(decoded["payload"])
        valid_from, expires = self._claim_checks.check(claims, self._clock())
        return _Verified(token_claims(claims), key, valid_from, expires)

    def _check(self, token: str, alg: str, key: JsonWebKey) -> TokenClaims:
        """Verify ``token`` with ``key``, from the cache when it verified it before."""
        entry = self._cache.get(token)
        if entry is not None:
            if entry.key is key:
                now = self._clock()
                next(self._hits)
                if entry.valid_from > now + self._leeway:
                    raise bad("token not yet valid")
                if entry.expires <= now - self._leeway:
                    self._forget(token)
                    raise TokenExpiredError("token expired")
                return entry.claims
            # The key that verified it was removed or replaced: verify in full again.
            self._forget(token)
        next(self._misses)
        entry = self._decode(token, alg, key)
        if self._cache_size:
            self._remember(token, entry)
        return entry.claims

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

    def cache_info(self) -> TokenCacheInfo:
        """The verified-token cache's hits, misses, bound and current size, counted
        since the verifier was created.

        .. versionadded:: 0.4.0
        """
        with self._stats_lock:  # one reader at a time, so each read is subtracted once
            hits = next(self._hits) - self._reads
            misses = next(self._misses) - self._reads
            self._reads += 1
        return TokenCacheInfo(hits, misses, self._cache_size, len(self._cache))

    def verify(self, token: str) -> TokenClaims:
        """Verify with local keys, without I/O (no revocation check).

        Raises:
            InvalidTokenError: Any failure (``TokenExpiredError`` when expired).
        """
        alg, kid = self._header(token)
        key = self._local.get(kid) if self._local is not None else self._resolver.cached_key(kid)  # type: ignore[union-attr]  # exactly one is set
        if key is None:
            raise bad("unknown kid")
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
                raise bad("unknown kid")
        else:
            resolver: KeyResolver = self._resolver  # type: ignore[assignment]  # set when _local is not
            key = resolver.cached_key(kid) or await resolver.fetch_key(kid)
        claims = self._check(token, alg, key)
        if self._revocation is not None and await self._revocation.is_revoked(
            claims.token_id, claims.session_id
        ):
            raise TokenRevokedError("token revoked")
        return claims
