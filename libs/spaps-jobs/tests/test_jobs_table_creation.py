"""Library tables are created safely while another process creates them too.

Several workers failing their first tasks at once each create the dead-letter table;
``checkfirst`` checks, then creates, so all but one used to fail with "table ...
already exists". The race is made deterministic here: SQLAlchemy's ``before_create``
event runs between a store's check and its ``CREATE TABLE``, and there "another
process" (its own engine and connection) creates the same table and commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from spaps_jobs import AsyncSqlDedupeStore, DeadLetterStore, SqlDedupeStore
from sqlalchemy import MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh database's URL for a sync driver and for an asyncio one."""
    if request.param == "sqlite":
        path = tmp_path / "tables.db"
        yield f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("postgres_url")
        yield (
            url.replace("postgresql://", "postgresql+psycopg://", 1),
            url.replace("postgresql://", "postgresql+asyncpg://", 1),
        )


def created_elsewhere_first(table: Table, url: str) -> list[str]:
    """Make the next creation of ``table`` lose the race; the list records the race."""
    raced: list[str] = []

    def create_elsewhere(target: Table, connection: Connection, **kw: object) -> None:
        other = create_engine(url)
        try:
            target.to_metadata(MetaData()).create(other)  # commits, with its indexes
        finally:
            other.dispose()
        raced.append(target.name)

    event.listen(table, "before_create", create_elsewhere, once=True)
    return raced


def has_table(url: str, name: str) -> bool:
    engine = create_engine(url)
    try:
        return inspect(engine).has_table(name)
    finally:
        engine.dispose()


def test_dead_letter_store_loses_the_race_and_works(urls: tuple[str, str]) -> None:
    url, _ = urls
    engine = create_engine(url)
    store = DeadLetterStore(engine)
    raced = created_elsewhere_first(store.table, url)
    try:
        letter_id = store.add(  # creates the table on first use
            task_name="t.x", task_id="1", args=[1], kwargs={}, error="E", traceback="", attempts=1
        )
        assert raced == ["spaps_dead_letters"]  # the other creator got there first
        assert [letter.id for letter in store.list()] == [letter_id]
    finally:
        engine.dispose()


def test_sql_dedupe_store_loses_the_race_and_works(urls: tuple[str, str]) -> None:
    url, _ = urls
    engine = create_engine(url)
    store = SqlDedupeStore(engine)
    raced = created_elsewhere_first(store.table, url)
    try:
        store.create_table()
        assert raced == ["spaps_dedupe"]
        assert store.claim("k", 30)
        assert not store.claim("k", 30)
    finally:
        engine.dispose()


async def test_async_sql_dedupe_store_loses_the_race_and_works(urls: tuple[str, str]) -> None:
    url, async_url = urls
    engine = create_async_engine(async_url)
    store = AsyncSqlDedupeStore(engine)
    raced = created_elsewhere_first(store.table, url)
    try:
        await store.create_table()
        assert raced == ["spaps_dedupe"]
        assert await store.claim("k", 30)
        assert not await store.claim("k", 30)
    finally:
        await engine.dispose()


def test_other_creation_errors_still_raise(urls: tuple[str, str]) -> None:
    url, _ = urls
    engine = create_engine(url)
    store = DeadLetterStore(engine)

    def fail(target: Table, connection: Connection, **kw: object) -> None:
        connection.exec_driver_sql("SELECT * FROM no_such_table")

    event.listen(store.table, "before_create", fail, once=True)
    try:
        with pytest.raises(DBAPIError, match="no_such_table"):
            store.create_table()
        assert not has_table(url, "spaps_dead_letters")
        store.create_table()  # nothing was marked created: the next call creates it
        assert has_table(url, "spaps_dead_letters")
    finally:
        engine.dispose()
