"""Row quotas under concurrency: transactions racing for the last slots never pass the limit.

Each race is released from a state the database itself shows (sessions waiting on a lock,
a statement that reached SQLite's write lock), never from a sleep.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from spaps_tenancy import RowQuotaExceededError, install_row_quota, tenant_context
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DEADLINE = 60.0  # seconds: only a hung test reaches it
RACERS = 8
LIMIT = 5
PRELOADED = 3  # so LIMIT - PRELOADED = 2 slots are left for RACERS transactions


def _wait_for(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)  # sleep-ok: poll interval while waiting for the server's state


def _lock_waiters(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


@pytest.fixture
def quota_orm(orm: SimpleNamespace) -> SimpleNamespace:
    """The suite's schema with a fresh session class carrying a row quota on ``Patient``."""

    class QuotaSession(orm.Session):  # type: ignore[misc, name-defined]  # the suite's filtered session
        pass

    install_row_quota(QuotaSession, orm.Patient, limit={"acme": LIMIT}.get)
    return SimpleNamespace(**vars(orm), QuotaSession=QuotaSession)


@pytest.fixture
def pg_owner(
    postgres_url: str, quota_orm: SimpleNamespace, pg_url: Callable[[str, str], str]
) -> Iterator[Engine]:
    """A fresh database with the schema and PRELOADED rows of tenant acme."""
    engine = create_engine(pg_url(postgres_url, "psycopg"), poolclass=NullPool)
    quota_orm.Base.metadata.create_all(engine)
    with tenant_context("acme"), sessionmaker(engine, class_=quota_orm.QuotaSession)() as session:
        session.add_all([quota_orm.Patient(name=f"p{i}") for i in range(PRELOADED)])
        session.commit()
    yield engine
    engine.dispose()


def _count(engine: Engine, tenant: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text("SELECT count(*) FROM patients WHERE tenant_id = :t"), {"t": tenant}
            )
            or 0
        )


def _race(owner: Engine, start_racers: Callable[[], Callable[[], list[str]]]) -> list[str]:
    """Hold an exclusive lock on the table while every racer's transaction queues behind it,
    then release them together and return their outcomes."""
    with owner.connect() as gate:
        gate.execute(text("LOCK TABLE patients IN ACCESS EXCLUSIVE MODE"))
        finish = start_racers()
        _wait_for(
            lambda: _lock_waiters(owner) >= RACERS, f"{RACERS} transactions waiting on the gate"
        )
        gate.rollback()  # all of them go at once
    return finish()


@pytest.mark.postgres
def test_concurrent_transactions_never_pass_the_row_quota_on_postgres(
    pg_owner: Engine, quota_orm: SimpleNamespace
) -> None:
    factory: Callable[[], Session] = sessionmaker(pg_owner, class_=quota_orm.QuotaSession)  # type: ignore[call-overload]  # the session class is built in a fixture
    outcomes: list[str] = []

    def insert_one(number: int) -> None:
        try:
            with tenant_context("acme"), factory() as session:
                session.add(quota_orm.Patient(name=f"racer {number}"))
                session.commit()
            outcomes.append("stored")
        except RowQuotaExceededError as error:
            outcomes.append(error.code)
        except Exception as error:  # any other outcome fails the test below, by name
            outcomes.append(repr(error))

    def start() -> Callable[[], list[str]]:
        threads = [threading.Thread(target=insert_one, args=(n,)) for n in range(RACERS)]
        for thread in threads:
            thread.start()

        def finish() -> list[str]:
            for thread in threads:
                thread.join(DEADLINE)
            assert not any(thread.is_alive() for thread in threads), "a racer hung"
            return outcomes

        return finish

    results = _race(pg_owner, start)
    assert sorted(results) == sorted(
        ["stored"] * (LIMIT - PRELOADED)
        + ["tenancy.row_quota_exceeded"] * (RACERS - LIMIT + PRELOADED)
    )
    assert _count(pg_owner, "acme") == LIMIT
    # Other tenants are not limited, and the lock is per tenant: zeta is never refused.
    with tenant_context("zeta"), factory() as session:
        session.add_all([quota_orm.Patient(name=f"z{i}") for i in range(LIMIT + 1)])
        session.commit()
    assert _count(pg_owner, "zeta") == LIMIT + 1


