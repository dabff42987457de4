"""Deliveries: fan a message out to endpoints, attempt, log, retry, disable."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from ._builtin_events import ENDPOINT_DISABLED_EVENT
from ._endpoints import Now, signing_secrets, utcnow
from ._errors import SpapsWebhooksError
from ._models import Attempt, Endpoint, new_id
from ._schedule import RetrySchedule, parse_retry_after
from ._signing import sign_headers
from ._ssrf import URLGuard
from ._tables import WebhookTables
from ._transport import DEFAULT_TIMEOUT, create_delivery_client

EndpointDisabledHook = Callable[[Endpoint, str], None]
"""Called with the endpoint and the reason after an endpoint was disabled automatically."""

_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What :meth:`Deliverer.attempt` did.

    Attributes:
        delivery_id: The delivery.
        status: ``succeeded``, ``retrying``, ``failed``, ``cancelled`` or ``skipped``
            (not due, or another worker holds it).
        retry_in: Seconds until the next attempt when ``retrying``.
        attempt: The logged attempt, if one was made.
        new_deliveries: Deliveries created as a side effect (owner notifications).
    """

    delivery_id: str
    status: str
    retry_in: float | None = None
    attempt: Attempt | None = None
    new_deliveries: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _Response:
    status_code: int | None
    excerpt: str | None
    error: str | None
    retry_after: float | None
    latency_ms: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def make_body(event_type: str, data: Mapping[str, Any], timestamp: datetime) -> str:
    """The JSON body of a message: ``{"type", "timestamp", "data"}`` (Standard Webhooks)."""
    return json.dumps(
        {"type": event_type, "timestamp": timestamp.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


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
        self.schedule = schedule or RetrySchedule()
        self._disable_after = disable_after
        self._max_body = max_response_bytes
        self._excerpt = excerpt_chars
        self._lease = timedelta(seconds=timeout * 3 + lease_margin)
        self._max_retry_after = max_retry_after
        self._client_factory = client_factory or (
            lambda: create_delivery_client(guard=guard, timeout=timeout)
        )
        self._on_disabled = on_endpoint_disabled
        self._now = now
        self._client: httpx.Client | None = None
        self._client_pid = 0
        self._client_lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The pooled client of this process."""
        with self._client_lock:
            if self._client is None or self._client_pid != os.getpid():
                self._client = self._client_factory()
                self._client_pid = os.getpid()
            return self._client

    def close(self) -> None:
        """Close the pooled client."""
        with self._client_lock:
            if self._client is not None and self._client_pid == os.getpid():
                self._client.close()
            self._client = None

    # -- fan-out ---------------------------------------------------------------------

    def fan_out(self, message: Mapping[str, Any]) -> list[str]:
        """Store ``message`` and create one delivery per matching endpoint (idempotent).

        Args:
            message: ``{"id", "owner", "event_type", "body", "created_at"}`` and optionally
                ``"endpoint_id"`` (deliver to that endpoint only), as written by ``publish``.

        Returns:
            The ids of the deliveries created; empty when the message was already fanned out.
        """
        try:
            with self._engine.begin() as conn:
                return self._fan_out(conn, message)
        except IntegrityError:
            return []  # a concurrent or repeated fan-out of the same message won

    def _fan_out(self, conn: Connection, message: Mapping[str, Any]) -> list[str]:
        t = self._t
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
        return self._create_deliveries(conn, message["id"], targets)

    def _create_deliveries(
        self, conn: Connection, message_id: str, endpoint_ids: Sequence[str]
    ) -> list[str]:
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
                "enqueued_until": now + self._lease,
                "last_status_code": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                "completed_at": None,
            }
            for endpoint_id in endpoint_ids
        ]
        if rows:
            conn.execute(self._t.deliveries.insert(), rows)
        return [str(r["id"]) for r in rows]

    # -- attempts --------------------------------------------------------------------

    def _claim(self, delivery_id: str) -> tuple[Any, bool] | None:
        """Claim a due delivery; return its row and whether a previous attempt was lost."""
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
                    lease_until=now + self._lease,
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
                        error="attempt lost: the worker stopped before recording a result",
                        succeeded=False,
                    )
                )
            return row, lost

    def attempt(self, delivery_id: str) -> AttemptOutcome:
        """Make the next attempt of a delivery if it is due; log it and schedule what follows.

        Args:
            delivery_id: The delivery.
        """
        claimed = self._claim(delivery_id)
        if claimed is None:
            return AttemptOutcome(delivery_id, "skipped")
        row, _ = claimed
        number = row.attempts + 1
        t = self._t
        with self._engine.connect() as conn:
            endpoint = conn.execute(
                select(t.endpoints).where(t.endpoints.c.id == row.endpoint_id)
            ).first()
            message = conn.execute(
                select(t.messages).where(t.messages.c.id == row.message_id)
            ).first()
        if endpoint is None or message is None or not endpoint.enabled:
            return self._finish_without_attempt(delivery_id, "endpoint disabled or deleted")

        started = self._now()
        headers = sign_headers(
            signing_secrets(endpoint, started),
            message.id,
            message.body,
            timestamp=int(started.timestamp()),
        )
        headers["content-type"] = "application/json"
        response = self._send(endpoint.url, message.body, headers)
        return self._record(row, endpoint, number, started, response)

    def _send(self, url: str, body: str, headers: dict[str, str]) -> _Response:
        started = time.perf_counter()
        try:
            self._guard.check_scheme(url)
            with self.client.stream(
                "POST", url, content=body.encode(), headers=headers
            ) as response:
                received = bytearray()
                for chunk in response.iter_raw():
                    received += chunk
                    if len(received) >= self._max_body:
                        break  # capped: the rest is never read
                retry_after = None
                if response.status_code in _RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                excerpt = bytes(received[: self._excerpt * 4]).decode("utf-8", "replace")
                return _Response(
                    status_code=response.status_code,
                    excerpt=excerpt[: self._excerpt],
                    error=None,
                    retry_after=retry_after,
                    latency_ms=(time.perf_counter() - started) * 1000,
                )
        except httpx.TimeoutException as exc:
            error = f"timeout after {self.timeout:g}s ({type(exc).__name__})"
        except (httpx.HTTPError, SpapsWebhooksError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        return _Response(None, None, error, None, (time.perf_counter() - started) * 1000)

    def _finish_without_attempt(self, delivery_id: str, reason: str) -> AttemptOutcome:
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
        return AttemptOutcome(delivery_id, "cancelled")

    def _record(
        self,
        row: Any,
        endpoint: Any,
        number: int,
        started: datetime,
        response: _Response,
    ) -> AttemptOutcome:
        t = self._t
        status_code, error, retry_after = response.status_code, response.error, response.retry_after
        succeeded = response.succeeded
        excerpt, latency = response.excerpt, response.latency_ms
        now = self._now()
        disable_reason: str | None = None
        retry_in: float | None = None
        if succeeded:
            status = "succeeded"
        elif status_code == 410:
            status = "failed"
            disable_reason = "the endpoint answered 410 Gone"
        else:
            retry_in = self.schedule.next_delay(number)
            if retry_in is not None and retry_after is not None:
                retry_in = max(retry_in, min(retry_after, self._max_retry_after))
            status = "failed" if retry_in is None else "retrying"
            failing_since = endpoint.failing_since or now
            if now - failing_since >= self._disable_after:
                disable_reason = f"failing without success since {failing_since.isoformat()}"
                status, retry_in = "failed", None
        new_deliveries: list[str] = []
        with self._engine.begin() as conn:
            result = conn.execute(
                t.attempts.insert().values(
                    delivery_id=row.id,
                    message_id=row.message_id,
                    endpoint_id=row.endpoint_id,
                    number=number,
                    started_at=started,
                    status_code=status_code,
                    latency_ms=round(latency, 3),
                    response_excerpt=excerpt,
                    error=error,
                    succeeded=succeeded,
                )
            )
            attempt_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
            conn.execute(
                update(t.deliveries)
                .where(t.deliveries.c.id == row.id)
                .values(
                    status="pending" if status == "retrying" else status,
                    next_attempt_at=now + timedelta(seconds=retry_in)
                    if retry_in is not None
                    else None,
                    lease_until=None,
                    enqueued_until=None,
                    last_status_code=status_code,
                    last_error=error,
                    updated_at=now,
                    completed_at=None if status == "retrying" else now,
                )
            )
            e = t.endpoints
            if succeeded:
                conn.execute(update(e).where(e.c.id == endpoint.id).values(failing_since=None))
            elif endpoint.failing_since is None:
                conn.execute(update(e).where(e.c.id == endpoint.id).values(failing_since=now))
            if disable_reason is not None:
                new_deliveries = self._disable(conn, endpoint, disable_reason, now)
        attempt = Attempt(
            id=int(attempt_id),
            delivery_id=row.id,
            message_id=row.message_id,
            endpoint_id=row.endpoint_id,
            number=number,
            started_at=started,
            status_code=status_code,
            latency_ms=round(latency, 3),
            response_excerpt=excerpt,
            error=error,
            succeeded=succeeded,
        )
        if disable_reason is not None and self._on_disabled is not None:
            with self._engine.connect() as conn:
                fresh = conn.execute(
                    select(t.endpoints).where(t.endpoints.c.id == endpoint.id)
                ).one()
            self._on_disabled(Endpoint.from_row(fresh), disable_reason)
        return AttemptOutcome(row.id, status, retry_in, attempt, tuple(new_deliveries))

    def _disable(self, conn: Connection, endpoint: Any, reason: str, now: datetime) -> list[str]:
        e = self._t.endpoints
        conn.execute(
            update(e)
            .where(e.c.id == endpoint.id)
            .values(enabled=False, disabled_reason=reason, updated_at=now)
        )
        data = {
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "reason": reason,
            "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        }
        message_id = new_id("msg")
        return self._fan_out(
            conn,
            {
                "id": message_id,
                "owner": endpoint.owner,
                "event_type": ENDPOINT_DISABLED_EVENT,
                "body": make_body(ENDPOINT_DISABLED_EVENT, data, now),
                "created_at": now,
            },
        )

    # -- sweeping ----------------------------------------------------------------------

    @property
    def lease(self) -> timedelta:
        """How long an attempt may run before it counts as lost."""
        return self._lease

    def mark_enqueued(self, delivery_id: str, for_: timedelta) -> None:
        """Keep the sweeper from enqueuing ``delivery_id`` again for ``for_``."""
        d = self._t.deliveries
        with self._engine.begin() as conn:
            conn.execute(
                update(d).where(d.c.id == delivery_id).values(enqueued_until=self._now() + for_)
            )

    def due(self, *, limit: int = 100, requeue_after: timedelta | None = None) -> list[str]:
        """Deliveries to (re)enqueue now: due retries and attempts whose lease expired.

        Marks them as enqueued for ``requeue_after`` (default: the lease) so a backlog is
        not enqueued again by every sweep.

        Args:
            limit: At most this many ids.
            requeue_after: How long before an enqueued but unstarted delivery is enqueued again.
        """
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
                    .values(enqueued_until=now + (requeue_after or self._lease))
                )
        return ids
