"""JWKS client for services that verify tokens issued elsewhere."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from ._errors import InvalidTokenError, KeysUnavailableError
from ._keys import JsonWebKey

__all__ = ["JWKSClient"]

logger = logging.getLogger("spaps_auth.jwks")


class JWKSClient:
    """Fetches and caches an issuer's JWKS; a :class:`~spaps_auth.KeyResolver`.

    * Keys are cached for ``cache_ttl`` seconds; lookups of cached kids cost a dict hit.
    * An unknown ``kid`` triggers a refresh (the issuer may have rotated), at most once
      per ``min_refresh_interval`` so garbage kids cannot make us hammer the issuer.
    * When the issuer answers 5xx, garbage, or is down, the cached keys keep verifying
      (stale beats unavailable); the failure is logged.
    * A refresh keeps the very key object of every key the issuer still publishes
      unchanged (same JWK), so a :class:`~spaps_auth.TokenVerifier`'s verified-token
      cache, which serves a hit only for the key object that verified the token, keeps
      its tokens across refreshes; a key whose JWK changed is a new object.

    Args:
        url: The issuer's JWKS URL.
        client: httpx client to use (inject a transport in tests); default one is created
            and closed by :meth:`aclose`.
        cache_ttl: Seconds before cached keys are considered stale and refreshed.
        min_refresh_interval: Minimum seconds between two fetch attempts.
        timeout: Request timeout for the default client.
        clock: Monotonic clock (inject in tests).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.6.2 A refresh keeps the objects of unchanged keys.
    """

    def __init__(
        self,
        *,
        url: str,
        client: httpx.AsyncClient | None = None,
        cache_ttl: float = 300.0,
        min_refresh_interval: float = 30.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
        if cache_ttl <= 0 or min_refresh_interval < 0 or timeout <= 0:
            raise ValueError("cache_ttl and timeout must be positive, min_refresh_interval >= 0")
        self.url = url
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._ttl = cache_ttl
        self._min_interval = min_refresh_interval
        self._clock = clock
        self._keys: dict[str, JsonWebKey] = {}
        self._published: dict[str, object] = {}  # kid -> the JWK entry its key came from
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    def cached_key(self, kid: str) -> JsonWebKey | None:
        """The cached key for ``kid`` while the cache is fresh, else ``None``."""
        key = self._keys.get(kid)
        if key is None or self._fetched_at is None:
            return None
        if self._clock() - self._fetched_at > self._ttl:
            return None
        return key

    async def fetch_key(self, kid: str) -> JsonWebKey:
        """The key for ``kid``, refreshing the JWKS when needed and allowed.

        Raises:
            InvalidTokenError: The issuer does not publish ``kid``.
            KeysUnavailableError: No JWKS could ever be fetched.
        """
        async with self._lock:
            key = self.cached_key(kid)
            if key is not None:
                return key
            now = self._clock()
            if self._attempted_at is None or now - self._attempted_at >= self._min_interval:
                await self._refresh()
            key = self._keys.get(kid)
            if key is not None:
                return key
            if self._fetched_at is None:
                raise KeysUnavailableError("the issuer's JWKS could not be fetched")
            raise InvalidTokenError("unknown kid")

    async def refresh(self) -> bool:
        """Fetch the JWKS now; ``True`` on success (failures keep the cache)."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> bool:
        self._attempted_at = self._clock()
        self.fetch_count += 1
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
            entries = document["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "JWKS fetch from %s failed (%s); keeping %d cached keys",
                self.url,
                type(exc).__name__,
                len(self._keys),
            )
            return False
        keys: dict[str, JsonWebKey] = {}
        published: dict[str, object] = {}
        for entry in entries:
            try:
                key = JsonWebKey.from_jwk(entry)
            except (ValueError, TypeError, AttributeError) as exc:
                logger.warning("ignoring JWK from %s: %s", self.url, exc)
                continue
            kept = self._keys.get(key.kid)
            if kept is not None and self._published.get(key.kid) == entry:
                key = kept  # unchanged: tokens it verified stay cached
            keys[key.kid] = key
            published[key.kid] = entry
        self._keys = keys
        self._published = published
        self._fetched_at = self._clock()
        return True

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._client.aclose()
