"""End-to-end job latency on an idle worker (Redis broker): ``apply_async`` -> task runs.

One real ``celery worker`` process (solo pool, the defaults of ``create_celery_app``:
late acks, prefetch 1); jobs are sent one at a time and each reports the delay between
its ``apply_async`` and the moment it ran. Prints p50/p90/p99. Needs Redis.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import redis
import structlog
from spaps_jobs.testing import run_worker

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
N = int(os.environ.get("BENCH_JOBS", "300"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    prefix = f"bench_{uuid.uuid4().hex[:8]}:"
    env = {"BENCH_REDIS_URL": REDIS_URL, "BENCH_QUEUE": "bench", "BENCH_PREFIX": prefix}
    os.environ.update(env)
    from _worker_app import ping  # noqa: PLC0415 -- configured by the env set above

    client = redis.Redis.from_url(REDIS_URL)
    key = prefix + "latency"
    try:
        with run_worker("_worker_app", queues=["bench"], cwd=HERE, env=env):
            for _ in range(20):  # warm-up: connections, imports
                ping.apply_async(args=(time.time(),))
                client.blpop([key], timeout=10)
            samples = []
            for _ in range(N):
                ping.apply_async(args=(time.time(),))
                popped = client.blpop([key], timeout=10)
                if popped is None:
                    raise SystemExit("a job did not run within 10 s")
                samples.append(float(popped[1]) * 1000)
        print(f"end-to-end latency, idle worker, Redis broker, {N} sequential jobs")
        print(f"  p50 {_percentile(samples, 0.50):6.2f} ms")
        print(f"  p90 {_percentile(samples, 0.90):6.2f} ms")
        print(f"  p99 {_percentile(samples, 0.99):6.2f} ms")
        print(f"  mean {statistics.fmean(samples):5.2f} ms, max {max(samples):.2f} ms")
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