@pytest.mark.postgres
def test_concurrent_async_sessions_never_pass_the_row_quota_on_postgres(
    pg_owner: Engine,
    postgres_url: str,
    quota_orm: SimpleNamespace,
    pg_url: Callable[[str, str], str],
) -> None:
    outcomes: list[str] = []
    ready = threading.Event()

    async def insert_one(factory: async_sessionmaker[AsyncSession], number: int) -> None:
        try:
            with tenant_context("acme"):
                async with factory() as session:
                    session.add(quota_orm.Patient(name=f"async racer {number}"))
                    await session.commit()
            outcomes.append("stored")
        except RowQuotaExceededError as error:
            outcomes.append(error.code)
        except Exception as error:  # any other outcome fails the test below, by name
            outcomes.append(repr(error))

    async def race() -> None:
        engine = create_async_engine(pg_url(postgres_url, "asyncpg"), poolclass=NullPool)
        factory = async_sessionmaker(engine, sync_session_class=quota_orm.QuotaSession)
        try:
            ready.set()
            await asyncio.gather(*(insert_one(factory, n) for n in range(RACERS)))
        finally:
            await engine.dispose()

    def start() -> Callable[[], list[str]]:
        runner = threading.Thread(target=asyncio.run, args=(race(),))
        runner.start()

        def finish() -> list[str]:
            runner.join(DEADLINE)
            assert ready.is_set(), "the racers never started"
            assert not runner.is_alive(), "the racers hung"
            return outcomes

        return finish

    results = _race(pg_owner, start)
    assert sorted(results) == sorted(
        ["stored"] * (LIMIT - PRELOADED)
        + ["tenancy.row_quota_exceeded"] * (RACERS - LIMIT + PRELOADED)
    )
    assert _count(pg_owner, "acme") == LIMIT


def test_a_writer_waiting_on_sqlite_counts_the_rows_committed_before_it(
    tmp_path: Path, quota_orm: SimpleNamespace
) -> None:
    url = f"sqlite:///{tmp_path / 'quota.db'}"
    first_engine = create_engine(url, connect_args={"timeout": DEADLINE})
    second_engine = create_engine(url, connect_args={"timeout": DEADLINE})
    quota_orm.Base.metadata.create_all(first_engine)
    statements: list[str] = []

    @event.listens_for(second_engine, "connect")
    def trace(dbapi_connection: object, record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)  # type: ignore[attr-defined]  # sqlite3.Connection

    first: Callable[[], Session] = sessionmaker(first_engine, class_=quota_orm.QuotaSession)  # type: ignore[call-overload]  # as above
    second: Callable[[], Session] = sessionmaker(second_engine, class_=quota_orm.QuotaSession)  # type: ignore[call-overload]  # as above
    outcome: list[str] = []

    def second_writer() -> None:
        try:
            with tenant_context("acme"), second() as session:
                session.add(quota_orm.Patient(name="second"))
                session.commit()
            outcome.append("stored")
        except RowQuotaExceededError as error:
            outcome.append(error.code)

    try:
        with tenant_context("acme"), first() as session:
            session.add_all([quota_orm.Patient(name=f"p{i}") for i in range(LIMIT - 1)])
            session.commit()
            session.add(quota_orm.Patient(name="first"))  # the last slot
            session.flush()  # holds SQLite's write lock until commit
            writer = threading.Thread(target=second_writer)
            writer.start()
            # The second transaction has reached its first write: it waits for the lock.
            _wait_for(
                lambda: any(
                    s.lstrip().upper().startswith(("UPDATE", "INSERT")) for s in statements
                ),
                "the second transaction's first write",
            )
            session.commit()
        writer.join(DEADLINE)
        assert not writer.is_alive(), "the second writer hung"
        assert outcome == ["tenancy.row_quota_exceeded"]
        with first_engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(quota_orm.Patient)) == LIMIT
    finally:
        first_engine.dispose()
        second_engine.dispose()
