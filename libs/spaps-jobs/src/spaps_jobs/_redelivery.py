"""End-to-end acknowledgement: re-send outbox messages their consumer has not confirmed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import case, select, update
from sqlalchemy.engine import Connection

from ._dead_letters import DeadLetterStore
from ._dispatch import HEADERS_HEADER, MESSAGE_ID_HEADER, TOPIC_HEADER
from ._outbox import Outbox, OutboxMessage

__all__ = ["Redelivery", "bury_exhausted", "claim_due", "mark_published", "message_of"]

_log = structlog.get_logger("spaps_jobs.relay")


@dataclass(frozen=True, slots=True, kw_only=True)
class Redelivery:
    """When a relay publishes an unconfirmed outbox message again, and when it gives up.

    A published message waits ``after`` for its consumer's confirmation; each further
    publish waits ``backoff`` times longer (at most ``max_delay``). A message still
    unconfirmed when its wait after the ``max_publishes``-th publish ends is written
    to the dead-letter store and never sent again.

    Args:
        after: Wait after the first publish. Longer than the consumer normally takes
            (queueing included), or healthy messages are sent twice.
        backoff: Factor by which each further wait grows.
        max_delay: Upper bound of a wait.
        max_publishes: Publishes in all (the first one included) before dead-lettering.

    .. versionadded:: 0.3.0
    """

    after: timedelta = timedelta(minutes=5)
    backoff: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    max_publishes: int = 6

    def __post_init__(self) -> None:
        if not isinstance(self.after, timedelta) or self.after <= timedelta(0):
            raise ValueError("after must be a positive timedelta")
        if not isinstance(self.max_delay, timedelta) or self.max_delay < self.after:
            raise ValueError("max_delay must be a timedelta of at least `after`")
        if not self.backoff >= 1:
            raise ValueError("backoff must be >= 1")
        if not isinstance(self.max_publishes, int) or self.max_publishes < 1:
            raise ValueError("max_publishes must be a positive integer")

    def wait(self, publishes: int) -> timedelta:
        """How long to wait for a confirmation after the ``publishes``-th publish."""
        factor = self.backoff ** max(0, publishes - 1)
        seconds = min(self.max_delay.total_seconds(), self.after.total_seconds() * factor)
        return timedelta(seconds=seconds)


def message_of(row: Any, confirmations: bool) -> OutboxMessage:
    """An :class:`OutboxMessage` from an outbox row."""
    return OutboxMessage(
        id=row.message_id,
        topic=row.topic,
        payload=row.payload,
        headers=row.headers or {},
        created_at=row.created_at,
        attempts=row.attempts,
        publishes=row.publishes if confirmations else 0,
    )


def claim_due(
    conn: Connection, outbox: Outbox, policy: Redelivery, *, now: datetime, limit: int, lock: bool
) -> tuple[list[int], list[OutboxMessage]]:
    """Unconfirmed rows whose wait is over and that may be published again."""
    t = outbox.table
    query = (
        select(t)
        .where(
            t.c.redeliver_at <= now,
            t.c.confirmed_at.is_(None),
            t.c.publishes < policy.max_publishes,
        )
        .order_by(t.c.redeliver_at, t.c.seq)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    return [row.seq for row in rows], [message_of(row, True) for row in rows]


def mark_published(
    conn: Connection,
    outbox: Outbox,
    policy: Redelivery | None,
    *,
    now: datetime,
    seqs: Sequence[int],
    messages: Sequence[OutboxMessage],
) -> None:
    """Mark rows published ``now``; with a policy, schedule the next check."""
    t = outbox.table
    if not outbox.confirmations:
        conn.execute(update(t).where(t.c.seq.in_(seqs)).values(sent_at=now))
        return
    by_count: dict[int, list[int]] = {}
    for seq, message in zip(seqs, messages, strict=True):
        by_count.setdefault(message.publishes + 1, []).append(seq)
    for publishes, group in by_count.items():
        # A consumer may have confirmed already (SQLite relays publish outside their
        # transaction): never schedule a confirmed row again.
        due = None if policy is None else now + policy.wait(publishes)
        conn.execute(
            update(t)
            .where(t.c.seq.in_(group))
            .values(
                sent_at=now,
                publishes=t.c.publishes + 1,
                redeliver_at=case((t.c.confirmed_at.is_(None), due), else_=None),
            )
        )


def bury_exhausted(
    conn: Connection,
    outbox: Outbox,
    policy: Redelivery,
    *,
    now: datetime,
    limit: int,
    lock: bool,
    dead_letters: DeadLetterStore | None,
    task_name: Callable[[str], str],
) -> int:
    """Dead-letter unconfirmed rows whose last publish went unconfirmed; return how many.

    The dead letter is written first, then the row is marked: a relay dying between the
    two writes the dead letter again on its next pass (never loses it).
    """
    t = outbox.table
    query = (
        select(t)
        .where(
            t.c.redeliver_at <= now,
            t.c.confirmed_at.is_(None),
            t.c.publishes >= policy.max_publishes,
        )
        .order_by(t.c.seq)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    for row in rows:
        error = f"not confirmed by its consumer after {row.publishes} publishes"
        if dead_letters is not None:
            dead_letters.add(
                task_name=task_name(row.topic),
                task_id=row.message_id,
                args=[row.payload],
                kwargs={},
                error=error,
                traceback="",
                attempts=row.publishes,
                headers={
                    MESSAGE_ID_HEADER: row.message_id,
                    TOPIC_HEADER: row.topic,
                    HEADERS_HEADER: dict(row.headers or {}),
                },
            )
        _log.error("outbox.unconfirmed_dead_lettered", message_id=row.message_id, error=error)
    if rows:
        conn.execute(
            update(t)
            .where(t.c.seq.in_([row.seq for row in rows]), t.c.confirmed_at.is_(None))
            .values(redeliver_at=None, dead_lettered_at=now)
        )
    return len(rows)
