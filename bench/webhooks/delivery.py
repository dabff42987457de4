"""Deliveries per second: outbox -> Celery worker (threads, concurrency 8) -> local receiver,
versus a naive loop that opens a new connection per delivery.

Needs Redis on 127.0.0.1:6379 (the broker). Run:
    uv run --no-sync python bench/webhooks/delivery.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis
from spaps_jobs import CeleryDispatcher, Relay
from spaps_jobs.testing import WorkerProcess
from sqlalchemy import func, select
from sqlalchemy.orm import Session

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import bench_worker_app  # noqa: E402
from spaps_webhooks import WebhookSecret, sign_headers  # noqa: E402

N = int(os.environ.get("BENCH_N", "600"))
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def naive(url: str, secret: str, count: int) -> float:
    body = b'{"type":"webhook.test.v1","data":{}}'
    started = time.perf_counter()
    for n in range(count):
        with httpx.Client(timeout=15) as client:  # a new connection every time
            client.post(url, content=body, headers=sign_headers([secret], f"msg_{n}", body))
    return count / (time.perf_counter() - started)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="webhooks-bench-"))
    queue = "bench_" + uuid.uuid4().hex[:8]
    db_url = f"sqlite:///{tmp / 'webhooks.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            "-m",
            "uvicorn",
            "receiver:app",
            "--app-dir",
            str(HERE),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.post(url, content=b"{}")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        webhooks = bench_worker_app.build(db_url)
        webhooks.create_tables()
        app = bench_worker_app.make_app(REDIS_URL, queue)
        endpoint = webhooks.endpoints.create("bench", url)

        naive_rate = naive(url, endpoint.secret, min(N, 300))

        env = {"BENCH_DB_URL": db_url, "BENCH_BROKER_URL": REDIS_URL, "BENCH_QUEUE": queue}
        worker = WorkerProcess(
            "bench_worker_app:app",
            queues=[queue],
            pool="threads",
            concurrency=8,
            cwd=HERE,
            env=env,
            log_path=tmp / "worker.log",
        ).start()
        subprocess.run(
            ["taskset", "-pc", "1", str(worker.process.pid)], check=False, stdout=subprocess.DEVNULL
        )
        relay = Relay(webhooks.outbox, webhooks.engine, CeleryDispatcher(app), batch_size=500)
        key = WebhookSecret.parse(endpoint.secret)
        assert key
        with Session(webhooks.engine) as session, session.begin():
            for n in range(N):
                webhooks.publish(
                    session, "webhook.test.v1", {"endpoint_id": f"n{n}"}, owner="bench"
                )
        d = webhooks.tables.deliveries
        started = time.perf_counter()
        while relay.run_once():
            pass
        done = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with webhooks.engine.connect() as conn:
                done = conn.execute(
                    select(func.count()).where(d.c.status == "succeeded")
                ).scalar_one()
            if done >= N:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        pooled_rate = done / elapsed
        print(f"deliveries: {done}/{N} in {elapsed:.2f}s")
        print(f"outbox -> worker (threads x8, pooled client) {pooled_rate:>8,.0f} deliveries/s")
        print(f"naive loop, new connection per delivery      {naive_rate:>8,.0f} deliveries/s")
        print(f"ratio {pooled_rate / naive_rate:.2f}x (target >= 3x)")
        app.close()
    finally:
        if worker is not None:
            worker.kill()
        server.kill()
        server.wait(timeout=10)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{queue}*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
