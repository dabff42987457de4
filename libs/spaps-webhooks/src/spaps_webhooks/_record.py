"""After an attempt: log it, decide what follows (retry, fail, disable) and store that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from ._builtin_events import ENDPOINT_DISABLED_EVENT
from ._endpoints import Now
from ._fan_out import fan_out, make_body
from ._models import Attempt, AttemptOutcome, Endpoint, EndpointDisabledHook, new_id
from ._schedule import RetrySchedule
from ._send import SendResult
from ._tables import WebhookTables


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: str
    retry_in: float | None = None
    disable_reason: str | None = None


class AttemptRecorder:
    """Writes the attempt log and the delivery's next state after each attempt.

    Args:
        engine: Synchronous engine holding the webhook tables.
        tables: The webhook tables.
        schedule: The retry schedule.
        disable_after: An endpoint failing without a success this long is disabled.
        max_retry_after: Upper bound honoured for ``Retry-After``.
        lease: Lease of the owner notifications an automatic disable creates.
        on_endpoint_disabled: Extra hook after an automatic disable.
        now: Clock.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        tables: WebhookTables,
        schedule: RetrySchedule,
        disable_after: timedelta,
        max_retry_after: float,
        lease: timedelta,
        on_endpoint_disabled: EndpointDisabledHook | None,
        now: Now,
    ) -> None:
        self._engine = engine
        self._t = tables
        self.schedule = schedule
        self._disable_after = disable_after
        self._max_retry_after = max_retry_after
        self._lease = lease
        self._on_disabled = on_endpoint_disabled
        self._now = now

    def _verdict(self, endpoint: Any, number: int, response: SendResult, now: datetime) -> _Verdict:
        if response.succeeded:
            return _Verdict("succeeded")
        if response.status_code == 410:
            return _Verdict("failed", disable_reason="the endpoint answered 410 Gone")
        failing_since = endpoint.failing_since or now
        if now - failing_since >= self._disable_after:
            reason = f"failing without success since {failing_since.isoformat()}"
            return _Verdict("failed", disable_reason=reason)
        retry_in = self.schedule.next_delay(number)
        if retry_in is None:
            return _Verdict("failed")
        if response.retry_after is not None:
            retry_in = max(retry_in, min(response.retry_after, self._max_retry_after))
        return _Verdict("retrying", retry_in)

    def record(
        self, row: Any, endpoint: Any, number: int, started: datetime, response: SendResult
    ) -> AttemptOutcome:
        """Log attempt ``number`` of delivery ``row`` to ``endpoint`` and schedule what follows.

        Args:
            row: The delivery row as claimed.
            endpoint: The endpoint row.
            number: The attempt's number (1 for the first).
            started: When the attempt started.
            response: What the receiver answered.
        """
        t = self._t
        now = self._now()
        verdict = self._verdict(endpoint, number, response, now)
        status, retry_in = verdict.status, verdict.retry_in
        latency_ms = round(response.latency_ms, 3)
        new_deliveries: list[str] = []
        with self._engine.begin() as conn:
            result = conn.execute(
                t.attempts.insert().values(
                    delivery_id=row.id,
                    message_id=row.message_id,
                    endpoint_id=row.endpoint_id,
                    number=number,
                    started_at=started,
                    status_code=response.status_code,
                    latency_ms=latency_ms,
                    response_excerpt=response.excerpt,
                    error=response.error,
                    succeeded=response.succeeded,
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
                    last_status_code=response.status_code,
                    last_error=response.error,
                    updated_at=now,
                    completed_at=None if status == "retrying" else now,
                )
            )
            e = t.endpoints
            if response.succeeded:
                conn.execute(update(e).where(e.c.id == endpoint.id).values(failing_since=None))
            elif endpoint.failing_since is None:
                conn.execute(update(e).where(e.c.id == endpoint.id).values(failing_since=now))
            if verdict.disable_reason is not None:
                new_deliveries = self._disable(conn, endpoint, verdict.disable_reason, now)
        attempt = Attempt(
            id=int(attempt_id),
            delivery_id=row.id,
            message_id=row.message_id,
            endpoint_id=row.endpoint_id,
            number=number,
            started_at=started,
            status_code=response.status_code,
            latency_ms=latency_ms,
            response_excerpt=response.excerpt,
            error=response.error,
            succeeded=response.succeeded,
        )
        if verdict.disable_reason is not None and self._on_disabled is not None:
            with self._engine.connect() as conn:
                fresh = conn.execute(
                    select(t.endpoints).where(t.endpoints.c.id == endpoint.id)
                ).one()
            self._on_disabled(Endpoint.from_row(fresh), verdict.disable_reason)
        return AttemptOutcome(row.id, status, retry_in, attempt, tuple(new_deliveries))

    def _disable(self, conn: Connection, endpoint: Any, reason: str, now: datetime) -> list[str]:
        """Disable ``endpoint`` and tell its owner with a ``webhook.endpoint.disabled.v1``."""
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
        message = {
            "id": new_id("msg"),
            "owner": endpoint.owner,
            "event_type": ENDPOINT_DISABLED_EVENT,
            "body": make_body(ENDPOINT_DISABLED_EVENT, data, now),
            "created_at": now,
        }
        return fan_out(conn, self._t, message, now=now, enqueued_until=now + self._lease)
