"""The SQL dedupe stores (SQLite, PostgreSQL, ...), synchronous and asyncio.

A claim is an ``INSERT`` that conflicts with a live record under the same key, after
purging an expired one, in one short transaction; see ``_dedupe`` for the contract.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import MetaData, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from ._ddl import create_table, create_table_async
from ._dedupe import DedupeRecord, check_key, dedupe_table
from ._retention import RetentionTarget
from ._retention_targets import IDEMPOTENCY_KEEP, TableRetention, check_target_args

__all__ = ["AsyncSqlDedupeStore", "SqlDedupeStore"]


class _SqlStatements:
    """Statements shared by the sync and async SQL stores."""

    def __init__(self, table: Table, dialect: str) -> None:
        self.table = table
        self.dialect = dialect

    def purge_expired(self, key: str, now: float) -> Any:
        t = self.table
        return delete(t).where(t.c.key == key, t.c.expires_at <= now)

    def insert_claim(
        self, key: str, ttl: float, fingerprint: str, now: float
    ) -> tuple[Insert, bool]:
        values = {
            "key": key,
            "done": False,
            "fingerprint": fingerprint,
            "result": None,
            "expires_at": now + ttl,
        }
        stmt: Insert
        if self.dialect == "postgresql":
            stmt = postgresql.insert(self.table).values(values).on_conflict_do_nothing()
            return stmt.returning(self.table.c.key), True
        if self.dialect == "sqlite":
            stmt = sqlite.insert(self.table).values(values).on_conflict_do_nothing()
            return stmt.returning(self.table.c.key), True
        return insert(self.table).values(values), False

    def select(self, key: str, now: float) -> Any:
        t = self.table
        return select(t).where(t.c.key == key, t.c.expires_at > now)

    def complete(self, key: str, result: bytes, ttl: float, now: float) -> Any:
        t = self.table
        return (
            update(t).where(t.c.key == key).values(done=True, result=result, expires_at=now + ttl)
        )

    def release(self, key: str) -> Any:
        t = self.table
        return delete(t).where(t.c.key == key, t.c.done.is_(False))

    @staticmethod
    def record(row: Any) -> DedupeRecord:
        return DedupeRecord(
            key=row.key,
            done=bool(row.done),
            fingerprint=row.fingerprint,
            result=bytes(row.result) if row.result is not None else None,
            expires_at=float(row.expires_at),
        )


class _SqlBase:
    def __init__(self, *, table_name: str, metadata: MetaData | None) -> None:
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("table_name must be a non-empty string")
        self.metadata = metadata if metadata is not None else MetaData()
        existing = self.metadata.tables.get(table_name)
        self.table = existing if existing is not None else dedupe_table(self.metadata, table_name)

    def retention(
        self, *, keep: timedelta | None = None, name: str = "jobs.idempotency"
    ) -> RetentionTarget:
        """The retention target of the expired records (for :class:`~spaps_jobs.Retention`).

        A record expires ``keep`` after its own expiry: a stored result (an idempotent
        response, an inbox record) once its TTL has run out, and is no longer replayed;
        a claim whose owner never completed nor released it once its lease has run out.
        A claim in progress (its lease still running) is never purged.

        Args:
            keep: How long past their expiry records are kept by default (default: 1 hour).
            name: The target's name (e.g. ``"jobs.inbox"`` for a store behind an
                :class:`~spaps_jobs.Inbox`).

        .. versionadded:: 0.5.0
        """
        keep = check_target_args(name, keep, IDEMPOTENCY_KEEP)
        t = self.table
        return TableRetention(
            name=name,
            default_keep=keep,
            table=t,
            # ``expires_at`` is Unix time; the cutoff is always in the past, so a live
            # claim or a result still replayed is never expired.
            expired=lambda cutoff: [t.c.expires_at < cutoff.timestamp()],
            order_by=[t.c.expires_at],
        )


class SqlDedupeStore(_SqlBase):
    """:class:`DedupeStore` on a SQL database (SQLite, PostgreSQL, ...).

    Each call runs in its own short transaction.

    Args:
        engine: A synchronous SQLAlchemy engine.
        table_name: Name of the dedupe table.
        metadata: Define the table on this ``MetaData`` (default: a private one).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table_name: str = "spaps_dedupe",
        metadata: MetaData | None = None,
    ) -> None:
        if not isinstance(engine, Engine):
            raise TypeError(
                "engine must be a sqlalchemy Engine (use AsyncSqlDedupeStore for async)"
            )
        super().__init__(table_name=table_name, metadata=metadata)
        self.engine = engine
        self._sql = _SqlStatements(self.table, engine.dialect.name)

    def create_table(self) -> None:
        """Create the dedupe table if it does not exist (tests, quick starts).

        Safe when several processes call it at once.
        """
        create_table(self.table, self.engine)

    def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""
        check_key(key, ttl)
        now = time.time()
        stmt, ignores_conflicts = self._sql.insert_claim(key, ttl, fingerprint, now)
        try:
            with self.engine.begin() as conn:
                conn.execute(self._sql.purge_expired(key, now))
                return _inserted(conn.execute(stmt), ignores_conflicts)
        except IntegrityError:
            return False

    def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""
        check_key(key)
        with self.engine.connect() as conn:
            row = conn.execute(self._sql.select(key, time.time())).first()
        return None if row is None else self._sql.record(row)

    def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""
        check_key(key, ttl)
        with self.engine.begin() as conn:
            _complete(conn, self._sql, key, result, ttl)

    def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""
        check_key(key)
        with self.engine.begin() as conn:
            conn.execute(self._sql.release(key))


