"""No event exists only inside a broker: a worker SIGKILLed right after the relay
published the fan-out, with the broker losing the popped message, loses no event."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry
from spaps_jobs import CeleryDispatcher, Relay, create_celery_app
from spaps_jobs.testing import WorkerProcess, wait_for
from spaps_webhooks import Webhooks, WebhookSecret, register_tasks
from sqlalchemy import select
from sqlalchemy.orm import Session

# The secret the receiver processes of conftest.py verify with.
SECRET = str(WebhookSecret(b"test-secret-for-the-webhook-receiver"))
TESTS = Path(__file__).parent
pytestmark = [pytest.mark.slow, pytest.mark.redis]


def broker_keys(client: redis.Redis, namespace: str) -> list[bytes]:
    return list(client.scan_iter(f"{namespace}*"))


def test_a_worker_killed_after_the_relay_published_loses_no_event(  # noqa: PLR0917 -- fixtures
    make_webhooks: Callable[..., Webhooks],
    worker_helpers: ModuleType,
    start_receiver: Any,
    tmp_path: Path,
    unique_name: str,
    redis_url: str,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    webhooks = make_webhooks(db_url=db_url, timeout=1.0)
    app = create_celery_app(
        worker_helpers.celery_settings(redis_url, unique_name), registry=CollectorRegistry()
    )
    tasks = register_tasks(app, webhooks, max_countdown=5, sweep_interval=0.5)
    relay = Relay(webhooks.outbox, webhooks.engine, CeleryDispatcher(app))
    receiver = start_receiver()
    webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    env = {"WH_DB_URL": db_url, "WH_BROKER_URL": redis_url, "WH_QUEUE": unique_name,
           "WH_TIMEOUT": "1.0"}  # fmt: skip

    def worker(**extra: str) -> WorkerProcess:
        return WorkerProcess(
            "webhooks_worker_app:app",
            queues=[unique_name],
            pool="solo",
            cwd=TESTS,
            env={**env, **extra},
            log_path=tmp_path / "worker.log",
        )

    client = redis.Redis.from_url(redis_url)
    doomed = worker(WH_KILL_AT="fan_out").start()
    healthy: WorkerProcess | None = None
    try:
        with Session(webhooks.engine) as session, session.begin():
            message_id = webhooks.publish(
                session, "webhook.test.v1", {"endpoint_id": "x"}, owner="o"
            )
        assert relay.run_once() == 1
        # The fault, proven: the relay marked the outbox row sent, the worker took the
        # fan-out task and died by SIGKILL at the injected point, before writing anything.
        outbox = webhooks.outbox.table
        with webhooks.engine.connect() as conn:
            assert conn.execute(select(outbox.c.sent_at)).scalar_one() is not None
        wait_for(lambda: not doomed.alive, timeout=60, what="the worker killed in the fan-out")
        assert doomed.process is not None
        assert doomed.process.returncode == -signal.SIGKILL
        assert webhooks.history.deliveries("o") == []
        # Celery's Redis transport can lose a message popped by a worker killed before it
        # records it as unacknowledged (celery/kombu#1836): make that loss certain here by
        # dropping every key of this queue, so no redelivery can come from the broker.
        client.delete(*broker_keys(client, unique_name))
        assert broker_keys(client, unique_name) == []
        # The event is not only in the broker: publish stored the message row with the
        # producer's transaction, not yet fanned out.
        m = webhooks.tables.messages
        with webhooks.engine.connect() as conn:
            row = conn.execute(select(m).where(m.c.id == message_id)).one()
        assert row.fanned_out_at is None
        # A new worker and the sweeper (celery beat in production) deliver it.
        healthy = worker().start()

        def delivered() -> bool:
            tasks.sweep()  # fans out messages whose fan-out was lost, enqueues due ones
            return message_id in receiver.stats()["handled"]

        wait_for(delivered, timeout=90, interval=0.2, what="the event to be delivered")
        [delivery] = webhooks.history.deliveries("o")
        assert delivery.message_id == message_id
        # Exactly one fan-out happened; a repeated one would create no second delivery.
        assert webhooks.fan_out({"id": message_id, "owner": "o", "event_type": row.event_type,
                                 "body": row.body, "created_at": row.created_at}) == []  # fmt: skip
    finally:
        doomed.kill()
        if healthy is not None:
            healthy.kill()
        app.close()
        keys = broker_keys(client, unique_name)
        if keys:
            client.delete(*keys)
        client.close()
