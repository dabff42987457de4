"""Real worker processes: crash redelivery, retries, dead letters, context propagation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog
from spaps_jobs import CeleryDispatcher, Outbox, OutboxMessage, Relay
from spaps_jobs.testing import wait_for
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # the fixture's class, for annotations only
    from conftest import WorkerFactory


pytestmark = pytest.mark.slow


def _sigkill_mid_task_then_redeliver(workers: WorkerFactory, marker: Path) -> None:
    app = workers.client_app()
    first = workers.start()
    app.send_task("t.crashy", args=(str(marker),))
    wait_for((marker / "start-1").exists, timeout=30, what="the task to start")
    first.kill()  # SIGKILL the worker (its whole process group) mid-task
    assert not (marker / "done").exists()
    workers.start()
    wait_for((marker / "done").exists, timeout=45, what="the redelivered task")
    assert (marker / "start-2").exists()
    assert (marker / "done").read_text() == "2"


@pytest.mark.redis
def test_sigkilled_worker_task_runs_again_on_redis(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "m"
    marker.mkdir()
    # Redis redelivers an unacknowledged task once its visibility timeout has passed.
    redis_workers.env["SPAPS_TEST_VISIBILITY"] = "3"
    _sigkill_mid_task_then_redeliver(redis_workers, marker)


@pytest.mark.redis
def test_sigkilled_pool_child_task_is_rejected_and_runs_again(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    """Prefork: only the child running the task dies; the parent requeues the task
    (task_reject_on_worker_lost) instead of recording it as failed."""
    marker = tmp_path / "m"
    marker.mkdir()
    app = redis_workers.client_app()
    worker = redis_workers.start(SPAPS_TEST_POOL="prefork")
    app.send_task("t.crashy", args=(str(marker),))
    wait_for((marker / "start-1").exists, timeout=30, what="the task to start")
    child = int((marker / "start-1").read_text())
    assert worker.process is not None
    assert child != worker.process.pid
    os.kill(child, signal.SIGKILL)
    wait_for((marker / "done").exists, timeout=45, what="the requeued task")
    assert (marker / "done").read_text() == "2"
    assert worker.alive
    assert "WorkerLostError" in worker.log()


@pytest.mark.rabbitmq
def test_sigkilled_worker_task_runs_again_on_rabbitmq(
    amqp_workers: WorkerFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "m"
    marker.mkdir()
    _sigkill_mid_task_then_redeliver(amqp_workers, marker)


@pytest.mark.redis
def test_retries_with_backoff_then_dead_letter_then_requeue(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "m"
    marker.mkdir()
    app = redis_workers.client_app()
    redis_workers.start()
    app.send_task("t.flaky", args=(str(marker),))
    app.send_task("t.broken", args=(str(marker),))
    store = app.dead_letters
    assert store is not None
    wait_for(lambda: len(store.list()) == 2, timeout=30, what="two dead letters")
    by_task = {letter.task_name: letter for letter in store.list()}
    flaky, broken = by_task["t.flaky"], by_task["t.broken"]
    # max_retries=2: one attempt plus two retries, then dead-lettered.
    assert len(list(marker.glob("flaky-*"))) == 3
    assert flaky.attempts == 3
    assert "ConnectionError('upstream down')" in flaky.error
    assert "upstream down" in flaky.traceback
    assert flaky.args == [str(marker)]
    # An undeclared exception is not retried.
    assert len(list(marker.glob("broken-*"))) == 1
    assert broken.attempts == 1
    assert "ValueError" in broken.error

    # The CLI lists and shows dead letters...
    env_args = ["--url", redis_workers.env["SPAPS_TEST_DEAD_LETTERS"]]
    cli = [sys.executable, "-m", "spaps_jobs", "dead-letters"]
    listed = subprocess.run(
        [*cli, "list", *env_args], capture_output=True, text=True, timeout=60, check=True
    )
    assert f"{flaky.id}\tt.flaky\t3\t" in listed.stdout
    shown = subprocess.run(
        [*cli, "show", str(flaky.id), *env_args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(shown.stdout)["error"] == flaky.error

    # ...and requeues one once the cause is fixed: it then completes.
    (marker / "fixed").write_text("")
    subprocess.run(
        [*cli, "requeue", str(flaky.id), *env_args, "--app", "spaps_jobs_worker_app:app"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).parent,
        env={**redis_workers.env, "PATH": "", "PYTHONPATH": str(Path(__file__).parent)},
    )
    wait_for((marker / "done").exists, timeout=30, what="the requeued task")
    assert [letter.task_name for letter in store.list()] == ["t.broken"]
    assert store.get(flaky.id).requeued_at is not None


@pytest.mark.redis
def test_soft_time_limit_interrupts_a_task_which_is_then_dead_lettered(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "m"
    marker.mkdir()
    # The worker app derives its limits from this: soft 1.5 s, hard 2.4 s.
    redis_workers.env["SPAPS_TEST_VISIBILITY"] = "3"
    app = redis_workers.client_app()
    redis_workers.start(SPAPS_TEST_POOL="prefork")  # the solo pool has no time limits
    app.send_task("t.sleepy", args=(str(marker),))
    store = app.dead_letters
    assert store is not None
    wait_for(lambda: len(store.list()) == 1, timeout=30, what="the dead letter")
    [letter] = store.list()
    assert letter.task_name == "t.sleepy"
    assert "SoftTimeLimitExceeded" in letter.error


@pytest.mark.redis
def test_request_id_and_task_id_reach_the_task_and_its_logs(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    app = redis_workers.client_app()
    worker = redis_workers.start()
    structlog.contextvars.bind_contextvars(request_id="req-7f3a")
    result = app.send_task("t.context", args=(str(tmp_path),))
    structlog.contextvars.clear_contextvars()
    app.send_task("t.context", args=(str(tmp_path / "none"),))
    wait_for((tmp_path / "context.json").exists, timeout=30, what="the task")
    seen = json.loads((tmp_path / "context.json").read_text())
    assert seen["task_id"] == result.id
    assert seen["bound"]["request_id"] == "req-7f3a"
    assert seen["bound"]["task_id"] == result.id
    assert seen["bound"]["task_name"] == "t.context"
    wait_for(lambda: "task.succeeded" in worker.log(), timeout=10, what="the log line")
    started = [line for line in worker.log().splitlines() if "task.started" in line]
    assert any("request_id=req-7f3a" in line and result.id in line for line in started)


def test_embedded_broker_runs_jobs_without_any_server(
    embedded_workers: WorkerFactory, tmp_path: Path
) -> None:
    app = embedded_workers.client_app()
    embedded_workers.start()
    result = app.send_task("t.context", args=(str(tmp_path),))
    wait_for((tmp_path / "context.json").exists, timeout=30, what="the task")
    assert json.loads((tmp_path / "context.json").read_text())["task_id"] == result.id


@pytest.mark.redis
def test_outbox_to_worker_end_to_end_with_inbox(
    redis_workers: WorkerFactory, tmp_path: Path
) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata.create_all(engine)
    effects = tmp_path / "effects.txt"
    with Session(engine) as session, session.begin():
        ids = [outbox.add(session, "order.placed", {"effects": str(effects)}) for _ in range(5)]
    app = redis_workers.client_app()
    dispatcher = CeleryDispatcher(app, routes={"order.placed": "t.consume"})
    relay = Relay(outbox, engine, dispatcher)
    assert relay.run_once() == 5
    # A relay that died before its commit publishes the same batch again.
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.table)).all()
    dispatcher(
        [OutboxMessage(id=row.message_id, topic=row.topic, payload=row.payload) for row in rows]
    )
    redis_workers.start()

    def lines() -> list[str]:
        return effects.read_text().split() if effects.exists() else []

    wait_for(lambda: len(lines()) >= 5, timeout=30, what="five effects")
    # Give the five duplicates time to be delivered and absorbed.
    wait_for(lambda: redis_workers.workers[0].log().count("task.succeeded") >= 10, timeout=30)
    assert sorted(lines()) == sorted(ids)
    engine.dispose()
