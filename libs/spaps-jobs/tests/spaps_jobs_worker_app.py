"""The Celery app the suite's real worker processes run (``celery -A spaps_jobs_worker_app``).

Configured from environment variables set by the ``start_worker`` fixture, so each test
gets its own broker, queue and key prefix. Tasks leave marker files so the test process
can see what ran, how often, and with which context.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry
from spaps_jobs import Inbox, JobsSettings, SqlDedupeStore, create_celery_app, message_id_of
from sqlalchemy import create_engine

_VISIBILITY = float(os.environ.get("SPAPS_TEST_VISIBILITY", "30"))

app = create_celery_app(
    JobsSettings(
        broker_url=os.environ["SPAPS_TEST_BROKER"],
        result_backend=None,
        default_queue=os.environ["SPAPS_TEST_QUEUE"],
        key_prefix=os.environ.get("SPAPS_TEST_KEY_PREFIX") or None,
        soft_time_limit=_VISIBILITY * 0.5,
        time_limit=_VISIBILITY * 0.8,
        visibility_timeout=_VISIBILITY,
        dead_letter_url=os.environ.get("SPAPS_TEST_DEAD_LETTERS") or None,
        transport_options={}
        if os.environ["SPAPS_TEST_BROKER"].startswith("sqla+")
        else {"polling_interval": 0.1},
        # Tests run workers side by side under one node name: without remote control
        # there is no per-node pidbox queue for two of them to fight over (RabbitMQ).
        extra={"worker_enable_remote_control": False},
    ),
    registry=CollectorRegistry(),
)


def _write(path: Path, text: str) -> None:
    """Write a marker atomically: the test, polling for it, never reads it half-written."""
    partial = path.with_name(f".{path.name}.partial")  # matched by no marker pattern
    partial.write_text(text)
    partial.replace(path)


def _attempt(marker_dir: str, kind: str) -> int:
    directory = Path(marker_dir)
    attempt = len(list(directory.glob(f"{kind}-*"))) + 1
    _write(directory / f"{kind}-{attempt}", str(os.getpid()))
    return attempt


@app.task(name="t.crashy")
def crashy(marker_dir: str) -> int:
    """First attempt hangs until the test SIGKILLs the worker; later attempts complete."""
    attempt = _attempt(marker_dir, "start")
    if attempt == 1:
        while True:  # waits for a signal: only the test's SIGKILL ends it
            signal.pause()
    _write(Path(marker_dir) / "done", str(attempt))
    return attempt


@app.job(name="t.flaky", retry_on=(ConnectionError,), max_retries=2, backoff=0.05, backoff_max=0.1)
def flaky(marker_dir: str) -> str:
    """Fails with a declared error until the test creates ``fixed``."""
    _attempt(marker_dir, "flaky")
    if not (Path(marker_dir) / "fixed").exists():
        raise ConnectionError("upstream down")
    _write(Path(marker_dir) / "done", "ok")
    return "ok"


@app.job(name="t.broken", retry_on=(ConnectionError,), max_retries=3)
def broken(marker_dir: str) -> None:
    """Fails with an undeclared error: dead-lettered without retries."""
    _attempt(marker_dir, "broken")
    raise ValueError("bad input")


@app.job(name="t.sleepy")
def sleepy(marker_dir: str) -> None:
    """Runs until the app's soft time limit interrupts it."""
    _attempt(marker_dir, "sleepy")
    while True:  # waits for a signal: the soft time limit's, raised in this task
        signal.pause()


@app.task(name="t.context", bind=True)
def context(self: Any, marker_dir: str) -> None:
    """Record what the task sees of its context."""
    bound = structlog.contextvars.get_contextvars()
    _write(
        Path(marker_dir) / "context.json",
        json.dumps({"task_id": self.request.id, "bound": {k: str(v) for k, v in bound.items()}}),
    )


_inbox: Inbox | None = None


def _get_inbox() -> Inbox:
    global _inbox  # noqa: PLW0603 -- one inbox per worker process, built on first use
    if _inbox is None:
        store = SqlDedupeStore(create_engine(os.environ["SPAPS_TEST_INBOX_DB"]))
        store.create_table()
        _inbox = Inbox(store, namespace="test-consumer")
    return _inbox


@app.task(name="t.consume", bind=True)
def consume(self: Any, payload: dict[str, Any]) -> None:
    """An outbox consumer: the effect (a line in a file) happens once per message id."""

    def effect() -> None:
        with Path(payload["effects"]).open("a") as out:
            out.write(f"{message_id_of(self.request)}\n")

    _get_inbox().process(message_id_of(self.request), effect)
