"""Several processes on one Redis key: exact admission, and immune to client clocks.

No assertion here depends on how long anything takes: the limits refill one request
per 288 s (day) or 720 s (hour), far longer than the test's own deadlines allow it to
run, so no request is ever refilled mid-test.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# One worker process. Its client clock is skewed by ``skew`` seconds (time.time and
# time.monotonic: a client host with a wrong clock). It opens one connection per
# client, then runs each phase: says "ready" and waits for "go" on stdin (a barrier
# across processes) when ``barrier`` is set, then ``clients`` concurrent clients of
# ``requests`` decisions each on one key. With ``control`` set, each client also asks
# a second store that decides on the client's clock (``RedisStore(clock=...)``), so
# the test can see that the skew is real and would have changed decisions.
WORKER = r"""
import asyncio, json, sys, time
config = json.loads(sys.argv[1])
real_time, real_monotonic = time.time, time.monotonic
time.time = lambda: real_time() + config["skew"]
time.monotonic = lambda: real_monotonic() + config["skew"]
from spaps_ratelimit import Limit, RateLimiter, RedisStore

async def main():
    url, clients = config["url"], config["clients"]
    limiter = RateLimiter(
        RedisStore.from_url(url, prefix=config["prefix"], timeout=5), fail_open=False
    )
    control = RateLimiter(
        RedisStore(limiter.store.client, prefix=config["prefix"] + "client-clock:",
                   clock=time.time),
        fail_open=False,
    )
    limit = [Limit(config["count"], config["period"], name="shared")]

    async def client(requests):
        results, controls = [], []
        for _ in range(requests):
            results.append(await limiter.hit("one-key", limit))
            if config["control"]:
                controls.append(await control.hit("one-key", limit))
        return results, controls

    redis = limiter.store.client
    await asyncio.gather(*(redis.ping() for _ in range(clients)))  # warm the pool
    loop = asyncio.get_running_loop()
    out = {"admitted": [], "retry_after": [], "control_admitted": 0,
           "control_retry_after": []}
    for requests in config["phases"]:
        if config["barrier"]:
            print("ready", flush=True)
            assert (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "go"
        runs = await asyncio.gather(*(client(requests) for _ in range(clients)))
        results = [d for r, _ in runs for d in r]
        controls = [d for _, c in runs for d in c]
        out["admitted"].append(sum(d.allowed for d in results))
        out["retry_after"] += [d.retry_after for d in results if not d.allowed]
        out["control_admitted"] += sum(d.allowed for d in controls)
        out["control_retry_after"] += [d.retry_after for d in controls if not d.allowed]
    await limiter.aclose()
    print(json.dumps(out), flush=True)

asyncio.run(main())
"""

TIMEOUT = 60  # fails a hung worker; never what a test measures


def start_worker(
    *,
    redis_url: str,
    prefix: str,
    clients: int,
    phases: list[int],
    count: int,
    period: int,
    barrier: bool = False,
    skew: float = 0.0,
    control: bool = False,
) -> subprocess.Popen[str]:
    config = {
        "url": redis_url,
        "prefix": prefix,
        "clients": clients,
        "phases": phases,
        "count": count,
        "period": period,
        "barrier": barrier,
        "skew": skew,
        "control": control,
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(process: subprocess.Popen[str]) -> str:
    """The worker's next line of output (it writes one, then waits for the test)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(TIMEOUT):
            pytest.fail(f"the worker wrote nothing within {TIMEOUT} s")
    return process.stdout.readline().strip()


def release(workers: list[subprocess.Popen[str]]) -> None:
    """Barrier: wait until every worker is ready, then let them all go at once."""
    for worker in workers:
        assert read_line(worker) == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_two_processes_with_many_clients_admit_exactly_the_limit(
    redis_url, unique_name, redis_client
):
    # 300 per day: one request refills every 288 s, never while the test runs.
    workers = [
        start_worker(
            redis_url=redis_url,
            prefix=f"{unique_name}:",
            clients=100,
            phases=[1, 3],
            count=300,
            period=86400,
            barrier=True,
        )
        for _ in range(2)
    ]
    try:
        release(workers)  # phase 1: 2 x 100 requests, under the limit
        release(workers)  # phase 2: 2 x 300 requests for the last 100 places
        results = [result_of(w) for w in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert [r["admitted"][0] for r in results] == [100, 100]  # both took part
    # 800 attempts from two processes on one key: not one admitted over the limit.
    assert sum(r["admitted"][1] for r in results) == 100, results


def test_skewed_client_clocks_do_not_change_decisions(redis_url, unique_name, redis_client):
    prefix = f"{unique_name}:"
    # 5 per hour: one request refills every 720 s, never while the test runs.
    common = {"redis_url": redis_url, "prefix": prefix, "clients": 1, "count": 5}
    # An honest process uses the whole burst of 5 per hour ...
    honest = result_of(start_worker(**common, period=3600, phases=[5], control=True))
    assert honest["admitted"] == [5]
    assert honest["control_admitted"] == 5
    # ... and processes a day ahead or behind see exactly the same state.
    ahead = result_of(start_worker(**common, period=3600, phases=[2], control=True, skew=86400))
    behind = result_of(start_worker(**common, period=3600, phases=[2], control=True, skew=-86400))
    # The skew is real: decided on the client's clock, "a day ahead" finds the budget
    # refilled and "a day behind" is locked out for more than a day.
    assert ahead["control_admitted"] == 2
    assert behind["control_admitted"] == 0
    assert all(retry > 86400 for retry in behind["control_retry_after"])
    # On the server's clock, neither skew changes anything.
    assert ahead["admitted"] == [0]
    assert behind["admitted"] == [0]
    for retry in [*ahead["retry_after"], *behind["retry_after"]]:
        assert 0 < retry <= 720  # one interval (3600 s / 5) at most, never a day
