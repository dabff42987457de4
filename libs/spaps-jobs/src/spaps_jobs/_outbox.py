"""Transactional outbox: write events in the caller's SQLAlchemy transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Update,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, registry

from ._retention import RetentionTarget
from ._retention_targets import OUTBOX_KEEP, TableRetention, check_target_args

__all__ = ["Confirm", "Outbox", "OutboxMessage"]

MAX_TOPIC_LENGTH = 255
MAX_MESSAGE_ID_LENGTH = 64


Confirm = Callable[[str], None]
"""Records that the consumer of a message id has recorded it (see :meth:`Outbox.confirmer`)."""


class _SessionLike(Protocol):
    # Both ``Session.add`` and ``AsyncSession.add`` are plain (non-async) methods.
    def add(self, instance: object) -> None: ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One event read from the outbox by a relay.

    Args:
        id: The message id (unique; consumers dedupe on it).
        topic: What the event is about; dispatchers route on it.
        payload: JSON-serialisable body.
        headers: String headers given to ``Outbox.add``.
        created_at: When ``add`` was called (UTC).
        attempts: Failed relay passes before this one.
        publishes: Times it was published before (``0`` on the first publish; more
            when the relay re-sends an unconfirmed message).
    """

    id: str
    topic: str
    payload: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    attempts: int = 0
    publishes: int = 0


