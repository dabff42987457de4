"""In-process figures: memory-store decisions/s, and RedisStore vs a bare EVALSHA loop.

* Memory: decisions per CPU second of ``MemoryStore.decide`` (one limit, 1,000 keys)
  and of a full ``Policy.check`` (key function + limiter + store), one core.
* Redis: decisions per second through ``RedisStore.decide`` against a bare redis-py
  ``evalsha`` loop running the very same script with the same arguments and the same
  concurrency; target ratio >= 0.8. Shown for the default store (concurrent
  decisions pipelined together) and with ``pipeline=False`` (one command each, like
  the bare loop).

* In-process ASGI: CPU time per request of the HTTP benchmark's apps driven without
  a server or network (``time.process_time``, best of interleaved rounds): the memory
  store's cost next to the unlimited route and slowapi's memory storage, measured in a
  way that load from other processes hardly disturbs.

Usage: ``python bench/ratelimit/bench_decisions.py [--redis-url URL] [--seconds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

import _apps as apps  # the HTTP benchmark's apps (this directory is on sys.path)
from redis.asyncio import Redis
from spaps_ratelimit import Limit, MemoryStore, Policy, RateLimiter, RedisStore
from spaps_ratelimit._redis import LUA  # the same script, for the bare baseline

HIGH = Limit.per_hour(1_000_000_000)


async def memory_figures(seconds: float) -> None:
    store = MemoryStore()
    keys = [[f"client-{i}"] for i in range(1000)]
    limits = [HIGH]
    done, deadline = 0, time.process_time() + seconds
    while time.process_time() < deadline:
        for key in keys:
            await store.decide(key, limits)
        done += len(keys)
    print(f"memory store decide          {done / seconds:>12,.0f} decisions/s")

    limiter, policy = RateLimiter(store), Policy(HIGH)
    scopes = [{"type": "http", "client": (f"10.0.{i // 256}.{i % 256}", 1), "headers": []}
              for i in range(1000)]  # fmt: skip
    done, deadline = 0, time.process_time() + seconds
    while time.process_time() < deadline:
        for scope in scopes:
            await policy.check(limiter, scope)
        done += len(scopes)
    print(f"memory policy check          {done / seconds:>12,.0f} decisions/s")


async def measure(call, concurrency: int, seconds: float) -> float:  # type: ignore[no-untyped-def]
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await call()
            count += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / seconds


async def redis_figures(url: str, seconds: float, concurrency: int) -> None:
    prefix = f"bench:decisions:{uuid.uuid4().hex[:8]}:"
    client = Redis.from_url(url)
    store = RedisStore(client, prefix=prefix)
    unbatched = RedisStore(client, prefix=prefix, pipeline=False)
    sha = await client.script_load(LUA)
    key, limits = ["k"], [HIGH]
    bare_args = [prefix + "bare", "", HIGH.interval_us, HIGH.tolerance_us]

    async def bare() -> object:
        return await client.evalsha(sha, 1, *bare_args)

    async def spaps() -> object:
        return await store.decide(key, limits)

    async def spaps_unbatched() -> object:
        return await unbatched.decide(key, limits)

    try:
        await measure(bare, concurrency, 0.5)  # warm the pool
        calls = {"bare": bare, "spaps": spaps, "unbatched": spaps_unbatched}
        results: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(3):  # interleaved rounds against outside load
            for name, call in calls.items():
                results[name].append(await measure(call, concurrency, seconds))
        best = {name: max(values) for name, values in results.items()}
        print(f"bare redis-py EVALSHA loop   {best['bare']:>12,.0f} calls/s (c={concurrency})")
        print(f"RedisStore.decide            {best['spaps']:>12,.0f} decisions/s")
        print(f"  with pipeline=False        {best['unbatched']:>12,.0f} decisions/s")
        for label, name in (("RedisStore", "spaps"), ("  pipeline=False", "unbatched")):
            ratio = best[name] / best["bare"]
            verdict = "met" if ratio >= 0.8 else "MISSED"
            print(f"{label + ' / bare EVALSHA':<28} {ratio:>12.2f}x  target >= 0.8: {verdict}")
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def asgi_figures(rounds: int = 7, requests: int = 2000) -> None:
    apps.same_threads = False  # in-process: no extra threads next to the measurement
    names = ["unlimited", "spaps_memory", "slowapi_memory"]
    built = {name: getattr(apps, name)() for name in names}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/limited", "raw_path": b"/limited", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }  # fmt: skip

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    async def cpu_per_request(app: object, count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            await app(dict(scope), receive, send)  # type: ignore[operator]
        return (time.process_time() - started) / count * 1e6

    for app in built.values():
        await cpu_per_request(app, 300)  # warm-up
    best = dict.fromkeys(names, float("inf"))
    for _ in range(rounds):
        for name in names:
            best[name] = min(best[name], await cpu_per_request(built[name], requests))
    for name in names:
        print(f"ASGI {name:<23} {best[name]:>9.1f} us CPU/request")
    for name in ("spaps_memory", "slowapi_memory"):
        ratio = best["unlimited"] / best[name]
        print(f"ASGI {name} / unlimited {ratio:>8.2f}x (throughput ratio)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(memory_figures(args.seconds))
    asyncio.run(redis_figures(args.redis_url, args.seconds, args.concurrency))
    asyncio.run(asgi_figures())
    return 0


if __name__ == "__main__":
    sys.exit(main())
