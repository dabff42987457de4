"""The four tables of spaps-webhooks, on the caller's ``MetaData``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from ._retention import (
    DELIVERIES_KEEP,
    MESSAGES_KEEP,
    RECEIPTS_KEEP,
    DeliveryRetention,
    MessageRetention,
    ReceiptRetention,
    check_keep,
)

if TYPE_CHECKING:
    # Only a type: the targets satisfy it structurally, so any spaps-jobs runs them.
    from spaps_jobs import RetentionTarget


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Row:
    """ORM row class; one subclass is mapped per messages table (``publish`` adds one)."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)


class WebhookTables:
    """The endpoint, message, delivery and attempt tables, and the receiver's receipts.

    Args:
        metadata: The application's ``MetaData`` (so its migrations see the tables).
        prefix: Table name prefix (default ``"webhook_"``).
    """

    def __init__(self, metadata: MetaData, *, prefix: str = "webhook_") -> None:
        if not isinstance(metadata, MetaData):
            raise TypeError("metadata must be a sqlalchemy.MetaData")
        if not prefix.replace("_", "").isalnum():
            raise ValueError("prefix may contain letters, digits and underscores only")
        self.metadata = metadata
        self.endpoints = Table(
            f"{prefix}endpoints",
            metadata,
            Column("id", String(40), primary_key=True),
            Column("owner", String(255), nullable=False, index=True),
            Column("url", Text, nullable=False),
            Column("description", Text, nullable=False, default=""),
            Column("event_types", JSON, nullable=False),
            # Sealed values (``sealed:v1:<kid>:...``) are longer than the secrets.
            Column("secret", String(512), nullable=False),
            Column("previous_secret", String(512)),
            Column("previous_secret_expires_at", UTCDateTime),
            Column("enabled", Boolean, nullable=False, default=True),
            Column("disabled_reason", Text),
            Column("failing_since", UTCDateTime),
            Column("created_at", UTCDateTime, nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
        )
        self.messages = Table(
            f"{prefix}messages",
            metadata,
            Column("id", String(64), primary_key=True),
            Column("owner", String(255), nullable=False),
            Column("event_type", String(255), nullable=False),
            # The exact body that is signed and sent, serialized once.
            Column("body", Text, nullable=False),
            Column("endpoint_id", String(40)),  # set when the message targets one endpoint
            Column("created_at", UTCDateTime, nullable=False),
            # NULL until its deliveries exist; the sweeper fans out messages left NULL.
            Column("fanned_out_at", UTCDateTime, index=True),
            Index(f"ix_{prefix}messages_owner_created", "owner", "created_at"),
        )
        # What a receiver answered (``SqlReceiptLog``): accepted, duplicate, rejected.
        self.receipts = Table(
            f"{prefix}receipts",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("webhook_id", String(256)),
            Column("outcome", String(16), nullable=False),
            Column("status", Integer, nullable=False),
            Column("code", String(64)),
            Column("detail", Text),
            Column("size", Integer, nullable=False),
            Column("received_at", UTCDateTime, nullable=False, index=True),
        )
        # ``publish`` stages the message row with ``session.add`` (a Session or an
        # AsyncSession alike), so it commits or rolls back with the producer.
        self.message_row: type[_Row] = type("WebhookMessageRow", (_Row,), {})
        registry(metadata=metadata).map_imperatively(self.message_row, self.messages)
        self.deliveries = Table(
            f"{prefix}deliveries",
            metadata,
            Column("id", String(40), primary_key=True),
            Column(
                "message_id", String(64), ForeignKey(self.messages.c.id), nullable=False, index=True
            ),
            Column("endpoint_id", String(40), nullable=False, index=True),
            # pending -> delivering -> succeeded | pending (retry) | failed | cancelled
            Column("status", String(16), nullable=False),
            Column("attempts", Integer, nullable=False, default=0),
            Column("next_attempt_at", UTCDateTime),
            Column("lease_until", UTCDateTime),
            Column("enqueued_until", UTCDateTime),
            Column("last_status_code", Integer),
            Column("last_error", Text),
            Column("created_at", UTCDateTime, nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
            Column("completed_at", UTCDateTime),
            Index(f"ix_{prefix}deliveries_due", "status", "next_attempt_at"),
        )
        self.attempts = Table(
            f"{prefix}attempts",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("delivery_id", String(40), nullable=False, index=True),
            Column("message_id", String(64), nullable=False, index=True),
            Column("endpoint_id", String(40), nullable=False, index=True),
            Column("number", Integer, nullable=False),
            Column("started_at", UTCDateTime, nullable=False),
            Column("status_code", Integer),
            Column("latency_ms", Float),
            Column("response_excerpt", Text),
            Column("error", Text),
            Column("succeeded", Boolean, nullable=False),
        )

    def delivery_retention(
        self, *, keep: timedelta | None = None, name: str = "webhooks.deliveries"
    ) -> RetentionTarget:
        """The retention target of the finished deliveries (for ``spaps_jobs.Retention``).

        A delivery is finished once it succeeded, failed for good (its retries ran out,
        or the endpoint answered 410) or was cancelled; it expires ``keep`` after it
        completed, and its attempts go with it (first, in the same transaction). Pending
        deliveries, those waiting for a retry and those in flight are never purged.

        Args:
            keep: How long finished deliveries are kept by default (default: 30 days).
            name: The target's name (two sets of webhook tables need two).

        .. versionadded:: 0.5.0
        """
        keep = check_keep(name, keep, DELIVERIES_KEEP)
        return DeliveryRetention(self.deliveries, self.attempts, name=name, keep=keep)

    def message_retention(
        self, *, keep: timedelta | None = None, name: str = "webhooks.messages"
    ) -> RetentionTarget:
        """The retention target of the messages whose delivery log is gone.

        A message expires ``keep`` after it was created once it was fanned out and has
        no delivery left: run it after :meth:`delivery_retention` (a message with any
        delivery, or still waiting for its fan-out, is never purged). Its row is what
        makes a second fan-out of the same message a no-op, so keep it longer than the
        outbox may publish a message again (``Outbox.retention`` keeps 7 days).

        Args:
            keep: How long messages are kept by default (default: 30 days).
            name: The target's name.

        .. versionadded:: 0.5.0
        """
        keep = check_keep(name, keep, MESSAGES_KEEP)
        return MessageRetention(self.messages, self.deliveries, name=name, keep=keep)

    def receipt_retention(
        self, *, keep: timedelta | None = None, name: str = "webhooks.receipts"
    ) -> RetentionTarget:
        """The retention target of the receiver's receipts (``SqlReceiptLog``).

        A receipt expires ``keep`` after it was recorded. Receipts are the log of what
        a receiver answered; replay protection does not read them (a ``ReplayGuard``
        does), so purging them never lets a replay through.

        Args:
            keep: How long receipts are kept by default (default: 30 days).
            name: The target's name.

        .. versionadded:: 0.5.0
        """
        keep = check_keep(name, keep, RECEIPTS_KEEP)
        return ReceiptRetention(self.receipts, name=name, keep=keep)
