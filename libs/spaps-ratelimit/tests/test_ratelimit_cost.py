"""A request of ``cost`` units: one decision, equal to ``cost`` single requests when it fits.

Times are whole ticks of 1/1024 s and intervals whole microseconds (as in the GCRA model
tests), so both stores' floats are exact and every decision is compared one for one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from spaps_ratelimit import Decision, Limit, MemoryStore, RateLimiter, RedisStore, Store
from spaps_ratelimit.testing import ManualClock

TICK = Fraction(1, 1024)  # seconds

limits = st.builds(
    Limit,
    count=st.sampled_from([1, 2, 4, 5, 8, 10, 20, 25, 50]),
    period=st.sampled_from([1, 2, 5]),
    burst=st.integers(min_value=1, max_value=12),
)
# (gap in ticks, cost): costs up to 14 also try more than the largest burst.
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3 * 1024), st.integers(1, 14)),
    min_size=1,
    max_size=30,
)


class Bucket:
    """The reference: ``burst`` tokens refilled at ``count / period`` per second."""

    def __init__(self, limit: Limit) -> None:
        self.capacity = Fraction(limit.burst)
        self.rate = Fraction(limit.count, limit.period)
        self.tokens = self.capacity
        self.last = Fraction(0)

    def take(self, now: Fraction, cost: int) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


async def compare(
    weighted: RateLimiter, single: RateLimiter, clock: ManualClock, limit: Limit, plan: list
) -> None:
    """Drive ``weighted`` with costs and ``single`` with as many single hits."""
    model = Bucket(limit)
    now = Fraction(0)
    for gap, cost in plan:
        now += gap * TICK
        clock.now = float(now)
        decision = await weighted.hit("k", [limit], cost=cost)
        assert decision.allowed is model.take(now, cost), f"at {now}, cost {cost}"
        if cost > limit.burst:
            assert not decision.allowed  # never passes, whatever the time
        if decision.allowed:
            singles = [await single.hit("k", [limit]) for _ in range(cost)]
            assert all(d.allowed for d in singles), f"at {now}: {cost} singles do not fit"
            # The same state afterwards: what remains, and when it is whole again.
            assert singles[-1].states == decision.states
        else:
            assert decision.retry_after > 0
            # What is left (fewer units than the cost) is reported, as singles could take.
            assert decision.remaining == min(cost - 1, int(model.tokens))


@settings(max_examples=150, deadline=None)
@given(limit=limits, plan=steps)
def test_memory_cost_equals_that_many_single_hits(limit: Limit, plan: list) -> None:
    clock = ManualClock(0)
    weighted = RateLimiter(MemoryStore(clock=clock))
    single = RateLimiter(MemoryStore(clock=clock))
    asyncio.run(compare(weighted, single, clock, limit, plan))


@pytest.mark.redis
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=limits, plan=steps)
def test_redis_cost_equals_that_many_single_hits(
    redis_url: str, unique_name: str, limit: Limit, plan: list
) -> None:
    async def scenario() -> None:
        client = Redis.from_url(redis_url, socket_timeout=2)
        prefix = f"{unique_name}:{uuid.uuid4().hex[:8]}:"
        clock = ManualClock(0)
        weighted = RateLimiter(RedisStore(client, prefix=prefix + "w:", clock=clock))
        single = RateLimiter(RedisStore(client, prefix=prefix + "s:", clock=clock))
        try:
            await compare(weighted, single, clock, limit, plan)
        finally:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(scenario())


async def test_a_cost_above_the_burst_is_refused_at_once_and_writes_nothing(
    make_store: Callable[..., Store],
) -> None:
    clock = ManualClock(0)
    limiter = RateLimiter(make_store(clock=clock))
    limit = Limit.per_second(10)
    # A trillion units: an implementation taking them one by one would never answer.
    refused = await limiter.hit("k", [limit], cost=10**12)
    assert not refused.allowed
    assert refused.states[0].reset_after == 0  # the TAT did not move
    whole = await limiter.hit("k", [limit], cost=10)  # the full burst is still there
    assert whole.allowed
    assert whole.remaining == 0


async def test_a_cost_is_taken_from_every_limit_or_from_none(
    make_store: Callable[..., Store],
) -> None:
    clock = ManualClock(0)
    limiter = RateLimiter(make_store(clock=clock))
    pair = [Limit.per_second(10, name="second"), Limit.per_hour(12, name="hour")]
    first = await limiter.hit("k", pair, cost=8)
    assert first.allowed
    assert [s.remaining for s in first.states] == [2, 4]
    refused = await limiter.hit("k", pair, cost=3)  # "second" has 2 left, "hour" 4
    assert not refused.allowed
    assert [s.admitted for s in refused.states] == [False, True]
    assert refused.states[1].remaining == 4  # unconsumed: reported as it stands
    clock.advance(1)
    again = await limiter.hit("k", pair, cost=4)
    assert again.allowed
    assert [s.remaining for s in again.states] == [6, 0]


@pytest.mark.parametrize("cost", [0, -1])
async def test_a_cost_below_one_is_refused_as_a_bug(cost: int) -> None:
    with pytest.raises(ValueError, match="cost must be >= 1"):
        await RateLimiter().hit("k", [Limit.per_second(1)], cost=cost)


@pytest.mark.parametrize("cost", [1.5, True, "2"])
async def test_a_cost_that_is_no_int_is_a_type_error(cost: object) -> None:
    with pytest.raises(TypeError, match="cost must be an int"):
        await RateLimiter().hit("k", [Limit.per_second(1)], cost=cost)  # type: ignore[arg-type]


class StoreOfOldOnes:
    """A third-party store written against 0.4's ``Store``: ``decide`` takes no cost."""

    def __init__(self) -> None:
        self.calls: list[tuple[Sequence[str], int]] = []
        self.inner = MemoryStore()

    async def decide(self, keys: Sequence[str], limits: Sequence[Limit]) -> Decision:
        self.calls.append((keys, len(limits)))
        return await self.inner.decide(keys, limits)

    async def reset(self, keys: Sequence[str]) -> None:
        await self.inner.reset(keys)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_store_without_cost_keeps_working_for_single_requests() -> None:
    store = StoreOfOldOnes()
    errors: list[BaseException] = []
    limiter = RateLimiter(store, on_store_error=lambda exc, _: errors.append(exc))  # type: ignore[arg-type]
    assert (await limiter.hit("k", [Limit.per_second(1)])).allowed
    assert (await limiter.hit("k", [Limit.per_second(1)], cost=1)).allowed is False
    assert len(store.calls) == 2
    # A cost above 1 is a TypeError raised before the store is called: never a store
    # failure that a fail-open limiter would admit.
    with pytest.raises(TypeError, match="takes no cost"):
        await limiter.hit("k", [Limit.per_second(1)], cost=2)
    assert len(store.calls) == 2
    assert errors == []


@pytest.mark.redis
async def test_redis_cost_one_sends_the_arguments_of_before(make_redis_store, redis_client):
    # A cost of 1 adds no argument: the script call (and its cached command) is what
    # 0.4 sent; a cost travels as one extra argument of the same single call.
    store = make_redis_store()
    limit = Limit.per_minute(6)
    one = await store.decide(["a"], [limit])
    five = await store.decide(["b"], [limit], cost=5)
    assert (one.remaining, five.remaining) == (5, 1)
    assert not (await store.decide(["b"], [limit], cost=2)).allowed
    assert (await store.decide(["b"], [limit])).allowed
