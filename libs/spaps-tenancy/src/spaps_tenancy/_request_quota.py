"""Per-tenant requests-per-day quotas over a counter store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from ._context import get_tenant
from ._errors import RequestQuotaExceededError
from ._problem import send_problem

DailyLimit = Callable[[str], int | None]
"""Returns how many requests a tenant may make per UTC day (``None``: unlimited)."""


class CounterStore(Protocol):
    """Atomic counters that expire: the storage of :class:`DailyRequestQuota`."""

    async def incr(self, key: str, *, ttl: int) -> int:
        """Add one to ``key`` (created with expiry ``ttl`` seconds) and return the new value."""
        ...


class MemoryCounterStore:
    """A :class:`CounterStore` in process memory (one process, tests, development).

    Args:
        clock: Returns the current time in seconds (injectable for tests).

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}

    async def incr(self, key: str, *, ttl: int) -> int:
        now = self._clock()
        if len(self._counts) > 10_000:
            # Keep memory bounded: drop expired counters when the table grows.
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        count, expires = self._counts.get(key, (0, now + ttl))
        if expires <= now:
            count, expires = 0, now + ttl
        self._counts[key] = (count + 1, expires)
        return count + 1


class RedisCounterStore:
    """A :class:`CounterStore` on Redis, shared by every process of a service.

    Args:
        client: A ``redis.asyncio.Redis`` client (any object with an async ``pipeline``
            offering ``set(..., ex=, nx=True)`` and ``incr``); this library does not import
            redis. Works on Redis 6.2 and newer.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: Any) -> None:
        if not hasattr(client, "pipeline"):
            raise TypeError("client must be a redis.asyncio.Redis-like client")
        self._client = client

    async def incr(self, key: str, *, ttl: int) -> int:
        # SET NX EX creates the counter with its expiry; INCR keeps it. (EXPIRE ... NX would
        # do it in one command but needs Redis 7.)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=ttl, nx=True)
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count)


class DailyRequestQuota:
    """Counts each tenant's requests per UTC day and refuses those over its limit.

    Args:
        store: Where the counters live.
        limit: A fixed daily maximum, or a callable giving each tenant's (its plan).
        prefix: Key prefix in the store.
        clock: Returns the current time in seconds (injectable for tests).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        store: CounterStore,
        limit: int | DailyLimit,
        prefix: str = "spaps:tenancy:requests",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(limit, bool) or not (isinstance(limit, int) or callable(limit)):
            raise TypeError("limit must be an int or a callable")
        if isinstance(limit, int) and limit < 0:
            raise ValueError("limit must be >= 0")
        if not prefix:
            raise ValueError("prefix must be non-empty")
        self._store = store
        self._limit = limit
        self._prefix = prefix
        self._clock = clock

    async def hit(self, tenant_id: str) -> int:
        """Count one request of ``tenant_id`` and return how many it made today.

        Raises:
            RequestQuotaExceededError: The tenant is over its daily limit; ``Retry-After``
                says when the next UTC day starts.
        """
        maximum = self._limit if isinstance(self._limit, int) else self._limit(tenant_id)
        if maximum is None:
            return 0
        now = self._clock()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        until_midnight = max(1, int(86400 - now % 86400))
        count = await self._store.incr(f"{self._prefix}:{tenant_id}:{day}", ttl=until_midnight + 60)
        if count > maximum:
            raise RequestQuotaExceededError(
                f"the tenant made more than {maximum} requests today",
                headers={"Retry-After": str(until_midnight)},
                extensions={"limit": maximum},
            )
        return count


class RequestQuotaMiddleware:
    """Pure-ASGI middleware applying a :class:`DailyRequestQuota` to every HTTP request.

    Place it inside :class:`TenantMiddleware` (added before it): it reads the current
    tenant; requests without one (exempt paths) are not counted.

    Args:
        app: The wrapped ASGI app.
        quota: The quota to apply.
        exempt_paths: Path prefixes not counted.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, app: ASGIApp, *, quota: DailyRequestQuota, exempt_paths: Iterable[str] = ()
    ) -> None:
        if not isinstance(quota, DailyRequestQuota):
            raise TypeError("quota must be a DailyRequestQuota")
        self.app = app
        self.quota = quota
        self.exempt_paths = tuple(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tenant_id = get_tenant() if scope["type"] == "http" else None
        path: str = scope.get("path", "")
        if tenant_id is not None and not any(path.startswith(p) for p in self.exempt_paths):
            try:
                await self.quota.hit(tenant_id)
            except RequestQuotaExceededError as error:
                await send_problem(send, error)
                return
        await self.app(scope, receive, send)
