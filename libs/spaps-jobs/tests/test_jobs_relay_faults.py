"""Relay faults: SIGKILL mid-batch, two relays at once, broker down at enqueue time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis
from kombu.exceptions import OperationalError
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    BrokerUnavailableError,
    CeleryDispatcher,
    Dispatch,
    Inbox,
    JobsSettings,
    Outbox,
    OutboxMessage,
    Relay,
    SqlDedupeStore,
    create_celery_app,
)
from spaps_jobs.testing import wait_for
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

TESTS_DIR = Path(__file__).parent


def _fill(engine: Engine, outbox: Outbox, count: int, topic: str = "order.placed") -> list[str]:
    with Session(engine) as session, session.begin():
        return [outbox.add(session, topic, {"n": i}) for i in range(count)]


@pytest.mark.redis
@pytest.mark.slow
def test_relay_sigkilled_mid_batch_repeatedly_loses_nothing(
    tmp_path: Path, redis_url: str, redis_prefix: str, unique_name: str
) -> None:
    total, batch = 140, 20
    metadata = MetaData()
    outbox = Outbox(metadata)
    db_url = f"sqlite:///{tmp_path / 'outbox.db'}"
    engine = create_engine(db_url)
    metadata.create_all(engine)
    ids = _fill(engine, outbox, total)
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "SPAPS_TEST_BROKER": redis_url,
        "SPAPS_TEST_QUEUE": unique_name,
        "SPAPS_TEST_KEY_PREFIX": redis_prefix,
        "SPAPS_TEST_OUTBOX_DB": db_url,
        "SPAPS_TEST_BATCH": str(batch),
    }
    cmd = [
        sys.executable,
        "-m",
        "spaps_jobs",
        "relay",
        "--factory",
        "spaps_jobs_relay_app:make_relay",
    ]
    client = redis.Redis.from_url(redis_url)
    queue_key = redis_prefix + unique_name
    relay = Relay(outbox, engine, lambda _: None)
    # Each relay stops right after its N-th publish and is SIGKILLed there: N = 10 is
    # mid first batch (nothing committed), N = 30 mid second batch (one committed), so
    # every kill leaves published but uncommitted messages and the outbox drains.
    pauses = [batch // 2, batch + batch // 2]
    kills = 0
    uncommitted = 0  # messages published by relays that were killed before their commit
    try:
        while kills < 40 and (kills < 10 or relay.pending() > 0):
            if relay.pending() == 0:  # drained before ten kills: give it more to publish
                ids += _fill(engine, outbox, 2 * batch)
            pending = relay.pending()
            pause_after = pauses[kills % 2]
            kills += 1
            proc = subprocess.Popen(
                cmd,
                env={**env, "SPAPS_TEST_PAUSE_AFTER": str(pause_after)},
                cwd=tmp_path,
                start_new_session=True,
            )
            target = client.llen(queue_key) + pause_after
            pauses_now = pending >= pause_after

            def stopped_or_done(
                proc: subprocess.Popen[bytes] = proc,
                target: int = target,
                pauses: bool = pauses_now,
            ) -> bool:
                if proc.poll() is not None:
                    return True  # exited: its output tells why
                if pauses:  # it publishes `pause_after` messages, then stops for good
                    return bool(client.llen(queue_key) >= target)
                return relay.pending() == 0  # too few to pause: it commits them all

            try:
                wait_for(stopped_or_done, timeout=60, what="the relay to publish")
                assert proc.poll() is None, "the relay exited by itself"
                if pauses_now:
                    # The fault: the relay stands exactly after its N-th publish, mid-batch.
                    assert client.llen(queue_key) == target
                    uncommitted += pause_after - batch * ((pause_after - 1) // batch)
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        assert kills >= 10
        # Whatever is left is drained by a last, undisturbed pass.
        subprocess.run([*cmd, "--once"], env=env, cwd=tmp_path, timeout=60, check=True)
        assert relay.pending() == 0

        # Consume what reached the broker through an inbox: every event takes effect
        # exactly once, the duplicates of the killed passes are absorbed.
        store = SqlDedupeStore(create_engine(f"sqlite:///{tmp_path / 'inbox.db'}"))
        store.create_table()
        inbox = Inbox(store, namespace="relay-test")
        app = create_celery_app(
            JobsSettings(
                broker_url=redis_url,
                result_backend=None,
                key_prefix=redis_prefix,
                default_queue=unique_name,
                dead_letter_url=None,
            ),
            registry=CollectorRegistry(),
        )
        # Each kill's uncommitted messages were published once more, nothing else was.
        received = client.llen(queue_key)
        assert uncommitted > 0
        assert received == len(ids) + uncommitted
        effects: list[str] = []
        with app.connection_for_read() as conn:
            queue = conn.SimpleQueue(unique_name)
            try:
                for _ in range(received):
                    message = queue.get(timeout=30)  # all are there; this only ends a hang
                    message_id = message.headers["spaps_message_id"]
                    assert message.headers["task"] == "t.consume"
                    inbox.process(message_id, effects.append, message_id)
                    message.ack()
            finally:
                queue.close()
        assert client.llen(queue_key) == 0
        assert sorted(effects) == sorted(ids)
    finally:
        client.close()
        engine.dispose()


@pytest.mark.postgres
def test_two_relays_at_once_never_publish_a_row_twice(pg_engine: Engine) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata)
    metadata.create_all(pg_engine)
    ids = _fill(pg_engine, outbox, 400)
    published: dict[str, list[str]] = {"a": [], "b": []}
    # Each relay's first dispatch waits for the other's: both hold a locked batch at
    # once, so the second one's SELECT ran while the first's rows were locked.
    both_in_a_batch = threading.Barrier(2)

    def recorder(name: str) -> Dispatch:
        def dispatch(messages: Sequence[OutboxMessage]) -> None:
            if not published[name]:
                both_in_a_batch.wait(timeout=30)
            published[name].extend(message.id for message in messages)

        return dispatch

    def run(name: str) -> None:
        relay = Relay(outbox, pg_engine, recorder(name), batch_size=20)
        for _ in ids:  # at most one batch per row; it ends on the first empty pass
            if not relay.run_once():
                break

    threads = [threading.Thread(target=run, args=(name,)) for name in published]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    assert not both_in_a_batch.broken, "the relays did not hold batches at the same time"
    a, b = published["a"], published["b"]
    assert a, "both relays took part"
    assert b, "both relays took part"
    assert not set(a) & set(b)
    assert len(a) + len(b) == len(ids)
    assert sorted(a + b) == sorted(ids)


@pytest.mark.postgres
def test_relay_on_postgres_with_json_payloads(pg_engine: Engine) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata)
    metadata.create_all(pg_engine)
    with Session(pg_engine) as session, session.begin():
        message_id = outbox.add(session, "t", {"nested": {"a": [1, 2]}}, headers={"h": "v"})
    seen: list[OutboxMessage] = []
    assert Relay(outbox, pg_engine, seen.extend).run_once() == 1
    assert seen[0].id == message_id
    assert seen[0].payload == {"nested": {"a": [1, 2]}}
    with pg_engine.connect() as conn:
        assert conn.execute(select(outbox.table.c.sent_at)).scalar_one() is not None


def test_broker_down_at_enqueue_time_keeps_the_event(tmp_path: Path) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'o.db'}")
    metadata.create_all(engine)
    [message_id] = _fill(engine, outbox, 1)
    app = create_celery_app(
        JobsSettings(
            broker_url="redis://127.0.0.1:1/0",  # nothing listens there
            result_backend=None,
            publish_retries=1,
            dead_letter_url=None,
        ),
        registry=CollectorRegistry(),
    )
    relay = Relay(outbox, engine, CeleryDispatcher(app))
    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            relay.run_once()
        except BaseException as exc:  # handed to the test thread, which checks its type
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    thread.join(60)  # a bounded number of retries: it gives up; the deadline ends a hang
    if thread.is_alive():
        pytest.fail("publishing to a broker that is down never gave up")
    [error] = outcome
    assert isinstance(error, BrokerUnavailableError), error
    assert "could not publish" in str(error)
    assert relay.pending() == 1
    with engine.connect() as conn:
        row = conn.execute(select(outbox.table)).one()
    assert row.message_id == message_id
    assert row.sent_at is None
    assert "Connection refused" in row.last_error or "Error" in row.last_error
    # Enqueuing directly (no outbox) fails loudly too: the caller sees the error.
    with pytest.raises(OperationalError, match=r"refused|Error"):
        app.send_task("t.any")
    engine.dispose()
