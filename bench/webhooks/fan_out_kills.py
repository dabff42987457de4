"""Events lost when the delivery worker is SIGKILLed: outbox -> relay -> fan-out -> delivery.

Publishes BENCH_EVENTS events (default 320) while a Celery worker (threads x8, Redis
broker) is SIGKILLed BENCH_KILLS times (default 12) and restarted. With BENCH_DROP=1 (the
default) every key of the broker's queue is deleted after each kill as well: the worst
case of Celery's Redis transport losing popped messages (celery/kombu#1836), so every
fan-out and delivery task in flight is gone and only the database can bring the events
back. Prints published, delivered (distinct webhook-ids at the receiver), lost and
duplicate receipts. Issue #22's target: 0 lost.

Needs Redis on 127.0.0.1:6379. Run:
    uv run --no-sync python bench/webhooks/fan_out_kills.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis
from spaps_jobs import CeleryDispatcher, Relay
from spaps_jobs.testing import WorkerProcess
from sqlalchemy.orm import Session

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import bench_worker_app  # noqa: E402
from spaps_webhooks import register_tasks  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "320"))
KILLS = int(os.environ.get("BENCH_KILLS", "12"))
DROP = os.environ.get("BENCH_DROP", "1") == "1"
REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT, LEASE_MARGIN = 2.0, 1.0  # a lost attempt or fan-out is recovered after 7 s


def received(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if line]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="webhooks-kills-"))
    queue = "kills_" + uuid.uuid4().hex[:8]
    db_url = f"sqlite:///{tmp / 'webhooks.db'}"
    log = tmp / "received.log"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # held and handed to uvicorn: no other process can take it
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "_id_receiver:app", "--app-dir", str(HERE),
         "--fd", str(sock.fileno()), "--log-level", "warning", "--no-access-log"],
        pass_fds=[sock.fileno()], env={**os.environ, "BENCH_RECEIVED_LOG": str(log)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis.from_url(REDIS_URL)
    webhooks = bench_worker_app.build(db_url, timeout=TIMEOUT, lease_margin=LEASE_MARGIN)
    webhooks.create_tables()
    app = bench_worker_app.make_app(REDIS_URL, queue)
    tasks = register_tasks(app, webhooks)
    relay = Relay(webhooks.outbox, webhooks.engine, CeleryDispatcher(app), batch_size=100)
    webhooks.endpoints.create("bench", url)
    env = {"BENCH_DB_URL": db_url, "BENCH_BROKER_URL": REDIS_URL, "BENCH_QUEUE": queue,
           "BENCH_TIMEOUT": str(TIMEOUT), "BENCH_LEASE_MARGIN": str(LEASE_MARGIN)}  # fmt: skip

    def worker() -> WorkerProcess:
        return WorkerProcess(
            "bench_worker_app:app", queues=[queue], pool="threads", concurrency=8, cwd=HERE,
            env=env, log_path=tmp / "worker.log",
        ).start()  # fmt: skip

    stop = threading.Event()

    def relay_and_sweep() -> None:  # what the relay process and celery beat do
        while not stop.is_set():
            relay.run_once()
            tasks.sweep()
            stop.wait(0.2)

    loop = threading.Thread(target=relay_and_sweep, daemon=True)
    current = worker()
    loop.start()
    published: list[str] = []
    kills = 0
    started = time.perf_counter()
    try:
        per_round = max(1, EVENTS // (KILLS + 1))
        while len(published) < EVENTS:
            with Session(webhooks.engine) as session, session.begin():
                for _ in range(min(per_round, EVENTS - len(published))):
                    published.append(
                        webhooks.publish(session, "webhook.test.v1", {"endpoint_id": "b"},
                                         owner="bench")
                    )  # fmt: skip
            if kills < KILLS:
                # Kill while busy: wait until the worker is taking this round's tasks.
                target = len(received(log)) + 1
                deadline = time.monotonic() + 30
                while len(received(log)) < target and time.monotonic() < deadline:
                    time.sleep(0.01)  # sleep-ok: polling the receiver's log for progress
                current.kill()
                kills += 1
                if DROP:
                    keys = list(client.scan_iter(f"{queue}*"))
                    if keys:
                        client.delete(*keys)
                current = worker()
        deadline = time.monotonic() + 600
        while set(published) - set(received(log)) and time.monotonic() < deadline:
            time.sleep(0.2)  # sleep-ok: polling the receiver's log for completion
        elapsed = time.perf_counter() - started
        got = received(log)
        lost = set(published) - set(got)
        print(f"broker state dropped after each kill: {'yes' if DROP else 'no'}")
        print(f"events published            {len(published):>6}")
        print(f"worker SIGKILLs             {kills:>6}")
        print(f"events delivered (distinct) {len(set(got) & set(published)):>6}")
        print(f"events lost                 {len(lost):>6}   (target 0)")
        print(f"duplicate receipts          {len(got) - len(set(got)):>6}   (a verifying receiver "
              "absorbs them by webhook-id)")  # fmt: skip
        print(f"elapsed                     {elapsed:>6.1f} s")
    finally:
        stop.set()
        loop.join(timeout=30)
        current.kill()
        app.close()
        server.kill()
        server.wait(timeout=10)
        sock.close()
        keys = list(client.scan_iter(f"{queue}*"))
        if keys:
            client.delete(*keys)
        client.close()
        webhooks.engine.dispose()


if __name__ == "__main__":
    main()
