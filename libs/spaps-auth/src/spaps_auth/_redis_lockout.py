"""Redis-backed lockout counters (extra ``redis``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisLockoutStore"]


class RedisLockoutStore:
    """:class:`~spaps_auth.LockoutStore` on Redis: ``INCR`` counters with a sliding TTL and
    lock keys that expire on their own.

    Args:
        client: A ``redis.asyncio.Redis`` client.
        prefix: Namespace of every key.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: Redis, *, prefix: str = "spaps:auth:lockout:") -> None:
        self._redis: Any = client
        self._prefix = prefix

    async def locked_until(self, keys: list[str], now: datetime) -> datetime | None:
        values = await self._redis.mget([self._prefix + "lock:" + k for k in keys])
        stamps = [float(v) for v in values if v is not None]
        if not stamps:
            return None
        until = datetime.fromtimestamp(max(stamps), UTC)
        return until if until > now else None

    async def record_failure(self, key: str, now: datetime, window: timedelta) -> int:
        name = self._prefix + "count:" + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, max(1, int(window.total_seconds())))
            count, _ = await pipe.execute()
        return int(count)

    async def lock(self, key: str, until: datetime) -> None:
        ttl = max(1, int((until - datetime.now(UTC)).total_seconds()) + 1)
        await self._redis.set(self._prefix + "lock:" + key, str(until.timestamp()), ex=ttl)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + "count:" + key, self._prefix + "lock:" + key)