class AsyncSqlDedupeStore(_SqlBase):
    """:class:`AsyncDedupeStore` on a SQL database through an ``AsyncEngine``.

    Args:
        engine: An asyncio SQLAlchemy engine (asyncpg, aiosqlite, psycopg async).
        table_name: Name of the dedupe table.
        metadata: Define the table on this ``MetaData`` (default: a private one).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        table_name: str = "spaps_dedupe",
        metadata: MetaData | None = None,
    ) -> None:
        if not isinstance(engine, AsyncEngine):
            raise TypeError("engine must be a sqlalchemy AsyncEngine (use SqlDedupeStore for sync)")
        super().__init__(table_name=table_name, metadata=metadata)
        self.engine = engine
        self._sql = _SqlStatements(self.table, engine.dialect.name)

    async def create_table(self) -> None:
        """Create the dedupe table if it does not exist (tests, quick starts).

        Safe when several processes call it at once.
        """
        await create_table_async(self.table, self.engine)

    async def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""
        check_key(key, ttl)
        now = time.time()
        stmt, ignores_conflicts = self._sql.insert_claim(key, ttl, fingerprint, now)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(self._sql.purge_expired(key, now))
                return _inserted(await conn.execute(stmt), ignores_conflicts)
        except IntegrityError:
            return False

    async def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""
        check_key(key)
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._sql.select(key, time.time()))).first()
        return None if row is None else self._sql.record(row)

    async def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""
        check_key(key, ttl)
        async with self.engine.begin() as conn:
            await _acomplete(conn, self._sql, key, result, ttl)

    async def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""
        check_key(key)
        async with self.engine.begin() as conn:
            await conn.execute(self._sql.release(key))


def _inserted(result: Any, ignores_conflicts: bool) -> bool:
    # ON CONFLICT DO NOTHING ... RETURNING yields no row on a conflict (drivers do not all
    # report a rowcount for it); a plain INSERT raises IntegrityError instead.
    if ignores_conflicts:
        return result.first() is not None
    return True


def _complete(conn: Connection, sql: _SqlStatements, key: str, result: bytes, ttl: float) -> None:
    now = time.time()
    if conn.execute(sql.complete(key, result, ttl, now)).rowcount == 0:
        # The lease ran out and the row was purged: store the result anyway.
        stmt, _ = sql.insert_claim(key, ttl, "", now)
        conn.execute(stmt)
        conn.execute(sql.complete(key, result, ttl, now))


async def _acomplete(
    conn: AsyncConnection, sql: _SqlStatements, key: str, result: bytes, ttl: float
) -> None:
    now = time.time()
    if (await conn.execute(sql.complete(key, result, ttl, now))).rowcount == 0:
        stmt, _ = sql.insert_claim(key, ttl, "", now)
        await conn.execute(stmt)
        await conn.execute(sql.complete(key, result, ttl, now))
