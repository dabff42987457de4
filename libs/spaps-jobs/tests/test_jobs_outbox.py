"""Outbox writes in the caller's transaction; the relay publishes, marks, purges."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    BrokerUnavailableError,
    Outbox,
    OutboxMessage,
    Relay,
    RelayError,
    RelayMetrics,
)
from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session


class Recorder:
    """A dispatch that keeps what it was given (and can be told to fail)."""

    def __init__(self) -> None:
        self.batches: list[list[OutboxMessage]] = []
        self.fail_with: Exception | None = None

    def __call__(self, messages: Sequence[OutboxMessage]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append(list(messages))

    @property
    def ids(self) -> list[str]:
        return [m.id for batch in self.batches for m in batch]


@pytest.fixture
def outbox(sqlite_engine: Engine) -> Outbox:
    metadata = MetaData()
    box = Outbox(metadata)
    metadata.create_all(sqlite_engine)
    return box


def _count(engine: Engine, outbox: Outbox) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox.table)).scalar_one())


def test_add_commits_with_the_callers_transaction(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        message_id = outbox.add(session, "user.created", {"id": 7}, headers={"tenant": "t1"})
    recorder = Recorder()
    assert Relay(outbox, sqlite_engine, recorder).run_once() == 1
    [message] = recorder.batches[0]
    assert (message.id, message.topic, message.payload) == (message_id, "user.created", {"id": 7})
    assert message.headers == {"tenant": "t1"}
    assert message.created_at is not None


def test_add_rolls_back_with_the_callers_transaction(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        session.begin()
        outbox.add(session, "user.created", {"id": 1})
        session.flush()
        session.rollback()
    assert _count(sqlite_engine, outbox) == 0


async def test_add_works_with_async_session(tmp_path: Path) -> None:
    metadata = MetaData()
    box = Outbox(metadata)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        sessions = async_sessionmaker(engine)
        async with sessions() as session, session.begin():
            kept = box.add(session, "a", {"n": 1}, message_id="kept-1")
        async with sessions() as session:
            await session.begin()
            box.add(session, "a", {"n": 2})
            await session.rollback()
        async with engine.connect() as conn:
            ids = list((await conn.execute(select(box.table.c.message_id))).scalars())
        assert ids == [kept]
    finally:
        await engine.dispose()


def test_add_validates_inputs(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        with pytest.raises(ValueError, match="topic"):
            outbox.add(session, "", {})
        with pytest.raises(ValueError, match="message_id"):
            outbox.add(session, "t", {}, message_id="x" * 65)
        with pytest.raises(TypeError, match="headers"):
            outbox.add(session, "t", {}, headers={"a": 1})  # type: ignore[dict-item]  # on purpose
        with pytest.raises(TypeError, match="JSON serializable"):
            outbox.add(session, "t", {"when": object()})
        assert not session.new


def test_outbox_constructor_validates() -> None:
    metadata = MetaData()
    Outbox(metadata)
    with pytest.raises(ValueError, match="already defined"):
        Outbox(metadata)
    with pytest.raises(TypeError, match="MetaData"):
        Outbox("meta")  # type: ignore[arg-type]  # wrong type on purpose


def test_relay_batches_in_order_and_marks_sent(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        ids = [outbox.add(session, "t", {"i": i}) for i in range(7)]
    recorder = Recorder()
    relay = Relay(outbox, sqlite_engine, recorder, batch_size=3)
    assert [relay.run_once() for _ in range(4)] == [3, 3, 1, 0]
    assert [len(b) for b in recorder.batches] == [3, 3, 1]
    assert recorder.ids == ids
    assert relay.pending() == 0


def test_failed_dispatch_keeps_rows_pending(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        outbox.add(session, "t", {"i": 1}, message_id="m-1")
    recorder = Recorder()
    relay = Relay(outbox, sqlite_engine, recorder)
    recorder.fail_with = RuntimeError("boom")
    with pytest.raises(RelayError, match="boom"):
        relay.run_once()
    recorder.fail_with = BrokerUnavailableError("broker down")
    with pytest.raises(BrokerUnavailableError):
        relay.run_once()
    assert relay.pending() == 1
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(outbox.table)).one()
    assert row.attempts == 2  # two failed passes
    assert "broker down" in row.last_error
    recorder.fail_with = None
    assert relay.run_once() == 1
    assert recorder.ids == ["m-1"]


def test_relay_metrics(outbox: Outbox, sqlite_engine: Engine) -> None:
    registry = CollectorRegistry()
    with Session(sqlite_engine) as session, session.begin():
        for i in range(4):
            outbox.add(session, "t", {"i": i})
    recorder = Recorder()
    relay = Relay(
        outbox, sqlite_engine, recorder, batch_size=3, metrics=RelayMetrics(registry=registry)
    )
    relay.run_once()
    recorder.fail_with = RuntimeError("down")
    with pytest.raises(RelayError):
        relay.run_once()
    assert registry.get_sample_value("spaps_jobs_outbox_published_total") == 3
    assert registry.get_sample_value("spaps_jobs_outbox_relay_failures_total") == 1
    assert registry.get_sample_value("spaps_jobs_outbox_lag_seconds_count") == 3
    lag_sum = registry.get_sample_value("spaps_jobs_outbox_lag_seconds_sum")
    assert lag_sum is not None
    assert 0 <= lag_sum < 30


def test_purge_sent_deletes_only_old_sent_rows(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        for i in range(3):
            outbox.add(session, "t", {"i": i})
    relay = Relay(outbox, sqlite_engine, Recorder(), batch_size=2, retention=timedelta(days=1))
    relay.run_once()
    assert relay.purge_sent() == 0  # sent, but younger than the retention
    assert relay.purge_sent(older_than=timedelta(0)) == 2
    assert _count(sqlite_engine, outbox) == 1
    assert relay.pending() == 1


def test_run_forever_drains_then_stops_when_idle(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        for i in range(5):
            outbox.add(session, "t", {"i": i})
    recorder = Recorder()
    relay = Relay(outbox, sqlite_engine, recorder, batch_size=2, poll_interval=0.01)
    relay.run_forever(max_idle_passes=2)
    assert len(recorder.ids) == 5


def test_run_forever_purges_old_sent_rows(outbox: Outbox, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        outbox.add(session, "t", {"i": 1})
    relay = Relay(
        outbox,
        sqlite_engine,
        Recorder(),
        poll_interval=0.01,
        purge_every=0.01,
        retention=timedelta(0),
    )
    relay.run_forever(max_idle_passes=3)  # relays the row, then purges it
    assert _count(sqlite_engine, outbox) == 0


def test_run_forever_stops_when_asked(outbox: Outbox, sqlite_engine: Engine) -> None:
    stop = threading.Event()
    relay = Relay(outbox, sqlite_engine, Recorder(), poll_interval=0.01)
    thread = threading.Thread(target=relay.run_forever, kwargs={"stop": stop})
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_relay_constructor_validates(outbox: Outbox, sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Relay(outbox, sqlite_engine, Recorder(), batch_size=0)
    with pytest.raises(TypeError, match="callable"):
        Relay(outbox, sqlite_engine, "dispatch")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="Engine"):
        Relay(outbox, "sqlite://", Recorder())  # type: ignore[arg-type]  # on purpose
