"""SqlInbox: the inbox row and the consumer's effect commit in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ._metrics import InboxMetrics
from ._outbox import Outbox
from ._retention import RetentionTarget
from ._retention_targets import INBOX_KEEP, TableRetention, check_target_args

__all__ = ["SqlInbox"]


class SqlInbox:
    """Exactly-once effects for consumers whose effect lives in the same SQL database.

    :meth:`accept` inserts ``(consumer, message_id)`` in the caller's transaction and
    says whether the message is new. Do the effect in the same transaction: if it
    commits, the id is recorded with it; if it rolls back (or the worker dies), neither
    happened and the redelivery runs again. On PostgreSQL a concurrent duplicate waits
    for the first transaction and then sees the id (``ON CONFLICT DO NOTHING``).
    Unlike :class:`~spaps_jobs.Inbox` there is no window between effect and record.

    Given the ``outbox`` the messages come from (built with ``confirmations=True``, in
    the same database), :meth:`accept` also confirms the message in the same
    transaction, first delivery or duplicate: the relay stops re-sending it exactly
    when the effect has committed.

    Args:
        metadata: The caller's ``MetaData`` (the table joins its migrations).
        table_name: Name of the inbox table.
        outbox: Confirm accepted messages in this outbox (end-to-end acknowledgement).
        metrics: Counts processed and duplicate messages (default: global registry).

    .. versionchanged:: 0.3.0 ``outbox`` and ``metrics``.
    """

    def __init__(
        self,
        metadata: MetaData,
        *,
        table_name: str = "spaps_inbox",
        outbox: Outbox | None = None,
        metrics: InboxMetrics | None = None,
    ) -> None:
        if not isinstance(metadata, MetaData):
            raise TypeError("metadata must be a sqlalchemy MetaData")
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("table_name must be a non-empty string")
        if outbox is not None and not (isinstance(outbox, Outbox) and outbox.confirmations):
            raise ValueError("outbox must be an Outbox built with confirmations=True")
        self.outbox = outbox
        self.metrics = metrics if metrics is not None else InboxMetrics.default()
        self.table = Table(
            table_name,
            metadata,
            Column("consumer", String(128), nullable=False),
            Column("message_id", String(255), nullable=False),
            Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
            PrimaryKeyConstraint("consumer", "message_id"),
        )

    def _insert(self, dialect: str, consumer: str, message_id: str) -> tuple[Any, bool]:
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("message_id must be a non-empty string")
        if not isinstance(consumer, str) or not consumer:
            raise ValueError("consumer must be a non-empty string")
        values = {"consumer": consumer, "message_id": message_id, "processed_at": datetime.now(UTC)}
        if dialect == "postgresql":
            pg = postgresql.insert(self.table).values(values).on_conflict_do_nothing()
            return pg.returning(self.table.c.message_id), True
        if dialect == "sqlite":
            lite = sqlite.insert(self.table).values(values).on_conflict_do_nothing()
            return lite.returning(self.table.c.message_id), True
        return self.table.insert().values(values), False

    def accept(self, session: Session, message_id: str, *, consumer: str = "default") -> bool:
        """Record ``message_id`` in ``session``'s transaction; ``False`` if already there.

        Args:
            session: The consumer's ``Session``, inside the transaction of the effect.
            message_id: The message id (e.g. ``message_id_of(task.request)``).
            consumer: Name of the consuming handler (one record per consumer).
        """
        stmt, upsert = self._insert(session.get_bind().dialect.name, consumer, message_id)
        if upsert:
            new = session.execute(stmt).first() is not None
        else:
            try:
                with session.begin_nested():
                    session.execute(stmt)
                new = True
            except IntegrityError:
                new = False
        if self.outbox is not None:
            session.execute(self.outbox.confirm_statement(message_id))
        return self._count(consumer, new)

    def _count(self, consumer: str, new: bool) -> bool:
        outcome = "processed" if new else "duplicate"
        self.metrics.messages.labels(consumer, outcome).inc()
        return new

    async def accept_async(
        self, session: AsyncSession, message_id: str, *, consumer: str = "default"
    ) -> bool:
        """:meth:`accept` for an ``AsyncSession``."""
        stmt, upsert = self._insert(session.get_bind().dialect.name, consumer, message_id)
        if upsert:
            new = (await session.execute(stmt)).first() is not None
        else:
            try:
                async with session.begin_nested():
                    await session.execute(stmt)
                new = True
            except IntegrityError:
                new = False
        if self.outbox is not None:
            await session.execute(self.outbox.confirm_statement(message_id))
        return self._count(consumer, new)

    def retention(
        self, *, keep: timedelta | None = None, name: str = "jobs.inbox"
    ) -> RetentionTarget:
        """The retention target of the processed ids (for :class:`~spaps_jobs.Retention`).

        An id expires ``keep`` after it was processed; keep ids longer than any
        redelivery can take (outbox redelivery, broker redelivery, a backlog).

        Args:
            keep: How long processed ids are kept by default (default: 7 days).
            name: The target's name.

        .. versionadded:: 0.5.0
        """
        keep = check_target_args(name, keep, INBOX_KEEP)
        t = self.table
        return TableRetention(
            name=name,
            default_keep=keep,
            table=t,
            expired=lambda cutoff: [t.c.processed_at < cutoff],
            order_by=[t.c.processed_at],
        )

    def purge(self, engine: Engine, *, older_than: timedelta) -> int:
        """Forget ids processed before ``now - older_than``; return how many.

        Keep ids longer than any redelivery can take (outbox retries, broker redelivery).
        """
        cutoff = datetime.now(UTC) - older_than
        with engine.begin() as conn:
            result = conn.execute(delete(self.table).where(self.table.c.processed_at < cutoff))
        return int(result.rowcount)