class _Row:
    """ORM row class; one subclass is mapped per :class:`Outbox` table."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """The outbox table and the ``add`` call that writes to it.

    ``add`` only calls ``session.add(...)``: the event is inserted when the caller's
    session flushes and disappears if the caller's transaction rolls back, with both
    ``Session`` and ``AsyncSession``.

    With ``confirmations=True`` the table also tracks end-to-end acknowledgement: a
    message is done when its consumer records it (:meth:`confirm`, or
    :class:`~spaps_jobs.SqlInbox` / :class:`~spaps_jobs.Inbox` given this outbox), and
    a :class:`~spaps_jobs.Relay` with a :class:`~spaps_jobs.Redelivery` policy sends
    again what stays unconfirmed. Four columns are added: ``confirmed_at``,
    ``redeliver_at``, ``publishes`` and ``dead_lettered_at`` (a migration for an
    existing table).

    Args:
        metadata: The caller's ``MetaData``; the table is defined on it so migrations
            (Alembic autogenerate) and ``metadata.create_all`` include it.
        table_name: Name of the outbox table.
        confirmations: Track consumer confirmations (needed for redelivery).

    .. versionchanged:: 0.3.0 ``confirmations``.
    """

    def __init__(
        self, metadata: MetaData, *, table_name: str = "spaps_outbox", confirmations: bool = False
    ) -> None:
        if not isinstance(metadata, MetaData):
            raise TypeError("metadata must be a sqlalchemy MetaData")
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("table_name must be a non-empty string")
        if table_name in metadata.tables:
            raise ValueError(f"table {table_name!r} is already defined on this MetaData")
        self.metadata = metadata
        self.table_name = table_name
        self.table = Table(
            table_name,
            metadata,
            # SQLite only auto-increments an INTEGER PRIMARY KEY.
            Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("message_id", String(MAX_MESSAGE_ID_LENGTH), nullable=False, unique=True),
            Column("topic", String(MAX_TOPIC_LENGTH), nullable=False),
            Column("payload", JSON, nullable=False),
            Column("headers", JSON, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False, default=_utcnow),
            Column("sent_at", DateTime(timezone=True), nullable=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text, nullable=True),
        )
        self.confirmations = bool(confirmations)
        if self.confirmations:
            for column in (
                Column("confirmed_at", DateTime(timezone=True), nullable=True),
                # When to publish again if still unconfirmed; NULL once confirmed or dead.
                Column("redeliver_at", DateTime(timezone=True), nullable=True),
                Column("publishes", Integer, nullable=False, default=0, server_default="0"),
                Column("dead_lettered_at", DateTime(timezone=True), nullable=True),
            ):
                self.table.append_column(column)
            redeliver_at = self.table.c.redeliver_at
            Index(
                f"ix_{table_name}_redeliver",
                redeliver_at,
                postgresql_where=redeliver_at.is_not(None),
                sqlite_where=redeliver_at.is_not(None),
            )
        sent_at = self.table.c.sent_at
        # Relays scan pending rows in ``seq`` order: keep that index small where possible.
        Index(
            f"ix_{table_name}_pending",
            self.table.c.seq,
            postgresql_where=sent_at.is_(None),
            sqlite_where=sent_at.is_(None),
        )
        Index(f"ix_{table_name}_sent_at", sent_at)
        self.row_class: type[_Row] = type(f"OutboxRow_{table_name}", (_Row,), {})
        registry(metadata=metadata).map_imperatively(self.row_class, self.table)

    def add(
        self,
        session: _SessionLike,
        topic: str,
        payload: Any,
        *,
        message_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Stage an event in ``session``; it commits or rolls back with the caller.

        Args:
            session: A SQLAlchemy ``Session`` or ``AsyncSession``.
            topic: Routing key of the event (e.g. ``"result.ready"``).
            payload: JSON-serialisable body.
            message_id: Unique id (default: a random UUID); consumers dedupe on it.
            headers: Extra string headers carried to the consumer.

        Returns:
            The message id.
        """
        if not isinstance(topic, str) or not topic or len(topic) > MAX_TOPIC_LENGTH:
            raise ValueError(
                f"topic must be a non-empty string of at most {MAX_TOPIC_LENGTH} chars"
            )
        if message_id is None:
            message_id = uuid.uuid4().hex
        elif not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
            raise ValueError(f"message_id must be 1..{MAX_MESSAGE_ID_LENGTH} characters")
        clean_headers = dict(headers or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in clean_headers.items()):
            raise TypeError("headers must map strings to strings")
        # Fail in the caller's request, not hours later in the relay.
        json.dumps(payload)
        session.add(
            self.row_class(
                message_id=message_id,
                topic=topic,
                payload=payload,
                headers=clean_headers,
                created_at=_utcnow(),
                attempts=0,
            )
        )
        return message_id

    def retention(
        self, *, keep: timedelta | None = None, name: str = "jobs.outbox"
    ) -> RetentionTarget:
        """The retention target of this outbox's finished rows (for :class:`~spaps_jobs.Retention`).

        A row is finished once sent; with ``confirmations=True``, once its consumer
        confirmed it (or the relay dead-lettered it after its last publish), and it
        expires that long after. Pending rows and rows still waiting for their
        confirmation are never purged.

        Args:
            keep: How long finished rows are kept by default (default: 7 days).
            name: The target's name (two outboxes in one service need two).

        .. versionadded:: 0.5.0
        """
        keep = check_target_args(name, keep, OUTBOX_KEEP)
        t = self.table

        def expired(cutoff: datetime) -> list[Any]:
            if not self.confirmations:
                return [t.c.sent_at.is_not(None), t.c.sent_at < cutoff]
            return [
                t.c.sent_at.is_not(None),
                (t.c.confirmed_at < cutoff) | (t.c.dead_lettered_at < cutoff),
            ]

        return TableRetention(
            name=name, default_keep=keep, table=t, expired=expired, order_by=[t.c.seq]
        )

    def confirm_statement(self, message_id: str, *, now: datetime | None = None) -> Update:
        """The ``UPDATE`` that marks ``message_id`` confirmed (no-op when it already is)."""
        if not self.confirmations:
            raise ValueError("this Outbox was built without confirmations=True")
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("message_id must be a non-empty string")
        t = self.table
        return (
            update(t)
            .where(t.c.message_id == message_id, t.c.confirmed_at.is_(None))
            .values(confirmed_at=now or _utcnow(), redeliver_at=None)
        )

    def confirm(self, session: Session | Connection, message_id: str) -> bool:
        """Record in ``session``'s transaction that the consumer recorded ``message_id``.

        Call it in the consumer's transaction (the one that records the effect and the
        inbox row) for redeliveries too: confirming twice is harmless.

        Returns:
            ``True`` if this call confirmed it, ``False`` if it was confirmed already
            (or is not in this outbox).
        """
        result = session.execute(self.confirm_statement(message_id))
        return bool(getattr(result, "rowcount", 0))

    async def confirm_async(self, session: AsyncSession | AsyncConnection, message_id: str) -> bool:
        """:meth:`confirm` for an ``AsyncSession`` or ``AsyncConnection``."""
        result = await session.execute(self.confirm_statement(message_id))
        return bool(getattr(result, "rowcount", 0))

    def confirmer(self, engine: Engine) -> Confirm:
        """A :data:`Confirm` callable that confirms each id in its own transaction.

        For consumers whose effect is not in the outbox's database (give it to
        :class:`~spaps_jobs.Inbox` as ``confirm=``).
        """
        if not isinstance(engine, Engine):
            raise TypeError("engine must be a synchronous sqlalchemy Engine")
        if not self.confirmations:
            raise ValueError("this Outbox was built without confirmations=True")

        def confirm(message_id: str) -> None:
            with engine.begin() as conn:
                conn.execute(self.confirm_statement(message_id))

        return confirm
