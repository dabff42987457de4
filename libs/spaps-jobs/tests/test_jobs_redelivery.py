"""End-to-end acknowledgement: unconfirmed outbox messages are sent again, then dead-lettered.

Driven by an injected clock, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    DeadLetterStore,
    Inbox,
    InboxMetrics,
    Outbox,
    OutboxMessage,
    Redelivery,
    Relay,
    RelayError,
    RelayMetrics,
    SqlDedupeStore,
    SqlInbox,
)
from sqlalchemy import Column, MetaData, String, Table, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

POLICY = Redelivery(
    after=timedelta(seconds=10), backoff=2.0, max_delay=timedelta(seconds=30), max_publishes=4
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A dispatch that keeps what it was given; routes topics like CeleryDispatcher."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    def task_name(self, topic: str) -> str:
        return f"task.{topic}"

    def __call__(self, messages: Sequence[OutboxMessage]) -> None:
        self.sent.extend(messages)

    def ids(self) -> list[str]:
        return [m.id for m in self.sent]


class Setup:
    def __init__(self, engine: Engine, tmp_path: Path) -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.outbox = Outbox(self.metadata, confirmations=True)
        self.inbox = SqlInbox(
            self.metadata, outbox=self.outbox, metrics=InboxMetrics(registry=CollectorRegistry())
        )
        self.orders = Table("orders", self.metadata, Column("id", String(64), primary_key=True))
        self.metadata.create_all(engine)
        self.clock = Clock()
        self.dispatch = Recorder()
        self.registry = CollectorRegistry()
        self.dead = DeadLetterStore(create_engine(f"sqlite:///{tmp_path / 'dead.db'}"))
        self.relay = Relay(
            self.outbox,
            engine,
            self.dispatch,
            redelivery=POLICY,
            dead_letters=self.dead,
            clock=self.clock,
            metrics=RelayMetrics(registry=self.registry),
        )

    def add(self, n: int = 1) -> list[str]:
        with Session(self.engine) as session, session.begin():
            return [self.outbox.add(session, "order.placed", {"i": i}) for i in range(n)]

    def consume(self, message_id: str, *, commit: bool = True) -> bool:
        """A consumer recording its effect, its inbox row and the confirmation at once."""
        with Session(self.engine) as session:
            session.begin()
            new = self.inbox.accept(session, message_id, consumer="orders")
            if new:
                session.execute(self.orders.insert().values(id=message_id))
            session.commit() if commit else session.rollback()
            return new

    def row(self, message_id: str) -> Any:
        t = self.outbox.table
        with self.engine.connect() as conn:
            return conn.execute(select(t).where(t.c.message_id == message_id)).one()

    def metric(self, name: str) -> float:
        return self.registry.get_sample_value(name) or 0.0


@pytest.fixture(params=["sqlite_engine", pytest.param("pg_engine", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Setup:
    return Setup(request.getfixturevalue(request.param), tmp_path)


def test_unconfirmed_message_is_sent_again_with_backoff_then_dead_lettered(setup: Setup) -> None:
    [mid] = setup.add()
    assert setup.relay.run_once() == 1
    assert setup.relay.unconfirmed() == 1
    assert setup.relay.run_once() == 0  # within the window: not sent again
    waits = []
    for expected_wait in (10, 20, 30):  # after, after*2, capped at max_delay
        setup.clock.advance(expected_wait - 1)
        assert setup.relay.run_once() == 0
        setup.clock.advance(1)
        assert setup.relay.run_once() == 1
        waits.append(expected_wait)
    assert setup.dispatch.ids() == [mid] * 4
    assert [m.publishes for m in setup.dispatch.sent] == [0, 1, 2, 3]
    # The fourth publish also goes unconfirmed: after its wait the message is buried.
    setup.clock.advance(29)
    assert setup.relay.run_once() == 0
    assert setup.dead.list() == []
    setup.clock.advance(1)
    assert setup.relay.run_once() == 0
    [letter] = setup.dead.list()
    assert (letter.task_name, letter.task_id, letter.attempts) == ("task.order.placed", mid, 4)
    assert letter.args == [{"i": 0}]
    assert letter.headers["spaps_message_id"] == mid
    assert "not confirmed" in letter.error
    setup.clock.advance(3600)
    assert setup.relay.run_once() == 0  # never sent again
    assert setup.relay.unconfirmed() == 0
    row = setup.row(mid)
    assert row.dead_lettered_at is not None
    assert row.confirmed_at is None
    assert setup.metric("spaps_jobs_outbox_published_total") == 4
    assert setup.metric("spaps_jobs_outbox_redelivered_total") == 3
    assert setup.metric("spaps_jobs_outbox_dead_lettered_total") == 1


def test_consumer_confirmation_in_its_transaction_stops_resends(setup: Setup) -> None:
    first, second = setup.add(2)
    assert setup.relay.run_once() == 2
    assert setup.consume(first) is True
    # The second consumer's transaction rolls back: no effect, no confirmation.
    assert setup.consume(second, commit=False) is True
    setup.clock.advance(10)
    assert setup.relay.run_once() == 1
    assert setup.dispatch.ids()[-1] == second
    assert setup.consume(second) is True
    assert setup.consume(first) is False  # a late duplicate is absorbed (and confirms again)
    setup.clock.advance(3600)
    assert setup.relay.run_once() == 0
    assert setup.relay.unconfirmed() == 0
    with setup.engine.connect() as conn:
        assert sorted(conn.execute(select(setup.orders.c.id)).scalars()) == sorted([first, second])
    metrics = setup.inbox.metrics.registry
    labels = {"consumer": "orders"}
    assert (
        metrics.get_sample_value(
            "spaps_jobs_inbox_messages_total", {**labels, "outcome": "duplicate"}
        )
        == 1
    )
    assert (
        metrics.get_sample_value(
            "spaps_jobs_inbox_messages_total", {**labels, "outcome": "processed"}
        )
        == 3
    )  # the rolled-back attempt counted too: it ran, then was undone


def test_purge_keeps_what_waits_for_a_confirmation(setup: Setup) -> None:
    confirmed, waiting = setup.add(2)
    setup.relay.run_once()
    setup.consume(confirmed)
    assert setup.relay.purge_sent(older_than=timedelta(0)) == 1
    assert setup.row(waiting).confirmed_at is None
    assert setup.relay.unconfirmed() == 1


def test_confirmation_before_the_relay_marks_the_row_sent(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """On SQLite the relay publishes outside its transaction: a fast consumer can confirm
    before the row is marked sent. The row must not be scheduled for a re-send."""
    setup = Setup(sqlite_engine, tmp_path)

    def publish_and_consume(messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            setup.consume(message.id)

    setup.relay.dispatch = publish_and_consume
    [mid] = setup.add()
    assert setup.relay.run_once() == 1
    row = setup.row(mid)
    assert row.confirmed_at is not None
    assert row.redeliver_at is None
    setup.clock.advance(3600)
    assert setup.relay.run_once() == 0


def test_inbox_over_a_dedupe_store_confirms_through_the_outbox(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    setup = Setup(sqlite_engine, tmp_path)
    effects_engine = create_engine(f"sqlite:///{tmp_path / 'effects.db'}")
    store = SqlDedupeStore(effects_engine)
    store.create_table()
    inbox = Inbox(
        store,
        namespace="mail",
        confirm=setup.outbox.confirmer(sqlite_engine),
        metrics=InboxMetrics(registry=CollectorRegistry()),
    )
    a, b = setup.add(2)
    setup.relay.run_once()
    sent: list[str] = []
    assert inbox.process(a, sent.append, a) is True
    setup.clock.advance(10)
    assert setup.relay.run_once() == 1  # only b is overdue
    assert setup.dispatch.ids()[-1] == b
    # A confirmation that fails is logged: the re-send's duplicate confirms it later.
    broken = Inbox(store, namespace="mail", confirm=_fail, metrics=inbox.metrics)
    assert broken.process(b, sent.append, b) is True
    assert setup.row(b).confirmed_at is None
    assert inbox.process(b, sent.append, b) is False
    assert setup.row(b).confirmed_at is not None
    assert sent == [a, b]
    effects_engine.dispose()


def _fail(message_id: str) -> None:
    raise ConnectionError("outbox database down")


def test_dead_letter_store_failure_is_a_relay_error(setup: Setup, tmp_path: Path) -> None:
    setup.add()
    setup.relay.run_once()
    # A store whose database cannot be opened (its directory does not exist).
    setup.relay.dead_letters = DeadLetterStore(
        create_engine(f"sqlite:///{tmp_path / 'missing' / 'dead.db'}")
    )
    for _ in range(3):
        setup.clock.advance(30)
        assert setup.relay.run_once() == 1
    setup.clock.advance(30)
    with pytest.raises(RelayError, match="dead-lettering"):
        setup.relay.run_once()
    assert setup.relay.unconfirmed() == 1  # kept: buried on a later pass
    setup.relay.dead_letters = setup.dead
    assert setup.relay.run_once() == 0
    assert len(setup.dead.list()) == 1
    assert setup.relay.unconfirmed() == 0


def test_validation(sqlite_engine: Engine) -> None:
    plain = Outbox(MetaData())
    with pytest.raises(ValueError, match="confirmations"):
        Relay(plain, sqlite_engine, Recorder(), redelivery=POLICY)
    with pytest.raises(ValueError, match="confirmations"):
        plain.confirm_statement("m")
    with pytest.raises(ValueError, match="confirmations"):
        plain.confirmer(sqlite_engine)
    with pytest.raises(ValueError, match="confirmations"):
        SqlInbox(MetaData(), outbox=plain)
    with pytest.raises(ValueError, match="after"):
        Redelivery(after=timedelta(0))
    with pytest.raises(ValueError, match="max_delay"):
        Redelivery(after=timedelta(seconds=10), max_delay=timedelta(seconds=5))
    with pytest.raises(ValueError, match="backoff"):
        Redelivery(backoff=0.5)
    with pytest.raises(ValueError, match="max_publishes"):
        Redelivery(max_publishes=0)
    assert POLICY.wait(1) == timedelta(seconds=10)
    assert POLICY.wait(2) == timedelta(seconds=20)
    assert POLICY.wait(5) == timedelta(seconds=30)


async def test_async_consumer_confirms_in_its_transaction(tmp_path: Path) -> None:
    sync_engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    setup = Setup(sync_engine, tmp_path)
    first, second = setup.add(2)
    setup.relay.run_once()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        async with AsyncSession(engine) as session, session.begin():
            assert await setup.inbox.accept_async(session, first, consumer="orders")
        async with AsyncSession(engine) as session, session.begin():
            assert await setup.outbox.confirm_async(session, second) is True
            assert await setup.outbox.confirm_async(session, second) is False  # already
    finally:
        await engine.dispose()
    assert setup.row(first).confirmed_at is not None
    assert setup.relay.unconfirmed() == 0
    sync_engine.dispose()
