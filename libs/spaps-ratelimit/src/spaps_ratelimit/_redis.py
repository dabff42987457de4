"""``RedisStore``: one atomic Lua call per decision, on the Redis server's clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._batch import ScriptBatcher
from ._decision import Decision, LimitState
from ._limit import Limit
from .types import Clock

if TYPE_CHECKING:
    from redis.asyncio import Redis

# The GCRA of _gcra.decide, in Lua. KEYS[i] holds the TAT (microseconds) of limit i;
# ARGV[1] is "now" in microseconds or "" for the server clock (redis.call('TIME'):
# every client agrees, whatever its own clock says; Redis 7 replicates the script's
# effects, so a non-deterministic TIME is safe). ARGV[2i], ARGV[2i+1] are the
# interval and tolerance of limit i; ARGV[2n+2], when present, is the request's cost in
# units (absent: 1, so a cost-1 call sends what 0.4 sent). Nothing is written unless
# every limit admits; a cost above a limit's burst is refused at once (no loop).
# Returns {admitted_all, then per limit: admitted, remaining, reset_us, retry_us}.
LUA = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local n = #KEYS
local cost = tonumber(ARGV[2 * n + 2] or '1')
local tat, new_tat, allow_at = {}, {}, {}
local all = 1
for i = 1, n do
  local increment = cost * tonumber(ARGV[2 * i])
  local stored = tonumber(redis.call('GET', KEYS[i]) or '')
  local t = now
  if stored ~= nil and stored > now then t = stored end
  tat[i] = t
  new_tat[i] = t + increment
  allow_at[i] = t + (increment - tonumber(ARGV[2 * i + 1]))  -- as _gcra.py: one rounding
  if now < allow_at[i] then all = 0 end
end
local out = {all}
for i = 1, n do
  local interval = tonumber(ARGV[2 * i])
  local admitted, remaining, reset, retry = 1, 0, 0, 0
  if all == 1 then
    remaining = math.floor((now - allow_at[i]) / interval + 1e-6)
    reset = new_tat[i] - now
    local ttl = math.ceil(reset / 1000)
    redis.call('SET', KEYS[i], string.format('%.6f', new_tat[i]), 'PX', ttl)
  elseif now >= allow_at[i] then
    remaining = math.floor((now - allow_at[i]) / interval + 1e-6) + cost
    reset = tat[i] - now
  else
    admitted = 0
    if cost > 1 then  -- as _gcra._units_left: the units left, fewer than the cost
      remaining = math.floor((now - allow_at[i]) / interval + 1e-6) + cost
      remaining = math.max(0, math.min(cost - 1, remaining))
    end
    reset = tat[i] - now
    retry = allow_at[i] - now
  end
  out[#out + 1] = admitted
  out[#out + 1] = remaining
  out[#out + 1] = math.ceil(reset)
  out[#out + 1] = math.ceil(retry)
end
return out
"""


class RedisStore:
    """GCRA state in Redis, shared by every process: exact across workers and hosts.

    Each decision is one ``EVALSHA`` of a Lua script (redis-py's ``Script`` reloads it
    after ``SCRIPT FLUSH`` or a server restart), deciding every limit of the request
    atomically on the server's clock. Keys expire when their state does. Decisions
    made concurrently share one write and one read on a pooled connection (each still
    its own atomic script call), which cuts the client CPU per decision several-fold
    under load. A batch whose connection breaks is not re-sent (that could count a
    request twice): its unanswered decisions fail, and the limiter's fail policy
    answers them.

    Args:
        client: A ``redis.asyncio.Redis`` client (``decode_responses`` either way).
            Give it ``socket_timeout``/``socket_connect_timeout`` so an unreachable
            server fails fast; :meth:`from_url` does. A batch waits at most
            ``socket_timeout`` for all its replies.
        prefix: Namespace of every key this store writes.
        clock: Test mode only: seconds to pass as "now" instead of the server's
            ``TIME``. Leave ``None`` in production.
        pipeline: Batch concurrent decisions (``False``: one command per decision).
        max_batch: Largest number of decisions in one batch.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 Batches bypass redis-py's ``Pipeline``, are never
       re-sent, and wait at most ``socket_timeout`` for all their replies.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "spaps:rl:",
        clock: Clock | None = None,
        pipeline: bool = True,
        max_batch: int = 128,
    ) -> None:
        if not hasattr(client, "register_script"):
            raise TypeError(f"client must be a redis.asyncio.Redis, got {client!r}")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {prefix!r}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning seconds, got {clock!r}")
        self._client = client
        self._prefix = prefix
        self._clock = clock
        if not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be an int >= 1, got {max_batch!r}")
        self._script = client.register_script(LUA)
        self._call: Callable[[list[str], list[Any]], Awaitable[Any]] = (
            ScriptBatcher(client, self._script, max_batch=max_batch) if pipeline else self._script
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "spaps:rl:",
        timeout: float = 0.5,
        pipeline: bool = True,
        **kwargs: Any,
    ) -> RedisStore:
        """Build a store with its own client for ``url``.

        Args:
            url: ``redis://host:port/db``.
            prefix: Key namespace.
            timeout: Socket connect/read timeout in seconds.
            pipeline: As for the constructor.
            **kwargs: Passed to ``redis.asyncio.Redis.from_url``.
        """
        from redis.asyncio import Redis  # noqa: PLC0415  # the [redis] extra: import only when used

        client = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, **kwargs
        )
        return cls(client, prefix=prefix, pipeline=pipeline)

    @property
    def client(self) -> Redis:
        """The Redis client in use."""
        return self._client

    @property
    def prefix(self) -> str:
        """The key namespace."""
        return self._prefix

    async def decide(
        self, keys: Sequence[str], limits: Sequence[Limit], *, cost: int = 1
    ) -> Decision:
        """Decide one request in one round trip; see :class:`spaps_ratelimit.Store`.

        .. versionchanged:: 0.5.0 ``cost``: charged inside the same script call.
        """
        prefix = self._prefix
        now = "" if self._clock is None else repr(self._clock() * 1e6)
        args: list[str | float] = [now]
        for limit in limits:
            args.append(limit.interval_us)
            args.append(limit.tolerance_us)
        if cost != 1:  # absent means 1: cost-1 commands stay as they were (and cached)
            args.append(cost)
        raw = await self._call([prefix + key for key in keys], args)
        if len(limits) == 1:  # the common case, without the generator
            state = LimitState(limits[0], bool(raw[1]), raw[2], raw[3] / 1e6, raw[4] / 1e6)
            return Decision(bool(raw[0]), (state,))
        states = tuple(
            LimitState(
                limit,
                bool(raw[1 + 4 * i]),
                int(raw[2 + 4 * i]),
                int(raw[3 + 4 * i]) / 1e6,
                int(raw[4 + 4 * i]) / 1e6,
            )
            for i, limit in enumerate(limits)
        )
        return Decision(bool(raw[0]), states)

    async def reset(self, keys: Sequence[str]) -> None:
        """Delete the state of ``keys``."""
        if keys:
            await self._client.delete(*(self._prefix + key for key in keys))

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self._client.aclose()
