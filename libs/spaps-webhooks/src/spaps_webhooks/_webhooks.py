"""The ``Webhooks`` object: one place that wires tables, services and delivery."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from spaps_jobs import Outbox
from sqlalchemy import Engine, select

from ._builtin_events import TEST_EVENT
from ._delivery import Deliverer
from ._endpoints import EndpointService, Now, utcnow
from ._errors import EndpointNotFoundError
from ._fan_out import make_body
from ._history import DeliveryHistory, Enqueue
from ._models import (
    AttemptOutcome,
    Delivery,
    EndpointDisabledHook,
    EndpointWithSecret,
    FireResult,
    new_id,
)
from ._registry import EventRegistry
from ._reseal import ResealProgress, ResealReport, reseal_secrets
from ._schedule import RetrySchedule
from ._sealing import SecretSealer
from ._ssrf import URLGuard
from ._tables import WebhookTables
from ._transport import DEFAULT_TIMEOUT

FAN_OUT_TOPIC = "spaps_webhooks.fan_out"
"""Outbox topic of published messages; also the name of the Celery task consuming it."""


class Webhooks:
    """Everything spaps-webhooks does, configured once.

    Args:
        engine: Synchronous engine of the database holding the webhook tables (and,
            usually, the outbox).
        tables: The webhook tables (define them on your ``MetaData``).
        outbox: The spaps-jobs outbox ``publish`` writes to.
        registry: Event types and their payload schemas.
        guard: SSRF guard for registration and delivery (default: https only, public
            addresses only).
        timeout: Delivery HTTP timeout in seconds (default 15).
        schedule: Retry schedule (default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
            10 h, 14 h, 20 h, 24 h, each with ±10 % jitter).
        disable_after: Disable an endpoint failing without success this long (default 5 days).
        rotation_overlap: Default overlap of old and new secret on rotation (24 h).
        lease_margin: Seconds on top of the timeouts before an in-flight attempt whose
            worker died is retried.
        on_endpoint_disabled: Hook called after an automatic disable.
        sealer: Seals endpoint secrets at rest (AES-GCM, bound to the endpoint row; the
            first key seals, all keys open). ``None`` stores them unsealed, which only
            suits development: see :meth:`SecretSealer.from_env`.
        now: Clock.

    .. versionchanged:: 0.3.0
       ``sealer``.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        tables: WebhookTables,
        outbox: Outbox,
        registry: EventRegistry | None = None,
        guard: URLGuard | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        schedule: RetrySchedule | None = None,
        disable_after: timedelta = timedelta(days=5),
        rotation_overlap: timedelta = timedelta(hours=24),
        lease_margin: float = 30.0,
        on_endpoint_disabled: EndpointDisabledHook | None = None,
        sealer: SecretSealer | None = None,
        now: Now = utcnow,
    ) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("engine must be a synchronous sqlalchemy Engine")
        if not isinstance(tables, WebhookTables):
            raise TypeError("tables must be WebhookTables")
        if not isinstance(outbox, Outbox):
            raise TypeError("outbox must be a spaps_jobs.Outbox")
        self.engine = engine
        self.tables = tables
        self.outbox = outbox
        self.registry = registry if registry is not None else EventRegistry()
        self.guard = guard if guard is not None else URLGuard()
        if sealer is not None and not isinstance(sealer, SecretSealer):
            raise TypeError("sealer must be a SecretSealer")
        self.rotation_overlap = rotation_overlap
        self.sealer = sealer
        self._now = now
        self.endpoints = EndpointService(
            engine=engine,
            tables=tables,
            guard=self.guard,
            registry=self.registry,
            sealer=sealer,
            now=now,
        )
        self.deliverer = Deliverer(
            engine=engine,
            tables=tables,
            guard=self.guard,
            timeout=timeout,
            schedule=schedule,
            disable_after=disable_after,
            lease_margin=lease_margin,
            on_endpoint_disabled=on_endpoint_disabled,
            sealer=sealer,
            now=now,
        )
        self.history = DeliveryHistory(engine=engine, tables=tables, now=now)

    @property
    def enqueue(self) -> Enqueue | None:
        """How new deliveries get an immediate attempt (set by :func:`register_tasks`)."""
        return self.history.enqueue

    @enqueue.setter
    def enqueue(self, value: Enqueue | None) -> None:
        self.history.enqueue = value

    def message(
        self,
        event_type: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        owner: str,
        message_id: str | None = None,
        endpoint_id: str | None = None,
    ) -> dict[str, Any]:
        """Validate ``payload`` and build the message record ``publish`` stores."""
        data = self.registry.validate(event_type, payload)
        now = self._now()
        record: dict[str, Any] = {
            "id": message_id or new_id("msg"),
            "owner": owner,
            "event_type": event_type,
            "body": make_body(event_type, data, now),
            "created_at": now.isoformat(),
        }
        if endpoint_id is not None:
            record["endpoint_id"] = endpoint_id
        return record

    def publish(
        self,
        session: Any,
        event_type: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        owner: str = "default",
        message_id: str | None = None,
    ) -> str:
        """Publish an event inside the caller's transaction (through the outbox).

        Nothing is sent unless the caller commits. The message row and an outbox row are
        staged in the caller's session; the relay then hands the message to the fan-out
        task, which creates one delivery per subscribed endpoint. Should that task be
        lost (a broker dropping it, a worker killed), the sweeper fans the stored
        message out after a lease.

        .. versionchanged:: 0.3.0
           The message row is written in the caller's transaction.

        Args:
            session: The caller's SQLAlchemy ``Session`` or ``AsyncSession`` (only
                ``session.add`` is called, so no await is needed).
            event_type: A registered type such as ``"result.ready.v1"``.
            payload: A model instance of that type's schema or a mapping validated by it.
            owner: Whose endpoints receive it (tenant, org...).
            message_id: The ``webhook-id``; default a new ``msg_...`` id.

        Returns:
            The message id (the ``webhook-id`` receivers will see).

        Raises:
            UnknownEventTypeError: ``event_type`` is not registered.
            InvalidPayloadError: ``payload`` does not match the schema.
        """
        record = self.message(event_type, payload, owner=owner, message_id=message_id)
        # The message row commits with the producer, so the event never exists only in
        # a broker: the sweeper fans out a message whose fan-out task was lost.
        session.add(
            self.tables.message_row(
                id=record["id"],
                owner=owner,
                event_type=event_type,
                body=record["body"],
                endpoint_id=None,
                created_at=datetime.fromisoformat(record["created_at"]),
                fanned_out_at=None,
            )
        )
        self.outbox.add(session, FAN_OUT_TOPIC, record, message_id=record["id"])
        return str(record["id"])

    def fan_out(self, record: Mapping[str, Any]) -> list[str]:
        """Store a published message and create its deliveries; enqueue them if possible."""
        ids = self.deliverer.fan_out(record)
        if self.enqueue is not None:
            for delivery_id in ids:
                self.enqueue(delivery_id)
        return ids

    def deliver(self, delivery_id: str) -> AttemptOutcome:
        """Attempt one delivery now (what the delivery task runs)."""
        outcome = self.deliverer.attempt(delivery_id)
        if self.enqueue is not None:
            for new in outcome.new_deliveries:
                self.enqueue(new)
        return outcome

    def test_fire(self, owner: str, endpoint_id: str) -> FireResult:
        """Send a ``webhook.test.v1`` sample to one endpoint now and return the attempt.

        Raises:
            EndpointNotFoundError: No such endpoint for ``owner``.
        """
        self.endpoints.get(owner, endpoint_id)
        record = self.message(
            TEST_EVENT, {"endpoint_id": endpoint_id}, owner=owner, endpoint_id=endpoint_id
        )
        created = self.deliverer.fan_out(record)
        if not created:
            raise EndpointNotFoundError(f"endpoint {endpoint_id!r} is disabled")
        outcome = self.deliverer.attempt(created[0])
        d = self.tables.deliveries
        with self.engine.connect() as conn:
            row = conn.execute(select(d).where(d.c.id == created[0])).one()
        return FireResult(
            message_id=record["id"], delivery=Delivery.from_row(row), attempt=outcome.attempt
        )

    def rotate_secret(
        self, owner: str, endpoint_id: str, *, overlap: timedelta | None = None
    ) -> EndpointWithSecret:
        """Rotate an endpoint's secret with the configured overlap (see ``EndpointService``)."""
        return self.endpoints.rotate_secret(
            owner, endpoint_id, overlap=self.rotation_overlap if overlap is None else overlap
        )

    def reseal_secrets(
        self, *, batch_size: int = 100, on_progress: ResealProgress | None = None
    ) -> ResealReport:
        """Re-seal every endpoint secret under the first configured key (see
        :func:`reseal_secrets`).

        Raises:
            ValueError: No sealer is configured.

        .. versionadded:: 0.3.0
        """
        if self.sealer is None:
            raise ValueError("no sealing keys are configured")
        return reseal_secrets(
            self.engine, self.tables, self.sealer, batch_size=batch_size, on_progress=on_progress
        )

    def create_tables(self) -> None:
        """Create the webhook tables and the outbox table if missing (dev and tests)."""
        self.tables.metadata.create_all(self.engine)
