"""Webhook events ingredient publishes, and the in-process delivery loop.

ingredient has no Celery worker of its own: a daemon thread relays the outbox
(spaps-jobs), fans messages out to endpoints and attempts due deliveries
(spaps-webhooks), with the library's retry schedule and delivery log.

The fan-out is the outbox's consumer: each message is confirmed once its pass has
committed, and the relay publishes again (to the fan-out, a no-op the second time) a
message left unconfirmed after ``outbox_redeliver_after``, e.g. by a process that died
between the two; one never confirmed goes to the dead-letter store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel
from spaps_jobs import DeadLetterStore, OutboxMessage, Redelivery, Relay
from spaps_webhooks import EventRegistry, Webhooks, create_webhooks
from sqlalchemy import Engine, create_engine

from ingredient.db import OUTBOX, WEBHOOK_TABLES
from ingredient.settings import Settings

INGREDIENT_UPDATED = "ingredient.updated.v1"
SUBSCRIBER = "htma"
_log = logging.getLogger("ingredient.webhooks")


class IngredientUpdatedV1(BaseModel):
    """An ingredient of the catalog changed; ``changed`` names the fields."""

    code: str
    name: str
    version: int
    changed: list[str]


def event_registry() -> EventRegistry:
    """The events ingredient publishes."""
    registry = EventRegistry()
    registry.register(INGREDIENT_UPDATED, IngredientUpdatedV1)
    return registry


Clock = Callable[[], datetime]
"""The relay's current time (aware UTC); tests inject one."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebhookRuntime:
    """Webhooks on a sync engine, plus the delivery loop.

    Args:
        engine: the sync engine of the service's database.
        webhooks: the configured webhooks.
        redelivery: when the relay publishes an unconfirmed message again (``None``: never).
        dead_letters: where messages never confirmed go (else only logged).
        clock: the relay's current time.
        interval: seconds between passes of the delivery thread.
    """

    engine: Engine
    webhooks: Webhooks
    redelivery: Redelivery | None = None
    dead_letters: DeadLetterStore | None = None
    clock: Clock = _utcnow
    interval: float = 0.5
    relay: Relay = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _queue: list[str] = field(default_factory=list)
    _fanned_out: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        # fan_out and deliver hand new delivery ids to ``enqueue``: attempt them this pass.
        self.webhooks.enqueue = self._queue.append
        self.relay = Relay(
            OUTBOX,
            self.engine,
            self.fan_out,
            redelivery=self.redelivery,
            dead_letters=self.dead_letters,
            clock=self.clock,
        )

    def run_once(self) -> int:
        """Relay pending events, then attempt new and due deliveries; returns attempts made."""
        self._fanned_out.clear()
        self.relay.run_once()
        self.confirm_fanned_out()
        ids = [*self._queue, *self.webhooks.deliverer.due(limit=100)]
        self._queue.clear()
        for delivery_id in dict.fromkeys(ids):
            self.webhooks.deliver(delivery_id)
        return len(ids)

    def fan_out(self, batch: Sequence[OutboxMessage]) -> None:
        """The relay's dispatch: fan each message out (idempotent), to confirm after."""
        for message in batch:
            self.webhooks.fan_out(message.payload)
            self._fanned_out.append(message.id)

    def confirm_fanned_out(self) -> None:
        """Confirm the messages fanned out since the last call.

        Only once the relay's pass has committed: on PostgreSQL the relay holds the
        rows' locks while it dispatches, so confirming from inside the dispatch would
        wait for itself.
        """
        if not self._fanned_out:
            return
        with self.engine.begin() as conn:
            for message_id in self._fanned_out:
                OUTBOX.confirm(conn, message_id)
        self._fanned_out.clear()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # keep delivering after a database hiccup
                _log.exception("webhook delivery pass failed")

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread = threading.Thread(target=self._loop, name="ingredient-webhooks", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and dispose of the engine."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.engine.dispose()
        if self.dead_letters is not None:
            self.dead_letters.engine.dispose()

    def subscribe(self, url: str, secret: str | None) -> None:
        """Make sure ``url`` receives ``ingredient.updated.v1`` (idempotent)."""
        endpoints = self.webhooks.endpoints
        if any(e.url == url for e in endpoints.list(SUBSCRIBER)):
            return
        endpoints.create(SUBSCRIBER, url, event_types=[INGREDIENT_UPDATED], secret=secret)


def build_webhooks(settings: Settings, *, clock: Clock = _utcnow) -> WebhookRuntime:
    """The webhook runtime for ``settings`` (not started).

    Args:
        settings: the service settings (database, webhooks, outbox redelivery).
        clock: the relay's current time (tests move it past the redelivery window).
    """
    # create_webhooks seals endpoint secrets with settings.webhook_sealing_keys.
    webhooks = create_webhooks(
        settings, tables=WEBHOOK_TABLES, outbox=OUTBOX, registry=event_registry()
    )
    # The migrations create the dead-letter table: the store finds it and creates nothing.
    dead_letters = DeadLetterStore(create_engine(settings.dead_letters_url(), pool_pre_ping=True))
    return WebhookRuntime(
        webhooks.engine,
        webhooks,
        redelivery=settings.redelivery(),
        dead_letters=dead_letters,
        clock=clock,
    )
