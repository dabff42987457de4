"""Several processes on one Redis key: exact admission, and immune to client clocks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# One worker process: optionally skews its own clock, opens one connection per client,
# says "ready" and waits for "go" on stdin (a barrier across processes), then runs
# ``clients`` concurrent clients of ``requests`` decisions each on one key.
WORKER = r"""
import asyncio, json, random, sys, time
url, prefix, clients, requests, barrier, skew = sys.argv[1:7]
clients, requests, barrier, skew = int(clients), int(requests), int(barrier), float(skew)
jitter = float(sys.argv[9])
real_time, real_monotonic = time.time, time.monotonic
time.time = lambda: real_time() + skew            # a client host with a wrong clock
time.monotonic = lambda: real_monotonic() + skew
from spaps_ratelimit import Limit, RateLimiter, RedisStore

async def main():
    limiter = RateLimiter(RedisStore.from_url(url, prefix=prefix, timeout=5), fail_open=False)
    limit = [Limit(int(sys.argv[7]), int(sys.argv[8]), name="shared")]
    async def client():
        results = []
        for _ in range(requests):
            await asyncio.sleep(random.uniform(0, jitter))  # spread the clients out
            results.append(await limiter.hit("one-key", limit))
        return results
    redis = limiter.store.client
    await asyncio.gather(*(redis.ping() for _ in range(clients)))  # warm the pool
    if barrier:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results = [d for ds in await asyncio.gather(*(client() for _ in range(clients))) for d in ds]
    await limiter.aclose()
    print(json.dumps({
        "admitted": sum(d.allowed for d in results),
        "retry_after": [d.retry_after for d in results if not d.allowed],
    }))

asyncio.run(main())
"""


def start_worker(
    *,
    redis_url: str,
    prefix: str,
    clients: int,
    requests: int,
    barrier: int,
    skew: float,
    count: int,
    period: int,
    jitter: float = 0.0,
) -> subprocess.Popen[str]:
    args = [redis_url, prefix, clients, requests, barrier, skew, count, period, jitter]
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(process: subprocess.Popen[str]) -> dict[str, object]:
    try:
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    parsed: dict[str, object] = json.loads(out)
    return parsed


def test_two_processes_with_many_clients_admit_exactly_the_limit(
    redis_url, unique_name, redis_client
):
    # 300 per hour: nothing refills during the few seconds of the test.
    workers = [
        start_worker(
            redis_url=redis_url,
            prefix=f"{unique_name}:",
            clients=100,
            requests=4,
            barrier=1,
            skew=0,
            count=300,
            period=3600,
            jitter=0.2,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    results = [result_of(w) for w in workers]
    admitted = [r["admitted"] for r in results]
    assert sum(admitted) == 300, admitted  # 800 attempts, not one over the limit
    assert all(0 < a < 300 for a in admitted), admitted  # both really competed


def test_skewed_client_clocks_do_not_change_decisions(redis_url, unique_name, redis_client):
    prefix = f"{unique_name}:"
    # An honest process uses the whole burst of 5 per minute ...
    honest = result_of(
        start_worker(
            redis_url=redis_url,
            prefix=prefix,
            clients=1,
            requests=5,
            barrier=0,
            skew=0,
            count=5,
            period=60,
        )
    )
    assert honest["admitted"] == 5
    # ... and processes an hour ahead or behind see exactly the same state: with
    # client time, "+1 h" would find the budget refilled and "-1 h" would lock out.
    ahead = result_of(
        start_worker(
            redis_url=redis_url,
            prefix=prefix,
            clients=1,
            requests=2,
            barrier=0,
            skew=3600,
            count=5,
            period=60,
        )
    )
    behind = result_of(
        start_worker(
            redis_url=redis_url,
            prefix=prefix,
            clients=1,
            requests=2,
            barrier=0,
            skew=-3600,
            count=5,
            period=60,
        )
    )
    assert ahead["admitted"] == 0
    assert behind["admitted"] == 0
    for retry in [*ahead["retry_after"], *behind["retry_after"]]:  # type: ignore[misc]
        assert 0 < retry <= 12  # one interval (60 s / 5) at most, never an hour
