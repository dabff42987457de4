"""The delivery log: messages, deliveries, attempts; manual replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select

from ._endpoints import Now, utcnow
from ._errors import EndpointNotFoundError, MessageNotFoundError
from ._models import Attempt, Delivery, new_id
from ._tables import WebhookTables

Enqueue = Callable[[str], None]
"""Schedules an immediate attempt of a delivery id (e.g. sends the Celery task)."""


class DeliveryHistory:
    """Read the delivery log of an owner and replay messages.

    Args:
        engine: Synchronous engine holding the webhook tables.
        tables: The webhook tables.
        enqueue: Called with each delivery created by a replay; without it the
            periodic sweep picks them up.
        now: Clock.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        tables: WebhookTables,
        enqueue: Enqueue | None = None,
        now: Now = utcnow,
    ) -> None:
        self._engine = engine
        self._t = tables
        self.enqueue = enqueue
        self._now = now

    def _check_endpoint(self, owner: str, endpoint_id: str) -> None:
        e = self._t.endpoints
        with self._engine.connect() as conn:
            found = conn.execute(
                select(e.c.id).where(e.c.id == endpoint_id, e.c.owner == owner)
            ).first()
        if found is None:
            raise EndpointNotFoundError(f"no endpoint {endpoint_id!r}")

    def attempts(
        self,
        owner: str,
        *,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        delivery_id: str | None = None,
        limit: int = 100,
    ) -> list[Attempt]:
        """Logged attempts of ``owner``'s endpoints, newest first.

        Args:
            owner: Whose endpoints.
            endpoint_id: Only this endpoint.
            message_id: Only this message.
            delivery_id: Only this delivery.
            limit: At most this many.
        """
        a, e = self._t.attempts, self._t.endpoints
        query = (
            select(a)
            .join(e, e.c.id == a.c.endpoint_id)
            .where(e.c.owner == owner)
            .order_by(a.c.id.desc())
            .limit(limit)
        )
        if endpoint_id is not None:
            query = query.where(a.c.endpoint_id == endpoint_id)
        if message_id is not None:
            query = query.where(a.c.message_id == message_id)
        if delivery_id is not None:
            query = query.where(a.c.delivery_id == delivery_id)
        with self._engine.connect() as conn:
            return [Attempt.from_row(r) for r in conn.execute(query)]

    def deliveries(
        self,
        owner: str,
        *,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Deliveries to ``owner``'s endpoints, newest first."""
        d, e = self._t.deliveries, self._t.endpoints
        query = (
            select(d)
            .join(e, e.c.id == d.c.endpoint_id)
            .where(e.c.owner == owner)
            .order_by(d.c.created_at.desc(), d.c.id)
            .limit(limit)
        )
        if endpoint_id is not None:
            query = query.where(d.c.endpoint_id == endpoint_id)
        if message_id is not None:
            query = query.where(d.c.message_id == message_id)
        if status is not None:
            query = query.where(d.c.status == status)
        with self._engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(query)]

    def replay_message(
        self, owner: str, message_id: str, *, endpoint_id: str | None = None
    ) -> list[str]:
        """Deliver a message again, to one endpoint or to every endpoint it went to.

        The ``webhook-id`` stays the message id, so receivers that already processed it
        can tell.

        Raises:
            MessageNotFoundError: No such message of ``owner``.
            EndpointNotFoundError: ``endpoint_id`` is not ``owner``'s.
        """
        m, d = self._t.messages, self._t.deliveries
        with self._engine.connect() as conn:
            message = conn.execute(
                select(m.c.id).where(m.c.id == message_id, m.c.owner == owner)
            ).first()
            if message is None:
                raise MessageNotFoundError(f"no message {message_id!r}")
            if endpoint_id is None:
                targets = sorted(
                    set(
                        conn.execute(
                            select(d.c.endpoint_id).where(d.c.message_id == message_id)
                        ).scalars()
                    )
                )
            else:
                targets = []
        if endpoint_id is not None:
            self._check_endpoint(owner, endpoint_id)
            targets = [endpoint_id]
        return self._replay([(message_id, t) for t in targets])

    def replay_since(
        self,
        owner: str,
        since: datetime,
        *,
        endpoint_id: str | None = None,
        failed_only: bool = True,
    ) -> list[str]:
        """Deliver again every message of ``owner`` created at or after ``since``.

        Args:
            owner: Whose messages.
            since: Aware datetime; messages created from then on are replayed.
            endpoint_id: Only deliveries to this endpoint.
            failed_only: Only deliveries that did not succeed (default), e.g. to recover
                after a receiver outage that outlasted the retry schedule.
        """
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        m, d, e = self._t.messages, self._t.deliveries, self._t.endpoints
        query = (
            select(d.c.message_id, d.c.endpoint_id, d.c.status)
            .join(m, m.c.id == d.c.message_id)
            .join(e, e.c.id == d.c.endpoint_id)
            .where(m.c.owner == owner, m.c.created_at >= since, e.c.owner == owner)
            .order_by(m.c.created_at, m.c.id)
        )
        if endpoint_id is not None:
            self._check_endpoint(owner, endpoint_id)
            query = query.where(d.c.endpoint_id == endpoint_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        succeeded = {(r.message_id, r.endpoint_id) for r in rows if r.status == "succeeded"}
        pairs = list(dict.fromkeys((r.message_id, r.endpoint_id) for r in rows))
        if failed_only:
            pairs = [p for p in pairs if p not in succeeded]
        # Anything still pending will be retried anyway.
        pending = {
            (r.message_id, r.endpoint_id) for r in rows if r.status in ("pending", "delivering")
        }
        return self._replay([p for p in pairs if p not in pending])

    def _replay(self, pairs: list[tuple[str, str]]) -> list[str]:
        now = self._now()
        rows = [
            {
                "id": new_id("dlv"),
                "message_id": message_id,
                "endpoint_id": endpoint_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "lease_until": None,
                "enqueued_until": None,
                "last_status_code": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                "completed_at": None,
            }
            for message_id, endpoint_id in pairs
        ]
        if rows:
            with self._engine.begin() as conn:
                conn.execute(self._t.deliveries.insert(), rows)
        ids = [str(r["id"]) for r in rows]
        if self.enqueue is not None:
            for delivery_id in ids:
                self.enqueue(delivery_id)
        return ids
