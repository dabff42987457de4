"""Fixtures of the spaps-jobs suite: engines, Redis namespaces, real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import redis
import redis.asyncio
import structlog
from prometheus_client import CollectorRegistry
from spaps_jobs import JobsCelery, JobsSettings, create_celery_app
from spaps_jobs.testing import WorkerProcess, wait_for
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

TESTS_DIR = Path(__file__).parent


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
async def async_sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture
def redis_prefix(redis_url: str, unique_name: str) -> Iterator[str]:
    """A key prefix of this test; every key under it is deleted afterwards."""
    prefix = f"{unique_name}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
async def async_redis_client(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


class BeatProcess:
    """A ``celery -A <app> beat`` subprocess in its own process group, always killed.

    Its schedule state and pid files live in the test's folder, so beats of parallel
    tests never share them.
    """

    def __init__(self, app: str, *, cwd: Path, env: dict[str, str], folder: Path) -> None:
        self.app = app
        self.cwd = cwd
        self.env = env
        self.folder = folder
        self.log_path = folder / "beat.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 40) -> BeatProcess:
        cmd = [sys.executable, "-m", "celery", "-A", self.app, "beat", "--loglevel", "DEBUG"]
        cmd += ["--schedule", str(self.folder / "beat-schedule")]
        cmd += ["--pidfile", str(self.folder / "beat.pid"), "--max-interval", "1"]
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.cwd), env.get("PYTHONPATH")]))
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.process = process
        wait_for(
            lambda: "beat: Starting..." in self.log() or process.poll() is not None,
            timeout=ready_timeout,
            what="beat to start",
        )
        if process.poll() is not None:
            raise RuntimeError(f"beat exited at start-up:\n{self.log()}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


class WorkerFactory:
    """Starts real ``celery -A spaps_jobs_worker_app worker`` processes for one test."""

    def __init__(self, tmp_path: Path, broker_url: str, queue: str, key_prefix: str) -> None:
        self.tmp_path = tmp_path
        self.env = {
            "SPAPS_TEST_BROKER": broker_url,
            "SPAPS_TEST_QUEUE": queue,
            "SPAPS_TEST_KEY_PREFIX": key_prefix,
            "SPAPS_TEST_DEAD_LETTERS": f"sqlite:///{tmp_path / 'dead.db'}",
            "SPAPS_TEST_INBOX_DB": f"sqlite:///{tmp_path / 'inbox.db'}",
        }
        self.queue = queue
        self.workers: list[WorkerProcess] = []
        self.beats: list[BeatProcess] = []

    def client_app(self) -> JobsCelery:
        """An app configured like the worker's, for sending from the test process."""
        return create_celery_app(
            JobsSettings(
                broker_url=self.env["SPAPS_TEST_BROKER"],
                result_backend=None,
                default_queue=self.queue,
                key_prefix=self.env["SPAPS_TEST_KEY_PREFIX"] or None,
                dead_letter_url=self.env["SPAPS_TEST_DEAD_LETTERS"],
                publish_retries=1,
            ),
            registry=CollectorRegistry(),
        )

    def start(self, app: str = "spaps_jobs_worker_app", **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            app,
            queues=[self.queue],
            pool=env.pop("SPAPS_TEST_POOL", "solo"),
            cwd=TESTS_DIR,
            env={**self.env, **env},
            log_path=self.tmp_path / f"worker-{len(self.workers)}.log",
        )
        self.workers.append(worker)
        return worker.start(ready_timeout=40)

    def start_beat(self, app: str, **env: str) -> BeatProcess:
        """Start ``celery beat`` for ``app`` with the workers' environment."""
        folder = self.tmp_path / f"beat-{len(self.beats)}"
        folder.mkdir()
        beat = BeatProcess(app, cwd=TESTS_DIR, env={**self.env, **env}, folder=folder)
        self.beats.append(beat)
        return beat.start()

    def close(self) -> None:
        for beat in self.beats:
            beat.kill()
        for worker in self.workers:
            worker.kill()


@pytest.fixture
def redis_workers(
    tmp_path: Path, redis_url: str, redis_prefix: str, unique_name: str
) -> Iterator[WorkerFactory]:
    """Workers on the Redis broker, with a queue and key prefix of this test only."""
    factory = WorkerFactory(tmp_path, redis_url, unique_name, redis_prefix)
    yield factory
    factory.close()


@pytest.fixture
def amqp_workers(tmp_path: Path, amqp_url: str, unique_name: str) -> Iterator[WorkerFactory]:
    """Workers on RabbitMQ with a queue of this test only (deleted afterwards)."""
    factory = WorkerFactory(tmp_path, amqp_url, unique_name, "")
    yield factory
    factory.close()
    app = factory.client_app()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(unique_name)


@pytest.fixture
def embedded_workers(tmp_path: Path, unique_name: str) -> Iterator[WorkerFactory]:
    """Workers on the zero-setup embedded broker (kombu SQLAlchemy transport on SQLite)."""
    factory = WorkerFactory(tmp_path, f"sqla+sqlite:///{tmp_path / 'broker.db'}", unique_name, "")
    yield factory
    factory.close()
