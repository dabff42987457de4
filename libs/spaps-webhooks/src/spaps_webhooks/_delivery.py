"""Deliveries: fan a message out to endpoints, attempt, log, retry, disable.

:class:`Deliverer` ties the steps together; each lives in its own module:
``_fan_out`` (message and deliveries), ``_leases`` (claims and the sweeper's view),
``_send`` (the HTTP attempt) and ``_record`` (the attempt log and what follows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from ._endpoints import Now, signing_secrets, utcnow
from ._errors import SecretSealingError
from ._fan_out import fan_out, lost_fan_outs
from ._leases import DeliveryLeases
from ._models import AttemptOutcome, EndpointDisabledHook
from ._record import AttemptRecorder
from ._schedule import RetrySchedule
from ._sealing import SecretSealer
from ._send import ProcessClient, SendResult, send
from ._signing import sign_headers
from ._ssrf import URLGuard
from ._tables import WebhookTables
from ._transport import DEFAULT_TIMEOUT, create_delivery_client


class Deliverer:
    """Sends messages to endpoints and keeps the delivery log.

    Framework-agnostic and synchronous: Celery tasks (see :func:`register_tasks`) call
    :meth:`fan_out`, :meth:`attempt` and :meth:`due`. Each attempt first claims its
    delivery with a conditional UPDATE and a lease, so two workers never send the same
    attempt and a worker killed mid-attempt leaves a lease that expires and is retried.

    Args:
        engine: Synchronous engine holding the webhook tables.
        tables: The webhook tables.
        guard: SSRF guard, checked again at every connection.
        timeout: HTTP timeout in seconds (default 15).
        schedule: The retry schedule.
        disable_after: An endpoint failing without a success for this long is disabled.
        max_response_bytes: At most this much of a response body is read.
        excerpt_chars: How much of the body is kept in the attempt log.
        lease_margin: Seconds on top of ``timeout`` before an in-flight attempt counts
            as lost (its worker died) and may be retried.
        max_retry_after: Upper bound honoured for ``Retry-After``.
        client_factory: Builds the pooled client (one per process, created lazily so it
            is never shared across a fork).
        on_endpoint_disabled: Extra hook after an automatic disable; the owner is also
            notified by a ``webhook.endpoint.disabled.v1`` message.
        sealer: Opens the endpoint secrets sealed at rest (``None``: stored as they are).
        now: Clock.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        tables: WebhookTables,
        guard: URLGuard,
        timeout: float = DEFAULT_TIMEOUT,
        schedule: RetrySchedule | None = None,
        disable_after: timedelta = timedelta(days=5),
        max_response_bytes: int = 64 * 1024,
        excerpt_chars: int = 1024,
        lease_margin: float = 30.0,
        max_retry_after: float = 24 * 3600.0,
        client_factory: Callable[[], httpx.Client] | None = None,
        on_endpoint_disabled: EndpointDisabledHook | None = None,
        sealer: SecretSealer | None = None,
        now: Now = utcnow,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if disable_after <= timedelta(0):
            raise ValueError("disable_after must be positive")
        if max_response_bytes < 1 or excerpt_chars < 0 or lease_margin < 0:
            raise ValueError("max_response_bytes, excerpt_chars and lease_margin must be sizes")
        self._engine = engine
        self._t = tables
        self._guard = guard
        self.timeout = timeout
        self._max_body = max_response_bytes
        self._excerpt = excerpt_chars
        self._now = now
        self._sealer = sealer
        lease = timedelta(seconds=timeout * 3 + lease_margin)
        self._leases = DeliveryLeases(engine=engine, tables=tables, lease=lease, now=now)
        self._recorder = AttemptRecorder(
            engine=engine,
            tables=tables,
            schedule=schedule or RetrySchedule(),
            disable_after=disable_after,
            max_retry_after=max_retry_after,
            lease=lease,
            on_endpoint_disabled=on_endpoint_disabled,
            now=now,
        )
        self._client = ProcessClient(
            client_factory or (lambda: create_delivery_client(guard=guard, timeout=timeout))
        )

    @property
    def schedule(self) -> RetrySchedule:
        """The retry schedule."""
        return self._recorder.schedule

    @schedule.setter
    def schedule(self, value: RetrySchedule) -> None:
        self._recorder.schedule = value

    @property
    def client(self) -> httpx.Client:
        """The pooled client of this process."""
        return self._client.get()

    def close(self) -> None:
        """Close the pooled client."""
        self._client.close()

    def fan_out(self, message: Mapping[str, Any], *, enqueue: bool = True) -> list[str]:
        """Store ``message`` and create one delivery per matching endpoint (idempotent).

        Args:
            message: ``{"id", "owner", "event_type", "body", "created_at"}`` and optionally
                ``"endpoint_id"`` (deliver to that endpoint only), as written by ``publish``.

            enqueue: The caller enqueues the new deliveries itself (else the next
                :meth:`due` returns them).

        Returns:
            The ids of the deliveries created; empty when the message was already fanned out.
        """
        now = self._now()
        until = now + self._leases.lease if enqueue else None
        try:
            with self._engine.begin() as conn:
                return fan_out(conn, self._t, message, now=now, enqueued_until=until)
        except IntegrityError:
            return []  # a concurrent or repeated fan-out of the same message won

    def attempt(self, delivery_id: str) -> AttemptOutcome:
        """Make the next attempt of a delivery if it is due; log it and schedule what follows.

        Args:
            delivery_id: The delivery.
        """
        row = self._leases.claim(delivery_id)
        if row is None:
            return AttemptOutcome(delivery_id, "skipped")
        t = self._t
        with self._engine.connect() as conn:
            endpoint = conn.execute(
                select(t.endpoints).where(t.endpoints.c.id == row.endpoint_id)
            ).first()
            message = conn.execute(
                select(t.messages).where(t.messages.c.id == row.message_id)
            ).first()
        if endpoint is None or message is None or not endpoint.enabled:
            self._leases.cancel(delivery_id, "endpoint disabled or deleted")
            return AttemptOutcome(delivery_id, "cancelled")

        started = self._now()
        try:
            secrets = signing_secrets(endpoint, started, self._sealer)
        except SecretSealingError as exc:
            # Nothing is sent unsigned: a failed attempt, retried on the schedule (the
            # operator may still add the missing key) and visible in the delivery log.
            unopened = SendResult(None, None, f"SecretSealingError: {exc}", None, 0.0)
            return self._recorder.record(row, endpoint, row.attempts + 1, started, unopened)
        headers = sign_headers(
            secrets,
            message.id,
            message.body,
            timestamp=int(started.timestamp()),
        )
        headers["content-type"] = "application/json"
        response = send(
            self.client,
            endpoint.url,
            message.body,
            headers,
            guard=self._guard,
            timeout=self.timeout,
            max_body=self._max_body,
            excerpt_chars=self._excerpt,
        )
        return self._recorder.record(row, endpoint, row.attempts + 1, started, response)

    @property
    def lease(self) -> timedelta:
        """How long an attempt may run before it counts as lost."""
        return self._leases.lease

    def mark_enqueued(self, delivery_id: str, for_: timedelta) -> None:
        """Keep the sweeper from enqueuing ``delivery_id`` again for ``for_``."""
        self._leases.mark_enqueued(delivery_id, for_)

    def recover_fan_outs(self, *, limit: int = 100) -> int:
        """Fan out messages ``publish`` stored whose fan-out did not happen within a lease.

        ``publish`` writes the message row in the producer's transaction, so an event
        whose fan-out task a broker lost (or whose worker died before committing) is
        still in the database; this creates its deliveries. :meth:`due` calls it.

        Returns:
            How many deliveries were created.
        """
        with self._engine.connect() as conn:
            lost = lost_fan_outs(
                conn, self._t, before=self._now() - self._leases.lease, limit=limit
            )
        return sum(len(self.fan_out(message, enqueue=False)) for message in lost)

    def due(self, *, limit: int = 100, requeue_after: timedelta | None = None) -> list[str]:
        """Deliveries to (re)enqueue now: due retries, attempts whose lease expired, and
        those of messages whose fan-out was lost (see :meth:`recover_fan_outs`).

        Marks them as enqueued for ``requeue_after`` (default: the lease) so a backlog is
        not enqueued again by every sweep.

        Args:
            limit: At most this many ids.
            requeue_after: How long before an enqueued but unstarted delivery is enqueued again.
        """
        self.recover_fan_outs(limit=limit)
        return self._leases.due(limit=limit, requeue_after=requeue_after)
