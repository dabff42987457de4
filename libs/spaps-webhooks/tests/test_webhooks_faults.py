"""Faults with a real receiver process and a real Celery worker process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry
from spaps_jobs import CeleryDispatcher, Relay, create_celery_app
from spaps_jobs.testing import WorkerProcess, wait_for
from spaps_webhooks import Webhooks, WebhookTasks, register_tasks
from sqlalchemy.orm import Session

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS13ZWJob29rLXJlY2VpdmVy"
TESTS = Path(__file__).parent
pytestmark = [pytest.mark.slow, pytest.mark.redis]


class Pipeline:
    """Outbox relay and sweeper in this process; deliveries in a real worker process."""

    def __init__(
        self, webhooks: Webhooks, tasks: WebhookTasks, make_worker: Callable[[], WorkerProcess]
    ) -> None:
        self.webhooks = webhooks
        self.tasks = tasks
        self.make_worker = make_worker
        self.worker = make_worker().start()

    def publish(self, count: int, owner: str = "o") -> list[str]:
        with Session(self.webhooks.engine) as session, session.begin():
            return [
                self.webhooks.publish(
                    session, "webhook.test.v1", {"endpoint_id": f"n{n}"}, owner=owner
                )
                for n in range(count)
            ]

    def restart_worker(self) -> None:
        self.worker.kill()
        self.worker = self.make_worker().start()


@pytest.fixture
def pipeline(  # noqa: PLR0917 -- pytest passes fixtures positionally
    request: pytest.FixtureRequest,
    make_webhooks: Callable[..., Webhooks],
    worker_helpers: ModuleType,
    tmp_path: Path,
    unique_name: str,
    redis_url: str,
) -> Iterator[Pipeline]:
    """The pipeline; the delivery timeout is 1 s unless a test parametrizes it indirectly."""
    timeout: float = getattr(request, "param", 1.0)
    db_url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    broker_url = redis_url
    webhooks = make_webhooks(db_url=db_url, timeout=timeout)
    app = create_celery_app(
        worker_helpers.celery_settings(broker_url, unique_name), registry=CollectorRegistry()
    )
    tasks = register_tasks(app, webhooks, max_countdown=5, sweep_interval=0.5)
    relay = Relay(webhooks.outbox, webhooks.engine, CeleryDispatcher(app), poll_interval=0.1)
    env = {
        "WH_DB_URL": db_url,
        "WH_BROKER_URL": broker_url,
        "WH_QUEUE": unique_name,
        "WH_TIMEOUT": str(timeout),
    }

    def make_worker() -> WorkerProcess:
        return WorkerProcess(
            "webhooks_worker_app:app",
            queues=[unique_name],
            pool="threads",
            concurrency=4,
            cwd=TESTS,
            env=env,
            log_path=tmp_path / "worker.log",
        )

    stop = threading.Event()
    failures: list[BaseException] = []

    def background() -> None:
        # What a relay process and celery beat do in production, at test speed. Neither
        # may fail here: the first error stops the loop and fails the test at teardown.
        try:
            while not stop.is_set():
                relay.run_once()
                tasks.sweep()
                stop.wait(0.2)  # the tick interval, not synchronisation
        except BaseException as exc:  # reported by the teardown below, with its type
            failures.append(exc)

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    pipe = Pipeline(webhooks, tasks, make_worker)
    try:
        yield pipe
    finally:
        stop.set()
        thread.join(timeout=30)
        pipe.worker.kill()
        app.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{unique_name}*"))
        if keys:
            client.delete(*keys)
        client.close()
    assert not thread.is_alive(), "the relay/sweeper loop did not stop"
    assert failures == [], f"the relay/sweeper loop failed: {failures!r}"


def handled(receiver: Any) -> set[str]:
    return set(receiver.stats()["handled"])


def test_flaky_receiver_gets_every_event_with_attempts_logged(
    pipeline: Pipeline, start_receiver: Any
) -> None:
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=0.5)
    pipeline.webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    ids = pipeline.publish(20)
    # The fault first: the receiver answered 500 and the worker logged those answers.
    wait_for(lambda: receiver.stats()["failed"] >= 5, timeout=30, what="some failures")
    wait_for(
        lambda: any(a.status_code == 500 for a in pipeline.webhooks.history.attempts("o")),
        timeout=20,
        what="a logged 500",
    )
    receiver.control(mode="ok")  # the receiver recovers
    wait_for(lambda: handled(receiver) == set(ids), timeout=60, what="every event delivered")
    # The worker records an attempt after the receiver has answered: wait for the log.
    wait_for(
        lambda: (
            {d.status for d in pipeline.webhooks.history.deliveries("o", limit=100)}
            == {"succeeded"}
        ),
        timeout=20,
        what="every delivery row to say succeeded",
    )
    stats = receiver.stats()
    assert stats["rejected"] == 0
    attempts = pipeline.webhooks.history.attempts("o", limit=1000)
    assert sum(1 for a in attempts if a.status_code == 500) == stats["failed"]
    assert {a.message_id for a in attempts if a.succeeded} == set(ids)
    assert all(a.latency_ms is not None for a in attempts)
    statuses = {d.status for d in pipeline.webhooks.history.deliveries("o", limit=100)}
    assert statuses == {"succeeded"}


# A 2 s timeout leaves the test 2 s to kill the worker while its request is outstanding
# (the receiver holds it for longer); the lost attempt is retried after the 6.5 s lease.
@pytest.mark.parametrize("pipeline", [2.0], indirect=True)
def test_worker_killed_mid_delivery_is_retried_and_completes(
    pipeline: Pipeline, start_receiver: Any
) -> None:
    receiver = start_receiver()
    receiver.control(mode="hang", hang_seconds=30)  # outstanding until the worker is killed
    pipeline.webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    [message_id] = pipeline.publish(1)
    wait_for(lambda: receiver.stats()["requests"] >= 1, timeout=30, what="the attempt in flight")
    pipeline.worker.kill()  # SIGKILL while the request is outstanding
    assert not pipeline.worker.alive
    assert pipeline.webhooks.history.deliveries("o")[0].status == "delivering"  # in flight
    assert pipeline.webhooks.history.attempts("o") == []  # no result was recorded
    receiver.control(mode="ok")
    pipeline.restart_worker()
    wait_for(lambda: message_id in handled(receiver), timeout=60, what="the retried delivery")
    # The worker records the attempt after the receiver has answered: wait for the log.
    wait_for(
        lambda: pipeline.webhooks.history.deliveries("o")[0].status == "succeeded",
        timeout=20,
        what="the delivery row to say succeeded",
    )
    attempts = pipeline.webhooks.history.attempts("o", message_id=message_id)
    assert any("attempt lost" in (a.error or "") for a in attempts)
    assert any(a.succeeded for a in attempts)


def test_hanging_receiver_times_out_and_the_worker_carries_on(
    pipeline: Pipeline, start_receiver: Any
) -> None:
    hanging, healthy = start_receiver(), start_receiver()
    hanging.control(mode="hang", hang_seconds=60)
    pipeline.webhooks.endpoints.create("slow", hanging.url, secret=SECRET)
    pipeline.webhooks.endpoints.create("fast", healthy.url, secret=SECRET)
    [slow_id] = pipeline.publish(1, owner="slow")
    wait_for(
        lambda: pipeline.webhooks.history.attempts("slow"), timeout=30, what="the first attempt"
    )
    # The fault first: the read timed out (the 1 s client timeout, not the 60 s hang).
    timed_out = pipeline.webhooks.history.attempts("slow")[-1]  # the oldest
    assert timed_out.error == "timeout after 1s (ReadTimeout)"
    assert timed_out.status_code is None
    # The worker is not stuck: other deliveries go through while the receiver hangs.
    fast_ids = pipeline.publish(3, owner="fast")
    wait_for(lambda: handled(healthy) == set(fast_ids), timeout=30, what="the healthy endpoint")
    hanging.control(mode="ok")
    wait_for(lambda: slow_id in handled(hanging), timeout=60, what="the retried delivery")
    # The worker records the attempt after the receiver has answered: wait for the log.
    wait_for(
        lambda: pipeline.webhooks.history.deliveries("slow")[0].status == "succeeded",
        timeout=20,
        what="the delivery row to say succeeded",
    )
    attempts = pipeline.webhooks.history.attempts("slow")  # newest first
    assert attempts[0].succeeded
    assert attempts[-1].error == "timeout after 1s (ReadTimeout)"


def test_duplicate_delivery_is_absorbed_by_the_verifying_receiver(
    pipeline: Pipeline, start_receiver: Any
) -> None:
    receiver = start_receiver()
    endpoint = pipeline.webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    [message_id] = pipeline.publish(1)
    wait_for(lambda: message_id in handled(receiver), timeout=30, what="the first delivery")
    pipeline.webhooks.history.replay_message("o", message_id, endpoint_id=endpoint.id)
    wait_for(lambda: receiver.stats()["duplicates"] == 1, timeout=30, what="the duplicate")
    assert receiver.stats()["handled"] == [message_id]
    # The worker records the attempt after the receiver has answered: wait for the log.
    wait_for(
        lambda: (
            [d.status for d in pipeline.webhooks.history.deliveries("o")]
            == ["succeeded", "succeeded"]
        ),
        timeout=20,
        what="both delivery rows to say succeeded",
    )
