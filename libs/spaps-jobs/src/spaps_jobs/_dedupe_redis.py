"""Redis implementations of the dedupe stores (extra ``spaps-jobs[redis]``).

A record is one string key holding a small JSON document, written with ``SET NX PX`` so
the claim and its lease are a single atomic command.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from ._dedupe import DedupeRecord, check_key

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = ["AsyncRedisDedupeStore", "RedisDedupeStore"]

# Delete only an in-progress claim: a completed result must survive a late release.
_RELEASE = """
local value = redis.call('GET', KEYS[1])
if value and cjson.decode(value)['d'] == false then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Mark done, keep the claim's fingerprint, store the result: one round trip.
_COMPLETE = """
local value = redis.call('GET', KEYS[1])
local fingerprint = ''
if value then fingerprint = cjson.decode(value)['f'] end
local doc = '{"d":true,"f":' .. cjson.encode(fingerprint) .. ',"r":' .. cjson.encode(ARGV[1]) .. '}'
return redis.call('SET', KEYS[1], doc, 'PX', ARGV[2])
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encode(done: bool, fingerprint: str, result: bytes | None) -> str:
    body: dict[str, Any] = {"d": done, "f": fingerprint}
    if result is not None:
        body["r"] = _b64(result)
    return json.dumps(body, separators=(",", ":"))


def _decode(key: str, raw: bytes | str | None, pttl: int) -> DedupeRecord | None:
    if raw is None or pttl == -2:
        return None
    body = json.loads(raw)
    result = base64.b64decode(body["r"]) if "r" in body else None
    expires_at = time.time() + (pttl / 1000 if pttl > 0 else 0)
    return DedupeRecord(
        key=key, done=bool(body["d"]), fingerprint=body["f"], result=result, expires_at=expires_at
    )


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a string")
    return prefix


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisDedupeStore:
    """:class:`~spaps_jobs.DedupeStore` on Redis with a synchronous ``redis.Redis``.

    Args:
        client: A ``redis.Redis`` client.
        prefix: Prepended to every key (namespace per service or per test).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "spaps:dedupe:") -> None:
        self.client = client
        self.prefix = _check_prefix(prefix)
        self._release = client.register_script(_RELEASE)
        self._complete = client.register_script(_COMPLETE)

    def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""
        check_key(key, ttl)
        value = _encode(False, fingerprint, None)
        return bool(self.client.set(self.prefix + key, value, nx=True, px=_ms(ttl)))

    def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""
        check_key(key)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.prefix + key)
        pipe.pttl(self.prefix + key)
        raw, pttl = pipe.execute()
        return _decode(key, raw, int(pttl))

    def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""
        check_key(key, ttl)
        self._complete(keys=[self.prefix + key], args=[_b64(result), _ms(ttl)])

    def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""
        check_key(key)
        self._release(keys=[self.prefix + key])


class AsyncRedisDedupeStore:
    """:class:`~spaps_jobs.AsyncDedupeStore` on Redis with ``redis.asyncio.Redis``.

    Args:
        client: A ``redis.asyncio.Redis`` client.
        prefix: Prepended to every key (namespace per service or per test).
    """

    def __init__(self, client: redis.asyncio.Redis, *, prefix: str = "spaps:dedupe:") -> None:
        self.client = client
        self.prefix = _check_prefix(prefix)
        self._release = client.register_script(_RELEASE)
        self._complete = client.register_script(_COMPLETE)

    async def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""
        check_key(key, ttl)
        value = _encode(False, fingerprint, None)
        return bool(await self.client.set(self.prefix + key, value, nx=True, px=_ms(ttl)))

    async def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""
        check_key(key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            raw, pttl = await pipe.execute()
        return _decode(key, raw, int(pttl))

    async def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""
        check_key(key, ttl)
        await self._complete(keys=[self.prefix + key], args=[_b64(result), _ms(ttl)])

    async def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""
        check_key(key)
        await self._release(keys=[self.prefix + key])
