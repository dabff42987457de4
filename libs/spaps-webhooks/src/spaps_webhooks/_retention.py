"""Retention of the delivery log and the receipts, as spaps-jobs retention targets.

Built by :meth:`WebhookTables.delivery_retention`, :meth:`WebhookTables.message_retention`
and :meth:`WebhookTables.receipt_retention`; each satisfies
:class:`spaps_jobs.RetentionTarget`, so ``spaps_jobs.Retention`` runs them in batches,
one transaction each, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "DELIVERIES_KEEP",
    "FINISHED",
    "MESSAGES_KEEP",
    "RECEIPTS_KEEP",
    "DeliveryRetention",
    "MessageRetention",
    "ReceiptRetention",
    "check_keep",
]

#: Delivery states that never change again (``pending`` and ``delivering`` still do).
FINISHED = ("succeeded", "failed", "cancelled")

# Defaults (documented in the guide): the delivery log stays a month, long enough for an
# owner to look into a failure and replay it; so do the receiver's receipts.
DELIVERIES_KEEP = timedelta(days=30)
MESSAGES_KEEP = timedelta(days=30)
RECEIPTS_KEEP = timedelta(days=30)


def check_keep(name: str, keep: timedelta | None, default: timedelta) -> timedelta:
    """Validate a constructor's ``name`` and ``keep``; return the keep to use."""
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if keep is None:
        return default
    if not isinstance(keep, timedelta):
        raise TypeError("keep must be a timedelta")
    if keep <= timedelta(0):
        raise ValueError(f"keep must be positive, got {keep}")
    return keep


def _check_batch(cutoff: datetime, limit: int | None = None) -> None:
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be an aware UTC datetime")
    if limit is not None and limit < 1:
        raise ValueError("limit must be >= 1")


class _TableTarget:
    """What the three targets share: a name, a keep, a count, and the batch's keys."""

    table: Table

    def __init__(self, name: str, keep: timedelta) -> None:
        self._name = name
        self._keep = keep

    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    @property
    def default_keep(self) -> timedelta:
        """How long finished rows are kept by default."""
        return self._keep

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} on {self.table.name!r}>"

    def expired(self, cutoff: datetime) -> Sequence[ColumnElement[bool]]:
        raise NotImplementedError

    def oldest_first(self) -> Sequence[ColumnElement[Any]]:
        raise NotImplementedError

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many rows :meth:`purge_batch` would delete in all (reads only).

        Args:
            connection: A connection of the database holding the webhook tables.
            cutoff: Rows finished before this aware UTC datetime are expired.
        """
        _check_batch(cutoff)
        query = select(func.count()).select_from(self.table).where(*self.expired(cutoff))
        return int((await connection.execute(query)).scalar_one())

    async def _keys(self, connection: AsyncConnection, cutoff: datetime, limit: int) -> list[Any]:
        """The keys of up to ``limit`` expired rows, oldest first. On PostgreSQL they are
        locked ``SKIP LOCKED``: two purges at once share the rows instead of waiting."""
        _check_batch(cutoff, limit)
        key = self.table.c.id
        query: Select[Any] = (
            select(key)
            .where(*self.expired(cutoff))
            .order_by(*self.oldest_first(), key)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list((await connection.execute(query)).scalars())


class DeliveryRetention(_TableTarget):
    """Finished deliveries (succeeded, failed for good, or cancelled) completed before the
    cutoff, with their attempts; pending and in-flight deliveries are never touched."""

    def __init__(self, deliveries: Table, attempts: Table, *, name: str, keep: timedelta) -> None:
        super().__init__(name, keep)
        self.table = deliveries
        self._attempts = attempts

    def expired(self, cutoff: datetime) -> Sequence[ColumnElement[bool]]:
        d = self.table.c
        return [d.status.in_(FINISHED), d.completed_at < cutoff]

    def oldest_first(self) -> Sequence[ColumnElement[Any]]:
        return [self.table.c.completed_at]

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete up to ``limit`` expired deliveries, oldest first, after their attempts
        (in the caller's transaction); return how many deliveries.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Deliveries completed before this aware UTC datetime are deleted.
            limit: At most this many deliveries.
        """
        ids = await self._keys(connection, cutoff, limit)
        if not ids:
            return 0
        await connection.execute(
            delete(self._attempts).where(self._attempts.c.delivery_id.in_(ids))
        )
        result = await connection.execute(delete(self.table).where(self.table.c.id.in_(ids)))
        return int(result.rowcount)


class MessageRetention(_TableTarget):
    """Messages created before the cutoff that were fanned out and have no delivery left
    (their deliveries were purged, or no endpoint subscribed). A message still waiting
    for its fan-out, or with any delivery, is never touched."""

    def __init__(self, messages: Table, deliveries: Table, *, name: str, keep: timedelta) -> None:
        super().__init__(name, keep)
        self.table = messages
        self._deliveries = deliveries

    def _unreferenced(self) -> ColumnElement[bool]:
        d = self._deliveries
        return ~exists().where(d.c.message_id == self.table.c.id)

    def expired(self, cutoff: datetime) -> Sequence[ColumnElement[bool]]:
        m = self.table.c
        return [m.fanned_out_at.is_not(None), m.created_at < cutoff, self._unreferenced()]

    def oldest_first(self) -> Sequence[ColumnElement[Any]]:
        return [self.table.c.created_at]

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete up to ``limit`` expired messages, oldest first; return how many.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Messages created before this aware UTC datetime are deleted.
            limit: At most this many messages.
        """
        ids = await self._keys(connection, cutoff, limit)
        if not ids:
            return 0
        # Checked again: a replay may have given one of them a delivery meanwhile.
        result = await connection.execute(
            delete(self.table).where(self.table.c.id.in_(ids), self._unreferenced())
        )
        return int(result.rowcount)


class ReceiptRetention(_TableTarget):
    """Receipts (what a receiver answered) recorded before the cutoff."""

    def __init__(self, receipts: Table, *, name: str, keep: timedelta) -> None:
        super().__init__(name, keep)
        self.table = receipts

    def expired(self, cutoff: datetime) -> Sequence[ColumnElement[bool]]:
        return [self.table.c.received_at < cutoff]

    def oldest_first(self) -> Sequence[ColumnElement[Any]]:
        return [self.table.c.received_at]

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete up to ``limit`` expired receipts, oldest first; return how many.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Receipts recorded before this aware UTC datetime are deleted.
            limit: At most this many receipts.
        """
        ids = await self._keys(connection, cutoff, limit)
        if not ids:
            return 0
        result = await connection.execute(delete(self.table).where(self.table.c.id.in_(ids)))
        return int(result.rowcount)
