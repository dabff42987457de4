"""Limit values and the bounded memory store."""

from __future__ import annotations

import asyncio

import pytest
from spaps_ratelimit import Decision, Limit, MemoryStore, Policy
from spaps_ratelimit.testing import ManualClock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/second", Limit(10, 1)),
        ("10/s", Limit(10, 1)),
        ("100 per minute", Limit(100, 60)),
        ("1000/hour", Limit(1000, 3600)),
        ("5/10s", Limit(5, 10)),
        ("2/day", Limit(2, 86400)),
        ("10/second burst=20", Limit(10, 1, 20)),
        ("10/s; burst 20", Limit(10, 1, 20)),
    ],
)
def test_parse(text: str, expected: Limit) -> None:
    assert Limit.parse(text) == expected


def test_constructors_defaults_and_validation() -> None:
    limit = Limit.per_second(10, burst=20)
    assert (limit.count, limit.period, limit.burst, limit.name) == (10, 1, 20, "10-per-1s")
    assert Limit.per_minute(5).burst == 5
    assert Limit.per_hour(1, name="hourly").name == "hourly"
    assert Limit.per_day(3).period == 86400
    assert limit.interval_us == 100_000
    with pytest.raises(ValueError, match="count"):
        Limit(0, 1)
    with pytest.raises(ValueError, match="period"):
        Limit(1, 0)
    with pytest.raises(TypeError, match="int"):
        Limit(1.5, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        Limit(1, 1, name='bad"name')
    with pytest.raises(ValueError, match="not a rate limit"):
        Limit.parse("10/fortnight")


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="distinct names"):
        Policy([Limit(1, 1, name="a"), Limit(2, 1, name="a")])
    with pytest.raises(ValueError, match="at least one"):
        Policy([])
    with pytest.raises(TypeError, match="key"):
        Policy("1/s", key="ip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        Policy("1/s", name="with space")


async def test_async_overrides_are_awaited() -> None:
    async def plans(key: str) -> list[Limit] | None:
        return [Limit.per_minute(7, name="pro")] if key == "vip" else None

    policy = Policy("1/minute", overrides=plans)
    assert (await policy.limits_for("vip"))[0].name == "pro"
    assert await policy.limits_for("anyone") == policy.limits


async def test_memory_is_bounded_and_evicts_expired_entries_first() -> None:
    clock = ManualClock()
    store = MemoryStore(max_keys=4, clock=clock)
    slow, fast = Limit.per_hour(10), Limit.per_second(10)
    await store.decide(["old-1"], [fast])
    await store.decide(["old-2"], [fast])
    await store.decide(["keep-1"], [slow])
    await store.decide(["keep-2"], [slow])
    clock.advance(1)  # the fast entries' state has expired, the slow ones' has not
    await store.decide(["new"], [slow])
    assert len(store) == 3
    # The slow entries kept their state: the expired ones were evicted, not them.
    kept = await store.decide(["keep-1"], [slow])
    assert kept.remaining == 8


async def test_memory_evicts_least_recently_used_when_nothing_expired() -> None:
    store = MemoryStore(max_keys=2, clock=ManualClock())
    hourly = Limit.per_hour(10)
    for key in ["a", "b", "a", "c"]:  # "b" is the least recently used when "c" arrives
        await store.decide([key], [hourly])
    assert len(store) == 2
    assert (await store.decide(["a"], [hourly])).remaining == 7  # kept
    assert (await store.decide(["b"], [hourly])).remaining == 9  # evicted: fresh


async def test_memory_is_exact_under_concurrent_tasks() -> None:
    store = MemoryStore()
    limit = Limit.per_hour(25)

    async def client() -> list[Decision]:
        results = []
        for _ in range(5):
            results.append(await store.decide(["shared"], [limit]))
            await asyncio.sleep(0)  # sleep-ok: yields so the tasks interleave (under test)
        return results

    batches = await asyncio.gather(*(client() for _ in range(20)))
    assert sum(d.allowed for batch in batches for d in batch) == 25


def test_memory_store_validation() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        MemoryStore(max_keys=0)
    with pytest.raises(TypeError, match="clock"):
        MemoryStore(clock=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backwards"):
        ManualClock().advance(-1)


async def test_reset_and_close() -> None:
    store = MemoryStore(clock=ManualClock())
    limit = Limit.per_hour(1)
    await store.decide(["k"], [limit])
    assert not (await store.decide(["k"], [limit])).allowed
    await store.reset(["k"])
    assert (await store.decide(["k"], [limit])).allowed
    await store.aclose()
    assert len(store) == 0
