"""The dedupe stores: one contract, four implementations, real SQLite/PostgreSQL/Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import redis.asyncio
from spaps_jobs import (
    AsyncDedupeStore,
    AsyncRedisDedupeStore,
    AsyncSqlDedupeStore,
    DedupeStore,
    RedisDedupeStore,
    SqlDedupeStore,
)
from spaps_jobs.testing import wait_for
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def store(request: pytest.FixtureRequest) -> Iterator[DedupeStore]:
    if request.param == "sqlite":
        sql = SqlDedupeStore(request.getfixturevalue("sqlite_engine"))
        sql.create_table()
        yield sql
    elif request.param == "postgres":
        sql = SqlDedupeStore(request.getfixturevalue("pg_engine"))
        sql.create_table()
        yield sql
    else:
        client: redis.Redis = request.getfixturevalue("redis_client")
        yield RedisDedupeStore(client, prefix=request.getfixturevalue("redis_prefix"))


@pytest.fixture
async def async_sql_store(async_sqlite_engine: AsyncEngine) -> AsyncSqlDedupeStore:
    store = AsyncSqlDedupeStore(async_sqlite_engine)
    await store.create_table()
    return store


@pytest.fixture
async def async_pg_store(postgres_url: str) -> AsyncIterator[AsyncSqlDedupeStore]:
    engine = create_async_engine(postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    store = AsyncSqlDedupeStore(engine)
    await store.create_table()
    yield store
    await engine.dispose()


@pytest.fixture
def async_redis_store(
    async_redis_client: redis.asyncio.Redis, redis_prefix: str
) -> AsyncRedisDedupeStore:
    return AsyncRedisDedupeStore(async_redis_client, prefix=redis_prefix)


@pytest.fixture(
    params=[
        "async_sql_store",
        pytest.param("async_pg_store", marks=pytest.mark.postgres),
        pytest.param("async_redis_store", marks=pytest.mark.redis),
    ]
)
def astore(request: pytest.FixtureRequest) -> AsyncDedupeStore:
    store: AsyncDedupeStore = request.getfixturevalue(request.param)
    return store


async def until_gone(store: AsyncDedupeStore, key: str) -> None:
    """Poll until the record under ``key`` is gone; the deadline only fails a hung test."""
    try:
        async with asyncio.timeout(30):
            while True:
                if await store.get(key) is None:
                    return
                await asyncio.sleep(0.02)  # sleep-ok: the interval between two polls
    except TimeoutError:
        pytest.fail(f"the record under {key!r} never expired")


def test_first_claim_wins_and_duplicate_is_refused(store: DedupeStore) -> None:
    assert isinstance(store, DedupeStore)
    before = time.time()
    assert store.claim("k1", 30, fingerprint="fp") is True
    assert store.claim("k1", 30, fingerprint="fp") is False
    record = store.get("k1")
    after = time.time()
    assert record is not None
    assert (record.done, record.fingerprint, record.result) == (False, "fp", None)
    # The lease ends 30 s after the claim, which happened between the two readings
    # (1 s of slack for Redis's millisecond TTL): true however long the calls took.
    assert before + 29 < record.expires_at < after + 31


def test_complete_keeps_result_and_blocks_claims(store: DedupeStore) -> None:
    assert store.claim("k2", 30, fingerprint="abc")
    store.complete("k2", b"\x00result", ttl=60)
    record = store.get("k2")
    assert record is not None
    assert (record.done, record.result, record.fingerprint) == (True, b"\x00result", "abc")
    assert store.claim("k2", 30) is False
    store.release("k2")  # a late release never drops a completed result
    assert store.get("k2") is not None


def test_release_lets_the_next_caller_claim(store: DedupeStore) -> None:
    assert store.claim("k3", 30)
    store.release("k3")
    assert store.get("k3") is None
    assert store.claim("k3", 30)


def test_expired_lease_can_be_claimed_again(store: DedupeStore) -> None:
    assert store.claim("k4", 0.2)
    assert not store.claim("k4", 30)  # held until the lease ends ...
    wait_for(lambda: store.get("k4") is None, timeout=30, what="the lease to end")
    assert store.claim("k4", 30)  # ... then free


def test_concurrent_claims_have_one_winner(store: DedupeStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.claim("race", 30), range(16)))
    assert results.count(True) == 1


@pytest.mark.parametrize("key", ["", "x" * 513])
def test_bad_keys_are_rejected(store: DedupeStore, key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        store.claim(key, 10)


def test_ttl_must_be_positive(store: DedupeStore) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.claim("k", 0)


async def test_async_store_contract(astore: AsyncDedupeStore) -> None:
    assert isinstance(astore, AsyncDedupeStore)
    assert await astore.claim("a", 30, fingerprint="f1")
    assert not await astore.claim("a", 30)
    record = await astore.get("a")
    assert record is not None
    assert not record.done
    assert record.fingerprint == "f1"
    await astore.complete("a", b"body", ttl=30)
    record = await astore.get("a")
    assert record is not None
    assert (record.done, record.result) == (True, b"body")
    assert await astore.claim("b", 30)
    await astore.release("b")
    assert await astore.get("b") is None
    assert await astore.claim("b", 0.2)
    assert not await astore.claim("b", 30)  # held until the lease ends ...
    await until_gone(astore, "b")
    assert await astore.claim("b", 30)  # ... then free


def test_constructors_validate(sqlite_engine: Engine) -> None:
    with pytest.raises(TypeError, match="Engine"):
        SqlDedupeStore("sqlite://")  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="AsyncEngine"):
        AsyncSqlDedupeStore(sqlite_engine)  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(ValueError, match="table_name"):
        SqlDedupeStore(sqlite_engine, table_name="")
