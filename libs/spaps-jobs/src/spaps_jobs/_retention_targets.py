"""spaps-jobs' own retention targets: finished rows of the outbox, inbox, dedupe and
dead-letter tables.

Each public object builds its target (``Outbox.retention()``, ``SqlInbox.retention()``,
``SqlDedupeStore.retention()``, ``DeadLetterStore.retention()``); they are all a
:class:`TableRetention` with the condition that says a row of that table is finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, func, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "DEAD_LETTERS_KEEP",
    "IDEMPOTENCY_KEEP",
    "INBOX_KEEP",
    "OUTBOX_KEEP",
    "TableRetention",
    "check_target_args",
]

# Defaults (documented in the guide). The outbox and the inbox keep a week, like the
# relay's ``retention`` and the ``Inbox`` TTL: far longer than any redelivery takes.
OUTBOX_KEEP = timedelta(days=7)
INBOX_KEEP = timedelta(days=7)
# A dedupe record is already dead once it expires (its TTL or lease is in the row).
IDEMPOTENCY_KEEP = timedelta(hours=1)
# Long enough for someone to look at a failure and requeue it.
DEAD_LETTERS_KEEP = timedelta(days=30)

Expired = Callable[[datetime], Sequence[ColumnElement[bool]]]


def check_target_args(name: str, keep: timedelta | None, default: timedelta) -> timedelta:
    """Validate a target constructor's ``name`` and ``keep``; return the keep to use."""
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if keep is None:
        return default
    if not isinstance(keep, timedelta):
        raise TypeError("keep must be a timedelta")
    if keep <= timedelta(0):
        raise ValueError(f"keep must be positive, got {keep}")
    return keep


class TableRetention:
    """A retention target over one table (satisfies ``RetentionTarget``).

    A batch selects the primary keys of up to ``limit`` expired rows, oldest first, and
    deletes them by key. On PostgreSQL the selected rows are locked ``SKIP LOCKED``, so
    two purges running at once share the rows instead of waiting for each other.

    Args:
        name: The target's name.
        default_keep: How long finished rows are kept by default.
        table: The table.
        expired: The conditions that make a row expired, given the cutoff.
        order_by: Oldest first.
        optional: The table may not exist yet (it is created on first use): then
            nothing is expired.
    """

    def __init__(
        self,
        *,
        name: str,
        default_keep: timedelta,
        table: Table,
        expired: Expired,
        order_by: Sequence[ColumnElement[object]],
        optional: bool = False,
    ) -> None:
        self._name = name
        self._default_keep = default_keep
        self.table = table
        self.expired = expired
        self.order_by = tuple(order_by)
        self.optional = optional
        self.keys = tuple(table.primary_key.columns)

    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    @property
    def default_keep(self) -> timedelta:
        """How long finished rows are kept by default."""
        return self._default_keep

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} on {self.table.name!r}>"

    async def _missing(self, connection: AsyncConnection) -> bool:
        if not self.optional:
            return False
        table = self.table
        return not await connection.run_sync(
            lambda sync: inspect(sync).has_table(table.name, schema=table.schema)
        )

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many rows :meth:`purge_batch` would delete in all (reads only)."""
        if await self._missing(connection):
            return 0
        query = select(func.count()).select_from(self.table).where(*self.expired(cutoff))
        return int((await connection.execute(query)).scalar_one())

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Delete up to ``limit`` expired rows, oldest first; return how many."""
        if await self._missing(connection):
            return 0
        victims = (
            select(*self.keys)
            .where(*self.expired(cutoff))
            .order_by(*self.order_by, *self.keys)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            victims = victims.with_for_update(skip_locked=True)
        rows = (await connection.execute(victims)).all()
        if not rows:
            return 0
        if len(self.keys) == 1:
            condition = self.keys[0].in_([row[0] for row in rows])
        else:
            condition = tuple_(*self.keys).in_([tuple(row) for row in rows])
        result = await connection.execute(delete(self.table).where(condition))
        # Another purge may have deleted some of them since (without row locks).
        return int(result.rowcount)
