"""GCRA against a reference token-bucket model, for the memory and the Redis store.

Times are whole ticks of 1/1024 s and intervals whole microseconds, so every float in
the stores is exact and decisions can be compared one for one with the model, which
uses exact fractions.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from spaps_ratelimit import Limit, MemoryStore, RedisStore, Store
from spaps_ratelimit.testing import ManualClock

TICK = Fraction(1, 1024)  # seconds


class TokenBucket:
    """The reference: ``burst`` tokens, refilled at ``count / period`` per second."""

    def __init__(self, limit: Limit) -> None:
        self.capacity = Fraction(limit.burst)
        self.rate = Fraction(limit.count, limit.period)
        self.tokens = self.capacity
        self.last: Fraction | None = None

    def request(self, now: Fraction) -> tuple[bool, int]:
        if self.last is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens)
        return False, 0


limits = st.builds(
    Limit,
    count=st.sampled_from([1, 2, 4, 5, 8, 10, 20, 25, 50]),
    period=st.sampled_from([1, 2, 5]),
    burst=st.integers(min_value=1, max_value=12),
)
gaps = st.lists(st.integers(min_value=0, max_value=3 * 1024), min_size=1, max_size=40)


async def run(store: Store, clock: ManualClock, limit: Limit, ticks: list[int]) -> None:
    model = TokenBucket(limit)
    now = Fraction(0)
    admitted_at: list[Fraction] = []
    for gap in ticks:
        now += gap * TICK
        clock.now = float(now)
        decision = await store.decide(["k"], [limit])
        expected, remaining = model.request(now)
        assert decision.allowed is expected, f"at {now}: model says {expected}"
        if expected:
            admitted_at.append(now)
            assert decision.states[0].remaining == remaining
        else:
            assert decision.retry_after > 0
    # The defining bound: in any window (of the manual clock's time), admitted <=
    # burst + rate * window.
    for i, start in enumerate(admitted_at):
        for j in range(i, len(admitted_at)):
            window = admitted_at[j] - start
            assert j - i + 1 <= limit.burst + window * Fraction(limit.count, limit.period)


@settings(max_examples=150, deadline=None)
@given(limit=limits, ticks=gaps)
def test_memory_store_matches_the_reference_model(limit: Limit, ticks: list[int]) -> None:
    clock = ManualClock(0)
    asyncio.run(run(MemoryStore(clock=clock), clock, limit, ticks))


@pytest.mark.redis
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=limits, ticks=gaps)
def test_redis_script_matches_the_reference_model(
    redis_url: str, unique_name: str, limit: Limit, ticks: list[int]
) -> None:
    async def scenario() -> None:
        client = Redis.from_url(redis_url, socket_timeout=2)
        prefix = f"{unique_name}:{uuid.uuid4().hex[:8]}:"
        clock = ManualClock(0)
        try:
            await run(RedisStore(client, prefix=prefix, clock=clock), clock, limit, ticks)
        finally:
            await client.delete(prefix + "k")
            await client.aclose()

    asyncio.run(scenario())


async def test_a_rejected_request_consumes_from_no_limit(
    make_store: Callable[..., Store],
) -> None:
    clock = ManualClock(0)
    store = make_store(clock=clock)
    per_second = Limit.per_second(2, name="second")
    per_hour = Limit.per_hour(100, name="hour")
    keys = ["k:s", "k:h"]
    results = [await store.decide(keys, [per_second, per_hour]) for _ in range(5)]
    assert [d.allowed for d in results] == [True, True, False, False, False]
    # Only the two admitted requests were taken from the hourly budget.
    last = results[-1].states
    assert (last[0].admitted, last[1].admitted) == (False, True)
    assert last[1].remaining == 98
    clock.advance(1)
    after = await store.decide(keys, [per_second, per_hour])
    assert after.allowed
    assert after.states[1].remaining == 97


@pytest.mark.parametrize("power", [32, 33, 50])
async def test_a_fresh_key_is_admitted_wherever_the_clock_stands(
    make_store: Callable[..., Store], power: int
) -> None:
    # A clock in microseconds crosses powers of two (a monotonic one 2**32 us after
    # boot): within one interval before that, ``(now + T) - tau`` could round past
    # ``now`` and reject a fresh client's first request.
    rng = random.Random(power)
    clock = ManualClock()
    store = make_store(clock=clock)
    for i, limit in enumerate([Limit.per_minute(1), Limit.per_second(3, burst=1)] * 50):
        clock.now = (2**power - rng.uniform(0, limit.interval_us)) / 1e6
        assert (await store.decide([f"one:{i}"], [limit])).allowed
        pair = [limit, Limit.per_hour(5, name="hourly")]
        assert (await store.decide([f"a:{i}", f"b:{i}"], pair)).allowed


async def run_pair(
    store: Store, clock: ManualClock, pair: tuple[Limit, Limit], ticks: list[int]
) -> None:
    """Two limits against two buckets: admitted only when both have a token."""
    models = [TokenBucket(pair[0]), TokenBucket(pair[1])]
    now = Fraction(0)
    for gap in ticks:
        now += gap * TICK
        clock.now = float(now)
        decision = await store.decide(["k:a", "k:b"], list(pair))
        for model in models:  # refill both to "now"
            if model.last is not None:
                model.tokens = min(model.capacity, model.tokens + (now - model.last) * model.rate)
            model.last = now
        expected = all(model.tokens >= 1 for model in models)
        if expected:
            for model in models:
                model.tokens -= 1
        assert decision.allowed is expected, f"at {now}: model says {expected}"
        for state, model in zip(decision.states, models, strict=True):
            assert state.remaining == (int(model.tokens) if state.admitted else 0)


named_pairs = st.tuples(limits, limits).map(
    lambda p: (
        Limit(p[0].count, p[0].period, p[0].burst, "a"),
        Limit(p[1].count, p[1].period, p[1].burst, "b"),
    )
)


@settings(max_examples=100, deadline=None)
@given(pair=named_pairs, ticks=gaps)
def test_memory_store_two_limits_all_or_nothing(
    pair: tuple[Limit, Limit], ticks: list[int]
) -> None:
    clock = ManualClock(0)
    asyncio.run(run_pair(MemoryStore(clock=clock), clock, pair, ticks))


@pytest.mark.redis
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=named_pairs, ticks=gaps)
def test_redis_script_two_limits_all_or_nothing(
    redis_url: str, unique_name: str, pair: tuple[Limit, Limit], ticks: list[int]
) -> None:
    async def scenario() -> None:
        client = Redis.from_url(redis_url, socket_timeout=2)
        prefix = f"{unique_name}:{uuid.uuid4().hex[:8]}:"
        clock = ManualClock(0)
        try:
            await run_pair(RedisStore(client, prefix=prefix, clock=clock), clock, pair, ticks)
        finally:
            await client.delete(prefix + "k:a", prefix + "k:b")
            await client.aclose()

    asyncio.run(scenario())
