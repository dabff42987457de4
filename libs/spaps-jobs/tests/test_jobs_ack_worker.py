"""End-to-end acknowledgement with real worker processes SIGKILLed at injected points.

The relay runs in the test with an injected clock, so it re-sends an unconfirmed
message exactly when the test moves the clock past the confirmation window. Each test
first proves the worker was killed (the process is gone, by SIGKILL) and only then
looks at what was delivered.
"""

from __future__ import annotations

import importlib
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from prometheus_client import CollectorRegistry
from spaps_jobs import CeleryDispatcher, Redelivery, Relay, RelayMetrics
from spaps_jobs.testing import WorkerProcess, wait_for
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # the fixture's class, for annotations only
    from conftest import WorkerFactory

pytestmark = pytest.mark.slow


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Scenario:
    """An outbox database, a relay on the test's clock and the workers of one broker."""

    def __init__(
        self, workers: WorkerFactory, db_url: str, tmp_path: Path, task: str, schema: Any
    ) -> None:
        self.workers = workers
        self.schema = schema
        self.engine: Engine = create_engine(db_url)
        self.schema.metadata.create_all(self.engine)
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        workers.env.update(SPAPS_TEST_OUTBOX_DB=db_url, SPAPS_TEST_MARKERS=str(self.markers))
        self.clock = Clock()
        self.registry = CollectorRegistry()
        self.relay = Relay(
            self.schema.outbox,
            self.engine,
            CeleryDispatcher(workers.client_app(), routes={"order.placed": task}),
            redelivery=Redelivery(after=timedelta(minutes=1), max_publishes=3),
            clock=self.clock,
            metrics=RelayMetrics(registry=self.registry),
        )

    def add(self) -> str:
        with Session(self.engine) as session, session.begin():
            return self.schema.outbox.add(session, "order.placed", {"n": 1})

    def start(self) -> WorkerProcess:
        return self.workers.start("spaps_jobs_ack_app")

    def kill_at(self, worker: WorkerProcess, point: str, message_id: str) -> None:
        """Wait for the consumer to reach ``point`` and SIGKILL its worker; prove it died."""
        at = self.markers / f"at-{point}-{message_id}"
        wait_for(at.exists, timeout=60, what=f"the consumer to reach {point}")
        assert worker.process is not None
        assert int(at.read_text()) == worker.process.pid  # solo pool: the worker itself
        worker.kill()
        assert not worker.alive
        assert worker.process.returncode == -signal.SIGKILL

    def count(self, table: str, message_id: str) -> int:
        t = self.schema.metadata.tables[table]
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(t).where(t.c.message_id == message_id)
            return int(conn.execute(query).scalar_one())

    def row(self, message_id: str) -> object:
        t = self.schema.outbox.table
        with self.engine.connect() as conn:
            return conn.execute(select(t).where(t.c.message_id == message_id)).one()

    def confirmed(self, message_id: str) -> bool:
        return self.row(message_id).confirmed_at is not None  # type: ignore[attr-defined]

    def resend_overdue(self) -> int:
        self.clock.now += timedelta(minutes=1)
        return self.relay.run_once()


@pytest.fixture
def schema(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The tables of the worker app (``spaps_jobs_ack_schema``, next to this file)."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return importlib.import_module("spaps_jobs_ack_schema").AckSchema()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ]
)
def workers(request: pytest.FixtureRequest) -> WorkerFactory:
    fixture = "redis_workers" if request.param == "redis" else "amqp_workers"
    factory: WorkerFactory = request.getfixturevalue(fixture)
    return factory


def _unacked(workers: WorkerFactory, redis_url: str) -> int:
    """Messages kombu's Redis transport holds as delivered but unacknowledged."""
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.hlen(workers.env["SPAPS_TEST_KEY_PREFIX"] + "unacked"))
    finally:
        client.close()


def test_worker_killed_before_the_consumer_records_loses_nothing(
    workers: WorkerFactory,
    db_url: str,
    tmp_path: Path,
    schema: Any,
    request: pytest.FixtureRequest,
) -> None:
    """Late acks: killed after receiving, before recording. The relay re-sends; on
    RabbitMQ the broker redelivers too, and the inbox absorbs the second copy."""
    scenario = Scenario(workers, db_url, tmp_path, "ack.consume", schema)
    message_id = scenario.add()
    (scenario.markers / f"kill-received-{message_id}").touch()
    first = scenario.start()
    assert scenario.relay.run_once() == 1
    scenario.kill_at(first, "received", message_id)
    assert scenario.count("effects", message_id) == 0
    assert not scenario.confirmed(message_id)
    assert scenario.relay.run_once() == 0  # within the window: nothing re-sent yet
    assert scenario.resend_overdue() == 1
    scenario.start()
    wait_for(lambda: scenario.confirmed(message_id), timeout=60, what="the confirmation")
    assert scenario.count("effects", message_id) == 1
    if "redis" in request.node.callspec.id:
        # Redis keeps the killed worker's copy unacknowledged until its visibility
        # timeout (an hour here): the relay's re-send is what delivered the message.
        assert _unacked(workers, request.getfixturevalue("redis_url")) == 1
    else:
        # RabbitMQ gave the killed worker's copy back at once: one copy is absorbed.
        wait_for(lambda: scenario.count("duplicates", message_id) == 1, timeout=60)
    assert scenario.row(message_id).publishes == 2  # type: ignore[attr-defined]
    assert scenario.registry.get_sample_value("spaps_jobs_outbox_redelivered_total") == 1
    assert scenario.resend_overdue() == 0  # confirmed: never sent again
    scenario.engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_message_lost_inside_the_broker_is_sent_again(
    workers: WorkerFactory, db_url: str, tmp_path: Path, schema: Any
) -> None:
    """The broker loses a published message (purged here: any broker-side loss looks
    the same to the relay). It is sent again once its window has passed."""
    scenario = Scenario(workers, db_url, tmp_path, "ack.consume", schema)
    scenario.start().stop()  # declares the queue, then leaves it without a consumer
    message_id = scenario.add()
    assert scenario.relay.run_once() == 1
    assert workers.client_app().control.purge() == 1  # the broker's only copy is gone
    scenario.start()
    assert scenario.resend_overdue() == 1
    wait_for(lambda: scenario.confirmed(message_id), timeout=60, what="the confirmation")
    assert scenario.count("effects", message_id) == 1
    assert scenario.row(message_id).publishes == 2  # type: ignore[attr-defined]
    scenario.engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_worker_killed_after_recording_duplicate_is_absorbed(
    workers: WorkerFactory, db_url: str, tmp_path: Path, schema: Any
) -> None:
    """Killed after the consumer committed, before the ack: the broker delivers the
    message again (RabbitMQ at once, Redis after its visibility timeout) and the inbox
    absorbs it. The relay sends nothing: the message was confirmed."""
    workers.env["SPAPS_TEST_VISIBILITY"] = "3"
    scenario = Scenario(workers, db_url, tmp_path, "ack.consume", schema)
    message_id = scenario.add()
    (scenario.markers / f"kill-recorded-{message_id}").touch()
    first = scenario.start()
    assert scenario.relay.run_once() == 1
    scenario.kill_at(first, "recorded", message_id)
    assert scenario.confirmed(message_id)
    scenario.start()
    wait_for(lambda: scenario.count("duplicates", message_id) == 1, timeout=45)
    assert scenario.count("effects", message_id) == 1
    assert scenario.resend_overdue() == 0
    assert scenario.row(message_id).publishes == 1  # type: ignore[attr-defined]
    scenario.engine.dispose()
