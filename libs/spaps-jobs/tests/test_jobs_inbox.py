"""Inbox: a message id takes effect once, failures and crashes let it run again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    Inbox,
    JobsSettings,
    MessageInProgressError,
    SqlDedupeStore,
    SqlInbox,
    create_celery_app,
)
from spaps_jobs.testing import wait_for
from sqlalchemy import Column, MetaData, String, Table, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session


@pytest.fixture
def inbox(sqlite_engine: Engine) -> Inbox:
    store = SqlDedupeStore(sqlite_engine)
    store.create_table()
    return Inbox(store, namespace="billing", lease=0.3)


def test_duplicate_is_absorbed(inbox: Inbox) -> None:
    effects: list[int] = []
    assert inbox.process("m1", effects.append, 1) is True
    assert inbox.process("m1", effects.append, 1) is False
    assert effects == [1]
    assert inbox.seen("m1")
    assert not inbox.seen("m2")


def test_failed_handler_releases_the_claim(inbox: Inbox) -> None:
    def fail() -> None:
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        inbox.process("m1", fail)
    effects: list[str] = []
    assert inbox.process("m1", effects.append, "ok")
    assert effects == ["ok"]


def test_claim_held_elsewhere_raises_then_expires(inbox: Inbox) -> None:
    assert inbox.store.claim("billing:m1", inbox.lease)  # a consumer that then died
    with pytest.raises(MessageInProgressError):
        inbox.process("m1", lambda: None)
    wait_for(lambda: inbox.store.get("billing:m1") is None, timeout=30, what="the lease")
    effects: list[int] = []
    assert inbox.process("m1", effects.append, 1)
    assert effects == [1]


def test_namespaces_are_independent(sqlite_engine: Engine) -> None:
    store = SqlDedupeStore(sqlite_engine)
    store.create_table()
    a, b = Inbox(store, namespace="a"), Inbox(store, namespace="b")
    assert a.process("m", lambda: None)
    assert b.process("m", lambda: None)
    assert not a.process("m", lambda: None)


def test_inbox_validates(sqlite_engine: Engine) -> None:
    store = SqlDedupeStore(sqlite_engine)
    with pytest.raises(TypeError, match="DedupeStore"):
        Inbox(object())  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(ValueError, match="namespace"):
        Inbox(store, namespace="")
    with pytest.raises(ValueError, match="positive"):
        Inbox(store, lease=0)
    with pytest.raises(ValueError, match="message_id"):
        Inbox(store).process("", lambda: None)


@pytest.fixture
def orders_db(request: pytest.FixtureRequest) -> tuple[Engine, SqlInbox, Table]:
    engine: Engine = request.getfixturevalue(request.param)
    metadata = MetaData()
    inbox = SqlInbox(metadata)
    orders = Table("orders", metadata, Column("id", String(64), primary_key=True))
    metadata.create_all(engine)
    return engine, inbox, orders


def _consume(engine: Engine, inbox: SqlInbox, orders: Table, message_id: str) -> bool:
    with Session(engine) as session, session.begin():
        if not inbox.accept(session, message_id, consumer="orders"):
            return False
        session.execute(orders.insert().values(id=message_id))
        return True


@pytest.mark.parametrize(
    "orders_db",
    ["sqlite_engine", pytest.param("pg_engine", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_sql_inbox_records_the_id_with_the_effect(
    orders_db: tuple[Engine, SqlInbox, Table],
) -> None:
    engine, inbox, orders = orders_db
    assert _consume(engine, inbox, orders, "m1") is True
    assert _consume(engine, inbox, orders, "m1") is False
    # An effect that rolls back takes its inbox row with it: the redelivery runs.
    with Session(engine) as session:
        session.begin()
        assert inbox.accept(session, "m2", consumer="orders")
        session.rollback()
    assert _consume(engine, inbox, orders, "m2") is True
    with engine.connect() as conn:
        assert sorted(conn.execute(select(orders.c.id)).scalars()) == ["m1", "m2"]
    assert inbox.purge(engine, older_than=timedelta(days=1)) == 0
    assert inbox.purge(engine, older_than=timedelta(0)) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("first_commits", [True, False])
def test_sql_inbox_concurrent_duplicate_waits_for_the_first(
    pg_engine: Engine, first_commits: bool
) -> None:
    metadata = MetaData()
    inbox = SqlInbox(metadata)
    metadata.create_all(pg_engine)
    results: dict[str, bool] = {}
    with Session(pg_engine) as first:
        first.begin()
        first_pid = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
        results["first"] = inbox.accept(first, "dup")  # its transaction stays open
        second_pid: list[int] = []

        def second() -> None:
            with Session(pg_engine) as session, session.begin():
                second_pid.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                results["second"] = inbox.accept(session, "dup")  # waits for `first`

        thread = threading.Thread(target=second)
        thread.start()
        try:
            # PostgreSQL shows the second caller's backend waiting on the first's lock.
            wait_for(
                lambda: bool(second_pid) and first_pid in blocking_pids(pg_engine, second_pid[0]),
                timeout=30,
                what="the second caller to wait on the first's lock",
            )
            assert "second" not in results  # still waiting
        finally:
            first.commit() if first_commits else first.rollback()
            thread.join(30)
    assert not thread.is_alive()
    assert results == {"first": True, "second": not first_commits}


def blocking_pids(engine: Engine, pid: int) -> list[int]:
    """The backends that ``pid`` waits for (PostgreSQL's own view of its locks)."""
    with engine.connect() as conn:
        pids: list[int] = conn.execute(
            text("SELECT pg_blocking_pids(:pid)"), {"pid": pid}
        ).scalar_one()
    return pids


async def test_sql_inbox_with_async_session(async_sqlite_engine: AsyncEngine) -> None:
    metadata = MetaData()
    inbox = SqlInbox(metadata)
    async with async_sqlite_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with AsyncSession(async_sqlite_engine) as session, session.begin():
        assert await inbox.accept_async(session, "a1")
    async with AsyncSession(async_sqlite_engine) as session, session.begin():
        assert not await inbox.accept_async(session, "a1")


def test_consumer_decorator_runs_each_message_id_once(inbox: Inbox) -> None:
    app = create_celery_app(
        JobsSettings(dead_letter_url=None, extra={"task_always_eager": True}),
        registry=CollectorRegistry(),
    )
    effects: list[int] = []

    @app.task(bind=True, name="x.consume")
    @inbox.consumer
    def consume(task: object, payload: int) -> str:
        effects.append(payload)
        return f"done {payload}"

    headers = {"spaps_message_id": "evt-1"}
    assert consume.apply(args=(1,), headers=headers).get() == "done 1"
    assert consume.apply(args=(1,), headers=headers).get() is None  # redelivery: skipped
    assert consume.apply(args=(2,), task_id="evt-2").get() == "done 2"  # id from the task id
    assert effects == [1, 2]
    assert inbox.seen("evt-1")
    assert inbox.seen("evt-2")
