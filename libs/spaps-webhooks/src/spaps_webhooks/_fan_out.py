"""Fan-out: store a message and create one pending delivery per matching endpoint."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

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
    enqueued_until: datetime | None,
) -> list[str]:
    """Store ``message`` (unless ``publish`` did) and create its deliveries, once.

    The message row is claimed with a conditional UPDATE of ``fanned_out_at``, in the
    caller's transaction with the deliveries it creates: a fan-out that dies before
    committing leaves the row unclaimed for the sweeper, and two fan-outs of the same
    message never both create deliveries.

    Args:
        conn: A connection inside a transaction (the caller commits).
        tables: The webhook tables.
        message: ``{"id", "owner", "event_type", "body", "created_at"}`` and optionally
            ``"endpoint_id"`` (deliver to that endpoint only).
        now: When the deliveries are created and first due.
        enqueued_until: Until when the sweeper leaves the new deliveries alone (the caller
            enqueues them itself); ``None`` leaves them to the sweeper's pass.

    Returns:
        The ids of the deliveries created; empty when the message was fanned out before.
    """
    t = tables
    created = message["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    m = t.messages
    if conn.execute(select(m.c.id).where(m.c.id == message["id"])).first() is None:
        conn.execute(
            m.insert().values(
                id=message["id"],
                owner=message["owner"],
                event_type=message["event_type"],
                body=message["body"],
                endpoint_id=message.get("endpoint_id"),
                created_at=created,
                fanned_out_at=None,
            )
        )
    claimed = conn.execute(
        update(m)
        .where(m.c.id == message["id"], m.c.fanned_out_at.is_(None))
        .values(fanned_out_at=now)
    ).rowcount
    if claimed != 1:
        return []
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
    enqueued_until: datetime | None,
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


def lost_fan_outs(
    conn: Connection, tables: WebhookTables, *, before: datetime, limit: int
) -> list[dict[str, Any]]:
    """Messages stored by ``publish`` but not fanned out since ``before``: their fan-out
    task was lost (a broker dropping a popped message, a worker killed before committing).
    """
    m = tables.messages
    rows = conn.execute(
        select(m)
        .where(m.c.fanned_out_at.is_(None), m.c.created_at <= before)
        .order_by(m.c.created_at)
        .limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "owner": r.owner,
            "event_type": r.event_type,
            "body": r.body,
            "endpoint_id": r.endpoint_id,
            "created_at": r.created_at,
        }
        for r in rows
    ]
