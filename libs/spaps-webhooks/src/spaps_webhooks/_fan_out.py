"""Fan-out: store a message and create one pending delivery per matching endpoint."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ._models import new_id
from ._tables import WebhookTables


def make_body(event_type: str, data: Mapping[str, Any], timestamp: datetime) -> str:
    """The JSON body of a message: ``{"type", "timestamp", "data"}`` (Standard Webhooks)."""
    return json.dumps(
        {"type": event_type, "timestamp": timestamp.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


def fan_out(
    conn: Connection,
    tables: WebhookTables,
    message: Mapping[str, Any],
    *,
    now: datetime,
    enqueued_until: datetime,
) -> list[str]:
    """Store ``message`` and create its deliveries inside the caller's transaction.

    Args:
        conn: A connection inside a transaction (the caller commits).
        tables: The webhook tables.
        message: ``{"id", "owner", "event_type", "body", "created_at"}`` and optionally
            ``"endpoint_id"`` (deliver to that endpoint only).
        now: When the deliveries are created and first due.
        enqueued_until: Until when the sweeper leaves the new deliveries alone (the caller
            enqueues them itself).

    Returns:
        The ids of the deliveries created; empty when the message is already stored.
    """
    t = tables
    created = message["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if conn.execute(select(t.messages.c.id).where(t.messages.c.id == message["id"])).first():
        return []
    conn.execute(
        t.messages.insert().values(
            id=message["id"],
            owner=message["owner"],
            event_type=message["event_type"],
            body=message["body"],
            endpoint_id=message.get("endpoint_id"),
            created_at=created,
        )
    )
    query = select(t.endpoints).where(
        t.endpoints.c.owner == message["owner"], t.endpoints.c.enabled.is_(True)
    )
    if message.get("endpoint_id"):
        query = query.where(t.endpoints.c.id == message["endpoint_id"])
    targets = [
        row.id
        for row in conn.execute(query)
        if message.get("endpoint_id")
        or not row.event_types
        or message["event_type"] in row.event_types
    ]
    return _create_deliveries(
        conn, tables, message["id"], targets, now=now, enqueued_until=enqueued_until
    )


def _create_deliveries(
    conn: Connection,
    tables: WebhookTables,
    message_id: str,
    endpoint_ids: Sequence[str],
    *,
    now: datetime,
    enqueued_until: datetime,
) -> list[str]:
    rows = [
        {
            "id": new_id("dlv"),
            "message_id": message_id,
            "endpoint_id": endpoint_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": None,
            "enqueued_until": enqueued_until,
            "last_status_code": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
        }
        for endpoint_id in endpoint_ids
    ]
    if rows:
        conn.execute(tables.deliveries.insert(), rows)
    return [str(r["id"]) for r in rows]
