"""Lockout per account and per client, escalating cooldown, DB and Redis stores, login."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis_asyncio
import redis.exceptions as redis_exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from spaps_auth import (
    AccountLockedError,
    DatabaseLockoutStore,
    InvalidCredentialsError,
    InvalidOtpError,
    Lockout,
    LockoutStore,
    PasswordHasher,
    PasswordLogin,
    RedisLockoutStore,
)
from sqlalchemy.ext.asyncio import AsyncEngine


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def _exercise(store: LockoutStore) -> None:
    clock = Clock()
    lockout = Lockout(
        store,
        account_threshold=3,
        client_threshold=100,
        base_cooldown=timedelta(seconds=30),
        clock=clock,
    )
    for _ in range(2):
        await lockout.record_failure("Alice@example.com", "10.0.0.1")
    await lockout.check("alice@example.com", "10.0.0.1")  # 2 < 3: still open
    await lockout.record_failure("alice@example.com", "10.0.0.1")
    with pytest.raises(AccountLockedError) as info:
        await lockout.check("ALICE@example.com", "10.0.0.9")  # account lock, any client
    assert 29 <= info.value.retry_after <= 31
    assert info.value.headers == {"Retry-After": str(info.value.retry_after)}
    clock.now += timedelta(seconds=31)
    await lockout.check("alice@example.com")
    await lockout.record_failure("alice@example.com")  # 4th failure: cooldown doubles
    with pytest.raises(AccountLockedError) as info:
        await lockout.check("alice@example.com")
    assert 59 <= info.value.retry_after <= 61
    clock.now += timedelta(seconds=61)
    await lockout.record_success("alice@example.com")
    await lockout.record_failure("alice@example.com")
    await lockout.check("alice@example.com")  # counter was reset by the success


async def test_database_store_escalates_and_resets(engine: AsyncEngine) -> None:
    await _exercise(DatabaseLockoutStore(engine))


@pytest.mark.postgres
async def test_database_store_on_postgres(pg_engine: AsyncEngine) -> None:
    await _exercise(DatabaseLockoutStore(pg_engine))


@pytest.fixture
async def redis_store(redis_url: str, unique_name: str) -> AsyncIterator[RedisLockoutStore]:
    client = redis_asyncio.Redis.from_url(redis_url)
    yield RedisLockoutStore(client, prefix=unique_name + ":")
    keys = [k async for k in client.scan_iter(unique_name + ":*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.mark.redis
async def test_redis_store(redis_store: RedisLockoutStore) -> None:
    lockout = Lockout(redis_store, account_threshold=2, base_cooldown=timedelta(seconds=30))
    await lockout.record_failure("bob")
    await lockout.check("bob")
    await lockout.record_failure("bob")
    with pytest.raises(AccountLockedError):
        await lockout.check("bob")
    await lockout.record_success("bob")
    await lockout.check("bob")


async def test_client_lock_spans_accounts(engine: AsyncEngine) -> None:
    lockout = Lockout(DatabaseLockoutStore(engine), account_threshold=100, client_threshold=3)
    for i in range(3):
        await lockout.record_failure(f"user{i}", "203.0.113.7")
    with pytest.raises(AccountLockedError):
        await lockout.check("someone-new", "203.0.113.7")
    await lockout.check("someone-new", "198.51.100.1")


async def test_failures_older_than_window_are_forgotten(engine: AsyncEngine) -> None:
    clock = Clock()
    lockout = Lockout(
        DatabaseLockoutStore(engine), account_threshold=2, window=timedelta(minutes=10), clock=clock
    )
    await lockout.record_failure("carol")
    clock.now += timedelta(minutes=11)
    await lockout.record_failure("carol")
    await lockout.check("carol")


def test_cooldown_is_capped(engine: AsyncEngine) -> None:
    lockout = Lockout(
        DatabaseLockoutStore(engine),
        base_cooldown=timedelta(seconds=30),
        max_cooldown=timedelta(minutes=5),
    )
    assert lockout.cooldown(4, 5) is None
    assert lockout.cooldown(5, 5) == timedelta(seconds=30)
    assert lockout.cooldown(7, 5) == timedelta(seconds=120)
    assert lockout.cooldown(500, 5) == timedelta(minutes=5)
    with pytest.raises(ValueError, match="threshold"):
        Lockout(DatabaseLockoutStore(engine), account_threshold=0)


async def test_password_login_flow(engine: AsyncEngine) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    login = PasswordLogin(
        hasher=hasher, lockout=Lockout(DatabaseLockoutStore(engine), account_threshold=2)
    )
    stored = await hasher.hash("right-password")
    assert await login.verify("dave", "right-password", stored) is None
    with pytest.raises(InvalidCredentialsError):
        await login.verify("dave", "wrong", stored)
    with pytest.raises(InvalidCredentialsError):
        await login.verify("nobody", "whatever", None)  # unknown user: same error
    with pytest.raises(InvalidCredentialsError):
        await login.verify("dave", "wrong", stored)
    with pytest.raises(AccountLockedError):
        await login.verify("dave", "right-password", stored)  # locked even with the right one


async def test_password_login_returns_rehash(engine: AsyncEngine) -> None:
    old = await PasswordHasher(time_cost=1, memory_cost=1024).hash("pw-long-enough")
    login = PasswordLogin(hasher=PasswordHasher(time_cost=1, memory_cost=2048))
    new_hash = await login.verify("erin", "pw-long-enough", old)
    assert new_hash is not None
    assert "m=2048" in new_hash


@pytest.mark.parametrize("fail_open", [True, False])
async def test_store_outage_fails_open_or_closed(
    fail_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # A real client pointed at a port where nothing listens: Redis is "down".
    client = redis_asyncio.Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    lockout = Lockout(RedisLockoutStore(client), fail_open=fail_open)
    try:
        with caplog.at_level(logging.WARNING, logger="spaps_auth.lockout"):
            if fail_open:
                await lockout.check("frank", "10.0.0.1")
                await lockout.record_failure("frank", "10.0.0.1")
                await lockout.record_success("frank")
            else:
                with pytest.raises(redis_exceptions.ConnectionError):
                    await lockout.check("frank", "10.0.0.1")
                with pytest.raises(redis_exceptions.ConnectionError):
                    await lockout.record_failure("frank")
        assert ("failing open" if fail_open else "failing closed") in caplog.text
    finally:
        await client.aclose()


async def test_a_wrong_second_factor_counts_like_a_wrong_password(engine: AsyncEngine) -> None:
    """Codes guessed from many addresses lock the account: each address fails once only."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    login = PasswordLogin(
        hasher=hasher,
        lockout=Lockout(DatabaseLockoutStore(engine), account_threshold=3, client_threshold=3),
    )
    stored = await hasher.hash("right-password")

    async def wrong_code() -> None:
        raise InvalidOtpError("invalid code")

    async def right_code() -> None:
        return None

    class NeedsCode(Exception):
        pass

    async def no_code() -> None:
        raise NeedsCode

    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        with pytest.raises(NeedsCode):  # a prompt for the code counts for nothing
            await login.verify(
                "dave", "right-password", stored, client=address, second_factor=no_code
            )
        with pytest.raises(InvalidOtpError):
            await login.verify(
                "dave", "right-password", stored, client=address, second_factor=wrong_code
            )
    with pytest.raises(AccountLockedError):  # locked even with the right code, from a new address
        await login.verify(
            "dave", "right-password", stored, client="10.0.0.9", second_factor=right_code
        )


async def test_a_right_second_factor_resets_the_account(engine: AsyncEngine) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    login = PasswordLogin(
        hasher=hasher, lockout=Lockout(DatabaseLockoutStore(engine), account_threshold=2)
    )
    stored = await hasher.hash("right-password")

    async def wrong_code() -> None:
        raise InvalidOtpError("invalid code")

    async def right_code() -> None:
        return None

    with pytest.raises(InvalidOtpError):
        await login.verify("erin", "right-password", stored, second_factor=wrong_code)
    await login.verify("erin", "right-password", stored, second_factor=right_code)
    with pytest.raises(InvalidOtpError):  # the counter restarted: one failure is no lock
        await login.verify("erin", "right-password", stored, second_factor=wrong_code)
    await login.verify("erin", "right-password", stored, second_factor=right_code)
