"""Relay throughput (outbox -> Redis broker) versus a bare ``apply_async`` loop.

Anchor (issue 5): the relay should reach >= 0.8x the events/s of a bare loop of
``apply_async`` calls on the same broker, by publishing each batch over one producer.
Prints events/s for both and the ratio. Needs Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
import structlog
from spaps_jobs import CeleryDispatcher, Outbox, Relay
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
N = int(os.environ.get("BENCH_EVENTS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
PAYLOAD = {"order_id": "o-123", "amount": 1999, "currency": "EUR", "lines": [1, 2, 3]}


def _postgres_database() -> tuple[str, str] | None:
    """Create a scratch database; ``None`` when PostgreSQL is not running."""
    try:
        socket.create_connection(("127.0.0.1", 5432), 1).close()
    except OSError:
        return None
    name = f"bench_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_database(name: str) -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    prefix = f"bench_{uuid.uuid4().hex[:8]}:"
    os.environ.update(BENCH_REDIS_URL=REDIS_URL, BENCH_QUEUE="bench", BENCH_PREFIX=prefix)
    from _worker_app import app, noop  # noqa: PLC0415 -- configured by the env set above

    client = redis.Redis.from_url(REDIS_URL)
    tmp = Path(tempfile.mkdtemp())
    pg = _postgres_database()
    queue_key = prefix + "bench"
    targets = {"sqlite": f"sqlite:///{tmp / 'outbox.db'}"}
    if pg:
        targets["postgres"] = pg[1]
    rates: dict[str, list[float]] = {"bare": [], **{name: [] for name in targets}}
    try:
        noop.apply_async(args=(PAYLOAD,))  # warm up the connection pool
        client.delete(queue_key)
        # Interleave the cases over a few rounds: the machine is shared, the median is fair.
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(N):
                noop.apply_async(args=(PAYLOAD,))
            rates["bare"].append(N / (time.perf_counter() - started))
            assert client.llen(queue_key) == N
            client.delete(queue_key)
            for label, url in targets.items():
                engine = create_engine(url)
                metadata = MetaData()
                outbox = Outbox(metadata, table_name=f"bench_outbox_{uuid.uuid4().hex[:6]}")
                metadata.create_all(engine)
                with Session(engine) as session, session.begin():
                    for _ in range(N):
                        outbox.add(session, "bench.noop", PAYLOAD)
                relay = Relay(outbox, engine, CeleryDispatcher(app), batch_size=BATCH)
                started = time.perf_counter()
                while relay.run_once():
                    pass
                rates[label].append(N / (time.perf_counter() - started))
                assert client.llen(queue_key) == N
                client.delete(queue_key)
                metadata.drop_all(engine)
                engine.dispose()
        bare = statistics.median(rates["bare"])
        print(f"median of {ROUNDS} rounds, {N} events each, Redis broker")
        print(f"bare apply_async loop:              {bare:8.0f} events/s")
        for label in targets:
            relayed = statistics.median(rates[label])
            print(
                f"relay ({label} outbox, batch {BATCH}): {relayed:8.0f} events/s"
                f"   ratio {relayed / bare:.2f}x (anchor >= 0.8x)"
            )
    finally:
        if pg:
            _drop_database(pg[0])
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
