"""Celery app of the jobs benchmarks (``celery -A _worker_app worker``), configured by env."""

from __future__ import annotations

import os
import time

import redis
from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, create_celery_app

app = create_celery_app(
    JobsSettings(
        broker_url=os.environ["BENCH_REDIS_URL"],
        result_backend=None,
        default_queue=os.environ["BENCH_QUEUE"],
        key_prefix=os.environ["BENCH_PREFIX"],
        dead_letter_url=None,
    ),
    registry=CollectorRegistry(),
)
_client = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])


@app.task(name="bench.noop")
def noop(payload: object) -> None:
    """The relay/apply_async throughput target (never consumed during the timing)."""


@app.task(name="bench.ping")
def ping(sent_at: float) -> None:
    """Report how long after ``sent_at`` the task ran."""
    _client.rpush(os.environ["BENCH_PREFIX"] + "latency", time.time() - sent_at)
