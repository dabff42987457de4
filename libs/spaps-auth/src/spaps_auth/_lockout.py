"""Failed-attempt tracking per account and per client with escalating cooldowns."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, utcnow
from ._errors import AccountLockedError
from ._tables import login_failures

__all__ = ["DatabaseLockoutStore", "Lockout", "LockoutStore"]

logger = logging.getLogger("spaps_auth.lockout")


class LockoutStore(Protocol):
    """Shared counters behind :class:`Lockout` (database or Redis)."""

    async def locked_until(self, keys: list[str], now: datetime) -> datetime | None:
        """The latest lock expiry among ``keys`` that is still in the future."""

    async def record_failure(self, key: str, now: datetime, window: timedelta) -> int:
        """Count one failure; counters older than ``window`` restart at 1. Returns the count."""

    async def lock(self, key: str, until: datetime) -> None:
        """Lock ``key`` until ``until``."""

    async def reset(self, key: str) -> None:
        """Forget failures and locks of ``key``."""


class DatabaseLockoutStore:
    """:class:`LockoutStore` on the ``auth_login_failures`` table (shared by all processes).

    Args:
        engine: Async engine holding the spaps-auth tables.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def locked_until(self, keys: list[str], now: datetime) -> datetime | None:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(login_failures.c.locked_until).where(
                        login_failures.c.key.in_(keys), login_failures.c.locked_until > now
                    )
                )
            ).all()
        return max((r.locked_until for r in rows), default=None)

    async def record_failure(self, key: str, now: datetime, window: timedelta) -> int:
        for _ in range(5):
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    update(login_failures)
                    .where(login_failures.c.key == key)
                    .values(
                        failures=case(
                            (login_failures.c.last_failure_at < now - window, 1),
                            else_=login_failures.c.failures + 1,
                        ),
                        last_failure_at=now,
                    )
                )
                if result.rowcount == 1:
                    count = (
                        await conn.execute(
                            select(login_failures.c.failures).where(login_failures.c.key == key)
                        )
                    ).scalar_one()
                    return int(count)
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(
                        insert(login_failures).values(key=key, failures=1, last_failure_at=now)
                    )
                return 1
            except IntegrityError:
                continue  # another process inserted first: update its row
        raise RuntimeError("could not record the failed attempt")

    async def lock(self, key: str, until: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(login_failures).where(login_failures.c.key == key).values(locked_until=until)
            )

    async def reset(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(login_failures).where(login_failures.c.key == key))


class Lockout:
    """Locks an account, or a client, after repeated failures; each further failure after
    the threshold doubles the cooldown (up to ``max_cooldown``).

    Account locks stop guessing one password; client locks stop one client spraying
    many accounts. A success resets the account counter only.

    Args:
        store: Shared counters (:class:`DatabaseLockoutStore` or ``RedisLockoutStore``).
        account_threshold: Failures per account before the first lock.
        client_threshold: Failures per client (IP) before the first lock.
        base_cooldown: First lock duration.
        max_cooldown: Cap of the escalating cooldown.
        window: Failures older than this (since the last one) are forgotten.
        fail_open: When the store fails (Redis or database down): ``True`` logs and lets
            the attempt through unthrottled, ``False`` logs and re-raises (no logins).
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        store: LockoutStore,
        *,
        account_threshold: int = 5,
        client_threshold: int = 20,
        base_cooldown: timedelta = timedelta(seconds=30),
        max_cooldown: timedelta = timedelta(hours=1),
        window: timedelta = timedelta(hours=24),
        fail_open: bool = True,
        clock: Now = utcnow,
    ) -> None:
        if account_threshold < 1 or client_threshold < 1:
            raise ValueError("thresholds must be >= 1")
        if base_cooldown <= timedelta(0) or max_cooldown < base_cooldown:
            raise ValueError("base_cooldown must be positive and <= max_cooldown")
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self._store = store
        self._thresholds = {"account": account_threshold, "client": client_threshold}
        self._base = base_cooldown
        self._max = max_cooldown
        self._window = window
        self._fail_open = fail_open
        self._clock = clock

    def _store_failed(self, operation: str, exc: Exception) -> None:
        logger.warning(
            "lockout store failed during %s (%s); failing %s",
            operation,
            type(exc).__name__,
            "open" if self._fail_open else "closed",
        )
        if not self._fail_open:
            raise exc

    @staticmethod
    def _keys(account: str, client: str | None) -> list[tuple[str, str]]:
        keys = [("account", "account:" + account.casefold())]
        if client:
            keys.append(("client", "client:" + client))
        return keys

    async def check(self, account: str, client: str | None = None) -> None:
        """Raise :class:`AccountLockedError` when the account or the client is locked."""
        now = self._clock()
        try:
            until = await self._store.locked_until([k for _, k in self._keys(account, client)], now)
        except Exception as exc:  # any store outage (driver-specific types) is handled alike
            self._store_failed("check", exc)
            return
        if until is not None:
            raise AccountLockedError(int((until - now).total_seconds()) + 1)

    def cooldown(self, failures: int, threshold: int) -> timedelta | None:
        """Lock duration after ``failures`` consecutive failures (``None``: no lock)."""
        if failures < threshold:
            return None
        exponent = min(failures - threshold, 20)
        return min(self._base * (1 << exponent), self._max)

    async def record_failure(self, account: str, client: str | None = None) -> None:
        """Count a failed attempt for the account and the client (locking when due)."""
        now = self._clock()
        try:
            for kind, key in self._keys(account, client):
                failures = await self._store.record_failure(key, now, self._window)
                cooldown = self.cooldown(failures, self._thresholds[kind])
                if cooldown is not None:
                    await self._store.lock(key, now + cooldown)
        except Exception as exc:  # any store outage (driver-specific types) is handled alike
            self._store_failed("record_failure", exc)

    async def record_success(self, account: str) -> None:
        """Reset the account's counter after a successful login."""
        try:
            await self._store.reset("account:" + account.casefold())
        except Exception as exc:  # any store outage (driver-specific types) is handled alike
            self._store_failed("record_success", exc)
