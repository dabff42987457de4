"""RedisStore on the real Redis: namespacing, expiry, script reload, one round trip."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis
from spaps_ratelimit import Limit, Policy, RateLimiter, RedisStore

pytestmark = pytest.mark.redis


async def test_keys_are_namespaced_and_expire_with_their_state(
    make_redis_store, redis_client, unique_name
):
    store = make_redis_store()
    limit = Limit.per_second(2, burst=4)
    decision = await store.decide(["client-a"], [limit])
    assert decision.allowed
    keys = [key async for key in redis_client.scan_iter(match=f"{unique_name}:*")]
    assert keys == [f"{unique_name}:client-a".encode()]
    ttl = await redis_client.pttl(f"{unique_name}:client-a")
    assert 0 < ttl <= 500  # one interval: the state is gone when it carries nothing


async def test_uses_the_server_clock_by_default(make_redis_store):
    store = make_redis_store()
    limit = Limit.per_minute(3)
    answers = [await store.decide(["k"], [limit]) for _ in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert 0 < answers[-1].retry_after <= 20  # one interval (60 s / 3), on Redis's clock


@pytest.mark.parametrize("pipeline", [True, False])
async def test_script_is_reloaded_after_script_flush(make_redis_store, redis_client, pipeline):
    store = make_redis_store(pipeline=pipeline)
    limit = Limit.per_minute(2)
    assert (await store.decide(["k"], [limit])).allowed
    await redis_client.script_flush()
    second = await store.decide(["k"], [limit])  # NOSCRIPT -> load -> retry
    assert second.allowed
    assert second.remaining == 0  # the state survived; only the script was reloaded
    assert not (await store.decide(["k"], [limit])).allowed


async def test_concurrent_decisions_after_script_flush_are_exact(make_redis_store, redis_client):
    store = make_redis_store()
    limit = Limit.per_hour(30)
    await store.decide(["warm"], [limit])
    await redis_client.script_flush()
    decisions = await asyncio.gather(*(store.decide(["k"], [limit]) for _ in range(100)))
    assert sum(d.allowed for d in decisions) == 30


@pytest.mark.parametrize("pipeline", [True, False])
async def test_one_decision_is_one_evalsha_and_nothing_else(redis_process, pipeline):
    client = Redis.from_url(redis_process.url, socket_timeout=2)
    store = RedisStore(client, prefix="t:", pipeline=pipeline)
    limits = [Limit.per_second(5, name="s"), Limit.per_minute(50, name="m")]
    try:
        await store.decide(["a:s", "a:m"], limits)  # loads the script on first use
        await client.config_resetstat()
        await store.decide(["a:s", "a:m"], limits)
        await asyncio.gather(*(store.decide(["a:s", "a:m"], limits) for _ in range(2)))
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    calls = {name: value["calls"] for name, value in stats.items()}
    # GET/SET/TIME run inside the script (Redis counts them too); the client sent one
    # EVALSHA per decision, plus handshakes when the pool opened a connection (Redis 7
    # counts subcommands apart, 6.2 under the command).
    handshakes = {"cmdstat_hello", "cmdstat_client|setinfo", "cmdstat_client",
                  "cmdstat_info", "cmdstat_config|resetstat", "cmdstat_config"}  # fmt: skip
    sent = {name: n for name, n in calls.items() if name not in handshakes}
    assert sent == {"cmdstat_evalsha": 3, "cmdstat_get": 6, "cmdstat_set": 6, "cmdstat_time": 3}


async def test_reset_forgets_a_client(make_redis_store):
    store = make_redis_store()
    limit = Limit.per_minute(1)
    assert (await store.decide(["k"], [limit])).allowed
    assert not (await store.decide(["k"], [limit])).allowed
    await store.reset(["k"])
    assert (await store.decide(["k"], [limit])).allowed


async def test_limiter_keys_name_the_policy_the_key_and_the_limit(
    make_redis_store, redis_client, unique_name
):
    limiter = RateLimiter(make_redis_store())
    policy = Policy("5/second", key=lambda scope: "user:1", name="api")
    await policy.check(limiter, {"type": "http"})
    keys = [key async for key in redis_client.scan_iter(match=f"{unique_name}:*")]
    assert keys == [f"{unique_name}:api:user:1:5/1/5".encode()]


async def test_survives_a_server_restart_and_reloads_the_script(redis_process, caplog):
    client = Redis.from_url(redis_process.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    errors: list[tuple[str, bool]] = []
    limiter = RateLimiter(
        RedisStore(client, prefix="t:"),
        on_store_error=lambda exc, opened: errors.append((type(exc).__name__, opened)),
    )
    limit = [Limit.per_minute(2)]
    try:
        assert (await limiter.hit("k", limit)).allowed
        redis_process.stop()
        with caplog.at_level(logging.WARNING, logger="spaps_ratelimit"):
            down = [await limiter.hit("k", limit) for _ in range(3)]
        assert all(d.allowed and d.degraded for d in down)  # fail-open: admitted
        assert len(errors) == 3
        assert all(opened for _, opened in errors)
        assert [r.message for r in caplog.records].count(
            next(r.message for r in caplog.records if "failing open" in r.message)
        ) == 1  # one line, not one per request
        redis_process.start()  # empty server: no script, no state
        with caplog.at_level(logging.INFO, logger="spaps_ratelimit"):
            back = [await limiter.hit("k", limit) for _ in range(3)]
        assert [d.allowed for d in back] == [True, True, False]
        assert not back[0].degraded
        assert any("recovered after 3 failed" in r.message for r in caplog.records)
    finally:
        await client.aclose()


async def test_concurrent_decisions_share_pipelines_yet_stay_exact(redis_process):
    client = Redis.from_url(redis_process.url, socket_timeout=2)
    store = RedisStore(client, prefix="t:", max_batch=16)
    limit = Limit.per_hour(40)
    try:
        await store.decide(["warm"], [limit])
        await client.config_resetstat()
        decisions = await asyncio.gather(*(store.decide(["k"], [limit]) for _ in range(100)))
        stats = await client.info("stats")
        evalsha = (await client.info("commandstats"))["cmdstat_evalsha"]["calls"]
    finally:
        await client.aclose()
    assert sum(d.allowed for d in decisions) == 40
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(40))
    assert evalsha == 100
    # 100 decisions in batches of at most 16: 7 pipelines, far fewer than 100 connections.
    assert stats["total_connections_received"] <= 16


def test_redis_store_validation(redis_client):
    with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        RedisStore("redis://localhost")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_batch"):
        RedisStore(redis_client, max_batch=0)
    with pytest.raises(TypeError, match="clock"):
        RedisStore(redis_client, clock=3)  # type: ignore[arg-type]
