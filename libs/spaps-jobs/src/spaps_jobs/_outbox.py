"""Transactional outbox: write events in the caller's SQLAlchemy transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
)
from sqlalchemy.orm import registry

__all__ = ["Outbox", "OutboxMessage"]

MAX_TOPIC_LENGTH = 255
MAX_MESSAGE_ID_LENGTH = 64


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
    """

    id: str
    topic: str
    payload: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    attempts: int = 0


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

    Args:
        metadata: The caller's ``MetaData``; the table is defined on it so migrations
            (Alembic autogenerate) and ``metadata.create_all`` include it.
        table_name: Name of the outbox table.
    """

    def __init__(self, metadata: MetaData, *, table_name: str = "spaps_outbox") -> None:
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
