"""Delivery leases: who may attempt a delivery now, and which deliveries are due.

A worker claims a delivery with a conditional UPDATE that moves it to ``delivering``
and gives it a lease, so two workers never send the same attempt. A worker killed
mid-attempt leaves a lease that expires; the delivery is then due again and the lost
attempt is logged as such.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from ._endpoints import Now
from ._tables import WebhookTables

LOST_ATTEMPT = "attempt lost: the worker stopped before recording a result"


class DeliveryLeases:
    """Claims, cancellations and the sweeper's view of the deliveries table.

    Args:
        engine: Synchronous engine holding the webhook tables.
        tables: The webhook tables.
        lease: How long an attempt may run before it counts as lost.
        now: Clock.
    """

    def __init__(
        self, *, engine: Engine, tables: WebhookTables, lease: timedelta, now: Now
    ) -> None:
        self._engine = engine
        self._t = tables
        self.lease = lease
        self._now = now

    def claim(self, delivery_id: str) -> Any | None:
        """Claim ``delivery_id`` if it is due or its lease expired; return its row as it was.

        A previous attempt whose lease expired is logged as lost in the same transaction.
        Returns ``None`` when the delivery is unknown, not due, or another worker won.
        """
        d = self._t.deliveries
        now = self._now()
        with self._engine.begin() as conn:
            row = conn.execute(select(d).where(d.c.id == delivery_id)).first()
            if row is None:
                return None
            lost = (
                row.status == "delivering" and row.lease_until is not None and row.lease_until < now
            )
            due = row.status == "pending" and (
                row.next_attempt_at is None or row.next_attempt_at <= now
            )
            if not (due or lost):
                return None
            claimed = conn.execute(
                update(d)
                .where(
                    d.c.id == delivery_id, d.c.status == row.status, d.c.attempts == row.attempts
                )
                .values(
                    status="delivering",
                    attempts=row.attempts + 1,
                    lease_until=now + self.lease,
                    updated_at=now,
                )
            ).rowcount
            if claimed != 1:
                return None
            if lost:
                conn.execute(
                    self._t.attempts.insert().values(
                        delivery_id=row.id,
                        message_id=row.message_id,
                        endpoint_id=row.endpoint_id,
                        number=row.attempts,
                        started_at=row.updated_at,
                        status_code=None,
                        latency_ms=None,
                        response_excerpt=None,
                        error=LOST_ATTEMPT,
                        succeeded=False,
                    )
                )
            return row

    def cancel(self, delivery_id: str, reason: str) -> None:
        """Give up a claimed delivery without an attempt (its endpoint or message is gone)."""
        d = self._t.deliveries
        now = self._now()
        with self._engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.id == delivery_id)
                .values(
                    status="cancelled",
                    attempts=d.c.attempts - 1,
                    last_error=reason,
                    lease_until=None,
                    updated_at=now,
                    completed_at=now,
                )
            )

    def mark_enqueued(self, delivery_id: str, for_: timedelta) -> None:
        """Keep the sweeper from enqueuing ``delivery_id`` again for ``for_``."""
        d = self._t.deliveries
        with self._engine.begin() as conn:
            conn.execute(
                update(d).where(d.c.id == delivery_id).values(enqueued_until=self._now() + for_)
            )

    def due(self, *, limit: int, requeue_after: timedelta | None) -> list[str]:
        """Due retries and expired leases, marked as enqueued (see ``Deliverer.due``)."""
        d = self._t.deliveries
        now = self._now()
        not_enqueued = or_(d.c.enqueued_until.is_(None), d.c.enqueued_until < now)
        condition = and_(
            not_enqueued,
            or_(
                and_(d.c.status == "pending", d.c.next_attempt_at <= now),
                and_(d.c.status == "delivering", d.c.lease_until < now),
            ),
        )
        with self._engine.begin() as conn:
            ids = [
                r.id
                for r in conn.execute(
                    select(d.c.id).where(condition).order_by(d.c.next_attempt_at).limit(limit)
                )
            ]
            if ids:
                conn.execute(
                    update(d)
                    .where(d.c.id.in_(ids))
                    .values(enqueued_until=now + (requeue_after or self.lease))
                )
        return ids
