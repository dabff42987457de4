"""Fault run: SIGKILLed workers lose no task sent through the outbox, on RabbitMQ and Redis.

For each broker: a prefork ``celery worker`` (concurrency 2) consumes tasks that enter
through the transactional outbox (``Outbox(confirmations=True)``) and a relay with
end-to-end acknowledgement (``Relay(redelivery=...)``); each task records its effect,
its inbox row and the confirmation in one PostgreSQL transaction.

* Busy phase: ``--tasks`` tasks are added (about 60 outstanding) while the worker (its whole
  process group) is SIGKILLed ``--busy-kills`` times mid-stream and restarted.
* Publish phase: ``--publish-kills`` times, one task is published and the worker is
  SIGKILLed 0-3 ms later, then restarted.

Every kill is proven (the worker's exit status is -SIGKILL) before the run goes on.
Then the relay drains; the script prints tasks lost (no effect: must be 0), duplicates
the inbox absorbed, re-sends and publishes. Exit status 1 if any task was lost.

Needs PostgreSQL (127.0.0.1:5432, falls back to SQLite), Redis and RabbitMQ.
``python bench/jobs/fault_kill.py [--brokers redis,rabbitmq] [--tasks 800] ...``
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
import structlog
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    CeleryDispatcher,
    JobsSettings,
    Redelivery,
    Relay,
    RelayMetrics,
    create_celery_app,
)
from spaps_jobs.testing import WorkerProcess, wait_for
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
BROKERS = {
    "rabbitmq": os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "redis": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDELIVERY = Redelivery(
    after=timedelta(seconds=30), backoff=2.0, max_delay=timedelta(seconds=60), max_publishes=10
)
BACKLOG = 60


def _database(tmp: Path) -> tuple[str, str | None]:
    """A scratch PostgreSQL database (URL, name), or a SQLite file when none answers."""
    try:
        socket.create_connection(("127.0.0.1", 5432), 1).close()
    except OSError:
        return f"sqlite:///{tmp / 'fault.db'}", None
    name = f"bench_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def _drop(name: str | None) -> None:
    if name is not None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Run:
    """One broker's fault run."""

    def __init__(self, broker: str, url: str, db_url: str, schema: Any) -> None:
        self.broker, self.url, self.schema = broker, url, schema
        self.queue = f"fault_{uuid.uuid4().hex[:8]}"
        self.prefix = f"{self.queue}:" if broker == "redis" else ""
        self.env = {
            "FAULT_BROKER": url,
            "FAULT_QUEUE": self.queue,
            "FAULT_PREFIX": self.prefix,
            "FAULT_DB": db_url,
        }
        self.engine: Engine = create_engine(db_url, pool_size=5)
        schema.metadata.create_all(self.engine)
        self.app = create_celery_app(
            JobsSettings(
                broker_url=url,
                result_backend=None,
                default_queue=self.queue,
                key_prefix=self.prefix or None,
                soft_time_limit=20,
                time_limit=40,
                visibility_timeout=60,
                dead_letter_url=None,
            ),
            registry=CollectorRegistry(),
        )
        self.registry = CollectorRegistry()
        self.relay = Relay(
            schema.outbox,
            self.engine,
            CeleryDispatcher(self.app, routes={"fault.task": "fault.consume"}),
            redelivery=REDELIVERY,
            batch_size=50,
            poll_interval=0.05,
            metrics=RelayMetrics(registry=self.registry),
        )
        self.log = Path(tempfile.mkdtemp()) / "worker.log"
        self.worker: WorkerProcess | None = None
        self.kills = 0
        self.added = 0

    def start_worker(self) -> None:
        self.worker = WorkerProcess(
            "_fault_app:app",
            queues=[self.queue],
            pool="prefork",
            concurrency=2,
            cwd=HERE,
            env=self.env,
            log_path=self.log,
        ).start(ready_timeout=60)

    def kill_worker(self) -> None:
        """SIGKILL the worker's process group; prove it died of it."""
        worker = self.worker
        if worker is None or worker.process is None:
            raise RuntimeError("no worker to kill")
        worker.kill()
        if worker.alive or worker.process.returncode != -signal.SIGKILL:
            raise SystemExit(f"kill not proven: exit status {worker.process.returncode}")
        self.kills += 1

    def add(self, count: int) -> None:
        with Session(self.engine) as session, session.begin():
            for _ in range(count):
                self.schema.outbox.add(session, "fault.task", {"n": self.added})
                self.added += 1

    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            )

    def relay_in_background(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.relay.run_forever, kwargs={"stop": stop})
        thread.start()
        return thread, stop

    def busy_phase(self, tasks: int, kills: int) -> None:
        thread, stop = self.relay_in_background()

        def produce() -> None:
            # Keep about BACKLOG tasks outstanding: the worker stays busy, and queueing
            # stays well inside the confirmation window (re-sends then mean losses).
            while self.added < tasks:
                if self.added - self.count(self.schema.effects) < BACKLOG:
                    self.add(min(10, tasks - self.added))
                else:
                    time.sleep(0.05)  # sleep-ok: arrival pacing, not synchronisation

        producer = threading.Thread(target=produce)
        producer.start()
        effects = self.schema.effects
        step = max(1, tasks // (kills + 1))
        try:
            for n in range(1, kills + 1):
                # Kill while the worker is busy: once it has recorded another `step` effects.
                wait_for(lambda n=n: self.count(effects) >= n * step, timeout=300)
                self.kill_worker()
                self.start_worker()
        finally:
            producer.join()
            stop.set()
            thread.join()

    def publish_phase(self, kills: int) -> None:
        for _ in range(kills):
            self.add(1)
            self.relay.run_once()  # publishes the new task (and any overdue re-send)
            time.sleep(random.uniform(0, 0.003))  # sleep-ok: the fault lands 0-3 ms after
            self.kill_worker()
            self.start_worker()

    def drain(self, timeout: float) -> None:
        thread, stop = self.relay_in_background()
        outbox = self.schema.outbox.table
        try:
            wait_for(
                lambda: self.count(outbox, outbox.c.confirmed_at.is_(None)) == 0,
                timeout=timeout,
                interval=0.5,
            )
        except TimeoutError:
            pass  # reported as lost below
        finally:
            stop.set()
            thread.join()

    def report(self, seconds: float) -> int:
        outbox = self.schema.outbox.table
        effects = self.count(self.schema.effects)
        lost = self.added - effects
        duplicates = self.count(self.schema.duplicates)
        with self.engine.connect() as conn:
            publishes = int(conn.execute(select(func.sum(outbox.c.publishes))).scalar_one())
        resends = self.registry.get_sample_value("spaps_jobs_outbox_redelivered_total") or 0
        dead = self.count(outbox, outbox.c.dead_lettered_at.is_not(None))
        print(f"{self.broker}: {self.added} tasks through the outbox, {self.kills} SIGKILLs proven")
        print(f"  tasks lost            {lost}")
        print(f"  duplicates absorbed   {duplicates}")
        print(
            f"  re-sends (unconfirmed) {int(resends)}, publishes {publishes}, dead-lettered {dead}"
        )
        print(f"  {seconds:.0f} s", flush=True)
        return lost

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
        if self.broker == "redis":
            client = redis.Redis.from_url(self.url)
            keys = list(client.scan_iter(match=self.prefix + "*"))
            if keys:
                client.delete(*keys)
            client.close()
        else:
            with self.app.connection_for_write() as conn:
                conn.default_channel.queue_delete(self.queue)
        self.engine.dispose()
        self.log.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="rabbitmq,redis")
    parser.add_argument("--tasks", type=int, default=800)
    parser.add_argument("--busy-kills", type=int, default=12)
    parser.add_argument("--publish-kills", type=int, default=30)
    parser.add_argument("--drain-timeout", type=float, default=240)
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    import _fault_app  # noqa: PLC0415 -- the worker's tables, next to this script

    lost = 0
    for broker in args.brokers.split(","):
        tmp = Path(tempfile.mkdtemp())
        db_url, db_name = _database(tmp)
        run = Run(broker, BROKERS[broker], db_url, _fault_app)
        started = time.monotonic()
        try:
            run.start_worker()
            run.busy_phase(args.tasks, args.busy_kills)
            run.publish_phase(args.publish_kills)
            if run.worker is None or not run.worker.alive:
                run.start_worker()
            run.drain(args.drain_timeout)
            lost += run.report(time.monotonic() - started)
        finally:
            run.close()
            _drop(db_name)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
