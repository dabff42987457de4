"""The relay: publish pending outbox rows in batches, mark them sent, purge old ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from ._dead_letters import DeadLetterStore
from ._errors import RelayError, SpapsJobsError
from ._metrics import RelayMetrics
from ._outbox import Outbox, OutboxMessage
from ._redelivery import Redelivery, bury_exhausted, claim_due, mark_published, message_of

__all__ = ["Dispatch", "Relay"]

Dispatch = Callable[[Sequence[OutboxMessage]], None]
"""Publishes a batch of messages; raises to leave the whole batch pending."""

Clock = Callable[[], datetime]
"""Returns the current time (timezone-aware UTC); injected in tests."""

_log = structlog.get_logger("spaps_jobs.relay")
_Claim = Callable[[Connection, datetime], tuple[list[int], list[OutboxMessage]]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Relay:
    """Move events from the outbox to a dispatcher (usually the Celery broker).

    Each pass runs in one transaction: claim up to ``batch_size`` pending rows (``FOR
    UPDATE SKIP LOCKED`` on PostgreSQL, so several relays share the work without
    publishing a row twice in a pass), dispatch them, mark them sent, commit. A relay
    that dies mid-pass commits nothing: its rows are published again by the next pass,
    so delivery is at-least-once and consumers dedupe on the message id (see
    :class:`~spaps_jobs.Inbox`). On SQLite, which has no row locks, run a single relay.

    With a ``redelivery`` policy (and an outbox built with ``confirmations=True``) a
    message is done when its consumer confirms it, not when it is published: each pass
    also publishes again the messages whose confirmation is overdue, with backoff, and
    moves those still unconfirmed after ``redelivery.max_publishes`` publishes to the
    dead-letter store. A message a broker drops (a worker killed between receiving it
    and recording it) is therefore sent again; the consumer's inbox absorbs duplicates.

    Args:
        outbox: The outbox whose table to drain.
        engine: Synchronous engine of the database holding the outbox.
        dispatch: Callable that publishes a batch (e.g. :class:`~spaps_jobs.CeleryDispatcher`).
        batch_size: Rows per pass.
        poll_interval: Seconds ``run_forever`` sleeps when the outbox is empty.
        retention: Sent rows older than this are deleted by :meth:`purge_sent`.
        purge_every: Seconds between purges in ``run_forever``.
        metrics: Prometheus metrics (default: shared ones on the global registry).
        redelivery: Re-send unconfirmed messages (needs ``Outbox(confirmations=True)``).
        dead_letters: Where messages that were never confirmed go (else only logged).
        clock: Current time (default: ``datetime.now(UTC)``); inject one in tests.

    .. versionchanged:: 0.3.0 ``redelivery``, ``dead_letters`` and ``clock``.
    """

    def __init__(
        self,
        outbox: Outbox,
        engine: Engine,
        dispatch: Dispatch,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=7),
        purge_every: float = 300.0,
        metrics: RelayMetrics | None = None,
        redelivery: Redelivery | None = None,
        dead_letters: DeadLetterStore | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        if not isinstance(outbox, Outbox):
            raise TypeError("outbox must be an Outbox")
        if not isinstance(engine, Engine):
            raise TypeError("engine must be a synchronous sqlalchemy Engine")
        if not callable(dispatch):
            raise TypeError("dispatch must be callable")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer")
        if poll_interval <= 0 or purge_every <= 0:
            raise ValueError("poll_interval and purge_every must be positive")
        if not isinstance(retention, timedelta) or retention < timedelta(0):
            raise ValueError("retention must be a non-negative timedelta")
        if redelivery is not None and not (
            isinstance(redelivery, Redelivery) and outbox.confirmations
        ):
            raise ValueError("redelivery needs a Redelivery and Outbox(confirmations=True)")
        if dead_letters is not None and not isinstance(dead_letters, DeadLetterStore):
            raise TypeError("dead_letters must be a DeadLetterStore")
        self.outbox = outbox
        self.redelivery = redelivery
        self.dead_letters = dead_letters
        self.clock = clock
        self.engine = engine
        self.dispatch = dispatch
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.purge_every = purge_every
        self.metrics = metrics if metrics is not None else RelayMetrics.default()
        self._skip_locked = engine.dialect.name in {"postgresql", "mysql", "oracle"}

    def run_once(self) -> int:
        """Publish one batch (and, with redelivery, one batch of overdue messages).

        Returns:
            How many messages were published (first publishes and re-sends).

        Raises:
            BrokerUnavailableError: The dispatcher could not reach the broker.
            RelayError: Any other dispatch failure. In both cases no row is marked sent.
        """
        count = self._pass(self._claim)
        policy = self.redelivery
        if policy is not None:
            name_of = getattr(self.dispatch, "task_name", str)  # topic -> task, if known
            try:
                with self.engine.begin() as conn:
                    buried = bury_exhausted(
                        conn, self.outbox, policy, now=self.clock(), limit=self.batch_size,
                        lock=self._skip_locked, dead_letters=self.dead_letters, task_name=name_of,
                    )  # fmt: skip
            except Exception as exc:
                self.metrics.failures.inc()
                raise RelayError(f"dead-lettering unconfirmed messages failed: {exc!r}") from exc
            self.metrics.dead_lettered.inc(buried)
            lock, limit = self._skip_locked, self.batch_size
            again = self._pass(
                lambda c, now: claim_due(c, self.outbox, policy, now=now, limit=limit, lock=lock)
            )
            self.metrics.redelivered.inc(again)
            count += again
        return count

    def _pass(self, claim: _Claim) -> int:
        seqs: list[int] = []
        messages: list[OutboxMessage] = []
        try:
            if self._skip_locked:
                # The row locks are held while dispatching: a concurrent relay skips
                # these rows instead of publishing them a second time.
                with self.engine.begin() as conn:
                    seqs, messages = claim(conn, self.clock())
                    if seqs:
                        self.dispatch(messages)
                        self._mark_sent(conn, seqs, messages)
            else:
                # No row locks (SQLite, single relay): read in a short transaction and
                # dispatch outside it, so the application's writers never wait on the broker.
                with self.engine.begin() as conn:
                    seqs, messages = claim(conn, self.clock())
                if seqs:
                    self.dispatch(messages)
                    with self.engine.begin() as conn:
                        self._mark_sent(conn, seqs, messages)
        except Exception as exc:
            self.metrics.failures.inc()
            if seqs:
                self._record_failure(seqs, exc)
            if isinstance(exc, SpapsJobsError):
                raise
            raise RelayError(f"relay pass failed: {exc!r}") from exc
        if seqs:
            self._observe(messages)
            _log.debug("outbox.relayed", count=len(seqs))
        return len(seqs)

    def _observe(self, messages: list[OutboxMessage]) -> None:
        now = self.clock()
        self.metrics.published.inc(len(messages))
        for message in messages:
            if message.created_at is not None and message.publishes == 0:
                created = message.created_at
                if created.tzinfo is None:  # SQLite hands back naive UTC datetimes
                    created = created.replace(tzinfo=UTC)
                self.metrics.lag.observe(max(0.0, (now - created).total_seconds()))

    def _claim(self, conn: Connection, now: datetime) -> tuple[list[int], list[OutboxMessage]]:
        t = self.outbox.table
        query = select(t).where(t.c.sent_at.is_(None)).order_by(t.c.seq).limit(self.batch_size)
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        confirmations = self.outbox.confirmations
        return [row.seq for row in rows], [message_of(row, confirmations) for row in rows]

    def _mark_sent(
        self, conn: Connection, seqs: list[int], messages: Sequence[OutboxMessage]
    ) -> None:
        mark_published(
            conn, self.outbox, self.redelivery, now=self.clock(), seqs=seqs, messages=messages
        )

    def _record_failure(self, seqs: list[int], exc: BaseException) -> None:
        t = self.outbox.table
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.seq.in_(seqs))
                    .values(attempts=t.c.attempts + 1, last_error=repr(exc)[:2000])
                )
        except Exception as record_exc:  # the original error matters more
            _log.warning("outbox.record_failure_failed", error=repr(record_exc))
        _log.warning("outbox.relay_failed", count=len(seqs), error=repr(exc))

    def pending(self) -> int:
        """How many rows wait to be published."""
        t = self.outbox.table
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(t.c.sent_at.is_(None))).scalar_one())

    def unconfirmed(self) -> int:
        """How many published rows wait for their consumer's confirmation (0 without
        confirmations); dead-lettered ones are not counted."""
        t = self.outbox.table
        if not self.outbox.confirmations:
            return 0
        query = select(func.count()).where(
            t.c.sent_at.is_not(None), t.c.redeliver_at.is_not(None), t.c.confirmed_at.is_(None)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def purge_sent(self, *, older_than: timedelta | None = None, limit: int = 10_000) -> int:
        """Delete up to ``limit`` rows sent before ``now - older_than`` (default: retention).

        Rows still waiting for a confirmation are kept (confirmed and dead-lettered
        ones go).

        Returns:
            The number of rows deleted.
        """
        cutoff = self.clock() - (self.retention if older_than is None else older_than)
        t = self.outbox.table
        done = [t.c.sent_at.is_not(None), t.c.sent_at <= cutoff]
        if self.outbox.confirmations:  # awaiting a confirmation: not done yet
            done.append(t.c.redeliver_at.is_(None))
        victims = select(t.c.seq).where(*done).order_by(t.c.seq).limit(limit)
        with self.engine.begin() as conn:
            seqs = list(conn.execute(victims).scalars())
            if not seqs:
                return 0
            conn.execute(delete(t).where(t.c.seq.in_(seqs)))
        _log.info("outbox.purged", count=len(seqs))
        return len(seqs)

    def run_forever(
        self, *, stop: threading.Event | None = None, max_idle_passes: int | None = None
    ) -> None:
        """Relay until ``stop`` is set (or, for tests and drains, after idle passes).

        Failures are logged and retried after ``poll_interval``; a full batch is followed
        at once by the next pass.

        Args:
            stop: Set it to end the loop (e.g. from a signal handler).
            max_idle_passes: Return after this many consecutive empty passes.
        """
        stop = stop or threading.Event()
        idle = 0
        last_purge = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - last_purge >= self.purge_every:
                last_purge = now
                try:
                    self.purge_sent()
                except Exception as exc:  # purge is housekeeping: never stop relaying
                    _log.warning("outbox.purge_failed", error=repr(exc))
            try:
                count = self.run_once()
            except SpapsJobsError:
                count = 0
            if count >= self.batch_size:
                idle = 0
                continue
            if count == 0:
                idle += 1
                if max_idle_passes is not None and idle >= max_idle_passes:
                    return
            else:
                idle = 0
            stop.wait(self.poll_interval)
